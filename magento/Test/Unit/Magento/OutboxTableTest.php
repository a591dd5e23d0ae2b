<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Test\Unit\Magento;

use B1Bridge\Webhook\Core\OutboxStatus;
use B1Bridge\Webhook\Core\Transition;
use B1Bridge\Webhook\Model\OutboxTable;
use B1Bridge\Webhook\Test\Unit\Fake\SingleConnection;
use B1Bridge\Webhook\Test\Unit\Fake\SqliteAdapter;
use PHPUnit\Framework\TestCase;

/** What only the SQL table does: idempotent recording, the admin's reads, resend, purge. */
final class OutboxTableTest extends TestCase
{
    private const T0 = 1_800_000_000;

    private SqliteAdapter $db;
    private OutboxTable $table;

    protected function setUp(): void
    {
        $this->db = new SqliteAdapter(__DIR__ . '/../../../etc/db_schema.xml');
        $this->table = new OutboxTable(new SingleConnection($this->db));
    }

    private function record(string $key, string $type = 'order.placed', int $entity = 42): ?int
    {
        return $this->table->record($this->db, "$type:$key", "msg_$key", $type, 'order', $entity, '0000000' . $entity, self::T0);
    }

    private function finish(int $id, string $status, ?int $http, int $at = self::T0): void
    {
        $m = $this->table->claimOne($id, $at, $at + 80);
        self::assertNotNull($m);
        $this->table->finishAttempt($id, $m->attempts, new Transition($status, $at, $http, $status === 'failed' ? "HTTP $http" : null, $status === 'delivered' ? $at : null));
    }

    public function testRecordingAnEventKeyTwiceKeepsTheFirstRow(): void
    {
        $id = $this->record('42');
        self::assertSame(1, $id);
        self::assertNull($this->table->record($this->db, 'order.placed:42', 'msg_other', 'order.placed', 'order', 42, null, self::T0 + 5));
        self::assertSame('msg_42', $this->db->fetchOne('SELECT webhook_id FROM b1bridge_webhook_outbox'));
        self::assertSame('1', (string) $this->db->fetchOne('SELECT COUNT(*) FROM b1bridge_webhook_outbox'));
    }

    public function testTheAdminSeesFailedEventsNewestFirstAndEveryStatusCounted(): void
    {
        $a = $this->record('a');
        $b = $this->record('b');
        $c = $this->record('c');
        $this->finish($a, 'failed', 401);
        $this->finish($b, 'failed', 422);
        $this->finish($c, 'delivered', 202);
        $this->record('d');
        $failed = $this->table->failed(10);
        self::assertSame([$b, $a], array_map(static fn ($r) => (int) $r['outbox_id'], $failed));
        self::assertSame('HTTP 422', $failed[0]['last_error']);
        self::assertArrayNotHasKey('payload', $failed[0], 'bodies stay out of the list');
        self::assertSame([OutboxStatus::PENDING => 1, OutboxStatus::SENDING => 0, OutboxStatus::DELIVERED => 1, OutboxStatus::FAILED => 2], $this->table->countByStatus());
    }

    public function testOnlyFailedEventsAreResent(): void
    {
        $a = $this->record('a');
        $b = $this->record('b');
        $this->finish($a, 'failed', 401);
        $this->finish($b, 'delivered', 202);
        self::assertTrue($this->table->resend($a, self::T0 + 10));
        self::assertFalse($this->table->resend($a, self::T0 + 10), 'already pending');
        self::assertFalse($this->table->resend($b, self::T0 + 10));
        self::assertFalse($this->table->resend(999, self::T0 + 10));
    }

    public function testPurgingKeepsFailedAndWaitingEvents(): void
    {
        $old = $this->record('old');
        $new = $this->record('new');
        $failed = $this->record('failed');
        $this->record('waiting');
        $this->finish($old, 'delivered', 202, self::T0);
        $this->finish($new, 'delivered', 202, self::T0 + 100);
        $this->finish($failed, 'failed', 401, self::T0);
        self::assertSame(1, $this->table->purgeDelivered(self::T0 + 50));
        self::assertSame([OutboxStatus::PENDING => 1, OutboxStatus::SENDING => 0, OutboxStatus::DELIVERED => 1, OutboxStatus::FAILED => 1], $this->table->countByStatus());
    }

    public function testSendTestPicksTheNewestOrderB1bridgeAccepted(): void
    {
        self::assertNull($this->table->newestDeliveredOrderId());
        $a = $this->record('a', 'order.placed', 7);
        $b = $this->record('b', 'order.placed', 8);
        $this->record('c', 'order.placed', 9);
        $u = $this->record('u', 'order.updated', 10);
        $this->finish($a, 'delivered', 202);
        $this->finish($b, 'delivered', 202);
        $this->finish($u, 'delivered', 202);
        self::assertSame(8, $this->table->newestDeliveredOrderId());
    }
}
