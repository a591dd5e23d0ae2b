<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Test\Unit\Magento;

use B1Bridge\Webhook\Core\OutboxStatus;
use B1Bridge\Webhook\Core\OutboxStore;
use B1Bridge\Webhook\Core\Transition;
use B1Bridge\Webhook\Model\OutboxTable;
use B1Bridge\Webhook\Test\Unit\Fake\InMemoryOutboxStore;
use B1Bridge\Webhook\Test\Unit\Fake\SingleConnection;
use B1Bridge\Webhook\Test\Unit\Fake\SqliteAdapter;
use PHPUnit\Framework\TestCase;

/**
 * The same rules for Model\OutboxTable (its SQL, on SQLite) and the in-memory twin the other
 * tests and the b1bridge check use: what may be claimed, the attempt fence, resend.
 */
final class OutboxStoreContractTest extends TestCase
{
    private const T0 = 1_800_000_000;

    /**
     * @return array<string, array{0: callable(): array{0: OutboxStore, 1: callable, 2: callable, 3: callable}}>
     */
    public static function stores(): array
    {
        return [
            'in memory' => [static function (): array {
                $s = new InMemoryOutboxStore();
                return [
                    $s,
                    static fn (string $key, int $at): int => $s->record('msg_' . $key, 'order.placed', 'order', 42, $at),
                    static fn (int $id): array => $s->rows[$id],
                    static fn (int $id, int $now) => $s->resend($id, $now),
                ];
            }],
            'OutboxTable on SQLite' => [static function (): array {
                $db = new SqliteAdapter(__DIR__ . '/../../../etc/db_schema.xml');
                $t = new OutboxTable(new SingleConnection($db));
                return [
                    $t,
                    static fn (string $key, int $at): int => (int) $t->record($db, 'order.placed:' . $key, 'msg_' . $key, 'order.placed', 'order', 42, '000000042', $at),
                    static function (int $id) use ($db): array {
                        $row = $db->fetchRow('SELECT * FROM b1bridge_webhook_outbox WHERE outbox_id = ?', [$id]);
                        foreach (['attempts', 'next_attempt_at', 'locked_until', 'last_http_status', 'delivered_at'] as $k) {
                            $row[$k] = $row[$k] === null ? null : (int) $row[$k];
                        }
                        return $row;
                    },
                    static fn (int $id, int $now) => $t->resend($id, $now),
                ];
            }],
        ];
    }

    /** @dataProvider stores */
    public function testARecordedEventIsClaimedOnceWhileItsLeaseRuns(callable $make): void
    {
        [$store, $record, $row] = $make();
        $id = $record('a', self::T0);
        $claimed = $store->claimDue(10, self::T0, self::T0 + 80);
        self::assertCount(1, $claimed);
        self::assertSame([$id, 'msg_a', 'order.placed', 'order', 42, self::T0, 1, null], [
            $claimed[0]->id, $claimed[0]->webhookId, $claimed[0]->eventType, $claimed[0]->entityType,
            $claimed[0]->entityId, $claimed[0]->occurredAt, $claimed[0]->attempts, $claimed[0]->payload,
        ]);
        self::assertSame(OutboxStatus::SENDING, $row($id)['status']);
        self::assertSame([], $store->claimDue(10, self::T0 + 80, self::T0 + 160), 'held until the lease ends');
        self::assertNull($store->claimOne($id, self::T0 + 1, self::T0 + 81));
    }

    /** @dataProvider stores */
    public function testAnEventIsNotClaimedBeforeItIsDue(callable $make): void
    {
        [$store, $record] = $make();
        $id = $record('a', self::T0);
        self::assertNull($store->claimOne($id, self::T0 - 1, self::T0 + 79));
        self::assertNotNull($store->claimOne($id, self::T0, self::T0 + 80));
    }

    /** @dataProvider stores */
    public function testAnExpiredLeaseIsTakenOverAndTheStaleSenderIsFencedOut(callable $make): void
    {
        [$store, $record, $row] = $make();
        $id = $record('a', self::T0);
        $stale = $store->claimOne($id, self::T0, self::T0 + 80);
        $store->storePayload($id, $stale->attempts, '{"stale":true}');
        $fresh = $store->claimOne($id, self::T0 + 81, self::T0 + 161);
        self::assertSame(2, $fresh->attempts);
        self::assertSame('{"stale":true}', $fresh->payload, 'the body built by the first attempt is kept');

        $store->storePayload($id, $stale->attempts, '{"late":true}');
        self::assertFalse($store->finishAttempt($id, $stale->attempts, new Transition(OutboxStatus::FAILED, 0, 401, 'late', null)));
        self::assertSame(OutboxStatus::SENDING, $row($id)['status']);
        self::assertTrue($store->finishAttempt($id, $fresh->attempts, new Transition(OutboxStatus::DELIVERED, self::T0 + 90, 202, null, self::T0 + 90)));
        $r = $row($id);
        self::assertSame([OutboxStatus::DELIVERED, 202, self::T0 + 90, null], [$r['status'], $r['last_http_status'], $r['delivered_at'], $r['locked_until']]);
        self::assertSame('{"stale":true}', $r['payload']);
        self::assertFalse($store->finishAttempt($id, $fresh->attempts, new Transition(OutboxStatus::FAILED, 0, 500, 'twice', null)), 'only once');
    }

    /** @dataProvider stores */
    public function testARetryWaitsForItsTime(callable $make): void
    {
        [$store, $record, $row] = $make();
        $id = $record('a', self::T0);
        $m = $store->claimOne($id, self::T0, self::T0 + 80);
        self::assertTrue($store->finishAttempt($id, $m->attempts, new Transition(OutboxStatus::PENDING, self::T0 + 300, 503, 'HTTP 503', null)));
        self::assertSame('HTTP 503', $row($id)['last_error']);
        self::assertSame([], $store->claimDue(10, self::T0 + 299, self::T0 + 379));
        self::assertSame(2, $store->claimDue(10, self::T0 + 300, self::T0 + 380)[0]->attempts);
    }

    /** @dataProvider stores */
    public function testAResentEventGetsAFreshBudgetWithTheSameIdentity(callable $make): void
    {
        [$store, $record, $row, $resend] = $make();
        $id = $record('a', self::T0);
        $m = $store->claimOne($id, self::T0, self::T0 + 80);
        $store->storePayload($id, $m->attempts, '{"body":1}');
        $store->finishAttempt($id, $m->attempts, new Transition(OutboxStatus::FAILED, self::T0, 401, 'HTTP 401', null));
        self::assertSame([], $store->claimDue(10, self::T0 + 86400, self::T0 + 86480), 'failed waits for an operator');

        $resend($id, self::T0 + 1000);
        $r = $row($id);
        self::assertSame([OutboxStatus::PENDING, 0, self::T0 + 1000, null], [$r['status'], $r['attempts'], $r['next_attempt_at'], $r['last_error']]);
        $again = $store->claimOne($id, self::T0 + 1000, self::T0 + 1080);
        self::assertSame(['msg_a', 1, '{"body":1}'], [$again->webhookId, $again->attempts, $again->payload]);
    }

    /** @dataProvider stores */
    public function testABatchIsOldestFirstAndBounded(callable $make): void
    {
        [$store, $record] = $make();
        $ids = [$record('a', self::T0), $record('b', self::T0), $record('c', self::T0)];
        self::assertSame(array_slice($ids, 0, 2), array_map(static fn ($m) => $m->id, $store->claimDue(2, self::T0, self::T0 + 80)));
        self::assertSame([$ids[2]], array_map(static fn ($m) => $m->id, $store->claimDue(2, self::T0, self::T0 + 80)));
    }
}
