<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Test\Unit\Core;

use B1Bridge\Webhook\Core\BackoffSchedule;
use B1Bridge\Webhook\Core\Dispatcher;
use B1Bridge\Webhook\Core\DispatchSettings;
use B1Bridge\Webhook\Core\EnvelopeBuilder;
use B1Bridge\Webhook\Core\OutboxStateMachine;
use B1Bridge\Webhook\Core\OutboxStatus;
use B1Bridge\Webhook\Core\PayloadUnavailable;
use B1Bridge\Webhook\Core\StandardWebhookSigner;
use B1Bridge\Webhook\Core\Transition;
use B1Bridge\Webhook\Core\TransportResult;
use B1Bridge\Webhook\Test\Unit\Fake\FixedPayloadSource;
use B1Bridge\Webhook\Test\Unit\Fake\InMemoryOutboxStore;
use B1Bridge\Webhook\Test\Unit\Fake\ScriptedTransport;
use PHPUnit\Framework\TestCase;

final class DispatcherTest extends TestCase
{
    private const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    private const T0 = 1_800_000_000;

    private int $now = self::T0;
    private InMemoryOutboxStore $store;
    private FixedPayloadSource $payloads;

    protected function setUp(): void
    {
        $this->store = new InMemoryOutboxStore();
        $this->payloads = new FixedPayloadSource(['entity_id' => 3, 'increment_id' => '000000003', 'grand_total' => 39.9, 'state' => 'new']);
    }

    private function dispatcher(ScriptedTransport $transport, int $maxAttempts = 3): Dispatcher
    {
        $settings = new DispatchSettings(
            'https://b1bridge.test/webhooks/magento',
            new StandardWebhookSigner(self::SECRET),
            5,
            15,
            new OutboxStateMachine(new BackoffSchedule([10, 100]), $maxAttempts)
        );
        return new Dispatcher($this->store, $this->payloads, $transport, new EnvelopeBuilder(), $settings, fn (): int => $this->now);
    }

    private function record(): int
    {
        return $this->store->record('msg_A1', 'order.placed', 'order', 3, self::T0);
    }

    public function testAnEventIsSentSignedInTheEnvelopeAndMarkedDelivered(): void
    {
        $id = $this->record();
        $http = new ScriptedTransport(new TransportResult(202, '{"status":"accepted"}'));
        self::assertSame([$id => 'delivered'], $this->dispatcher($http)->sendDue(10));

        $request = $http->requests[0];
        self::assertSame('https://b1bridge.test/webhooks/magento', $request['url']);
        self::assertSame('msg_A1', $request['headers']['webhook-id']);
        self::assertSame((string) self::T0, $request['headers']['webhook-timestamp']);
        $signer = new StandardWebhookSigner(self::SECRET);
        self::assertSame($signer->sign('msg_A1', self::T0, $request['body']), $request['headers']['webhook-signature']);
        $body = json_decode($request['body'], true);
        self::assertSame('order.placed', $body['type']);
        self::assertSame('000000003', $body['data']['order']['increment_id']);

        $row = $this->store->rows[$id];
        self::assertSame(OutboxStatus::DELIVERED, $row['status']);
        self::assertSame(1, $row['attempts']);
        self::assertSame(self::T0, $row['delivered_at']);
        self::assertSame([], $this->dispatcher(new ScriptedTransport())->sendDue(10), 'a delivered event is never sent again');
    }

    public function testARetryWaitsForItsTimeAndResendsTheSameIdAndBytesWithAFreshTimestamp(): void
    {
        $id = $this->record();
        $http = new ScriptedTransport(new TransportResult(503, 'database unavailable'), new TransportResult(200, '{"status":"duplicate"}'));
        self::assertSame([$id => 'pending'], $this->dispatcher($http)->sendDue(10));
        self::assertSame(self::T0 + 10, $this->store->rows[$id]['next_attempt_at']);

        $this->now = self::T0 + 9;
        self::assertSame([], $this->dispatcher($http)->sendDue(10), 'not due before its backoff');
        $this->payloads->order['state'] = 'canceled'; // the order changed meanwhile
        $this->now = self::T0 + 10;
        self::assertSame([$id => 'delivered'], $this->dispatcher($http)->sendDue(10));

        [$first, $second] = $http->requests;
        self::assertSame($first['headers']['webhook-id'], $second['headers']['webhook-id']);
        self::assertSame($first['body'], $second['body'], 'one webhook-id, one body');
        self::assertSame((string) (self::T0 + 10), $second['headers']['webhook-timestamp']);
        self::assertNotSame($first['headers']['webhook-signature'], $second['headers']['webhook-signature']);
        self::assertSame(1, $this->payloads->reads, 'the body is built once');
    }

    public function testAClientErrorFailsAtOnceAndIsNotRetried(): void
    {
        $id = $this->record();
        $http = new ScriptedTransport(new TransportResult(401, '{"code":"unauthorized"}'));
        self::assertSame([$id => 'failed'], $this->dispatcher($http, 10)->sendDue(10));
        self::assertSame(401, $this->store->rows[$id]['last_http_status']);
        $this->now += 86400 * 30;
        self::assertSame([], $this->dispatcher($http, 10)->sendDue(10));
        self::assertCount(1, $http->requests);
    }

    public function testAfterTheLastAttemptTheEventIsKeptAsFailedAndAResendDeliversIt(): void
    {
        $id = $this->record();
        $http = new ScriptedTransport(
            TransportResult::failed('timed out'),
            new TransportResult(502),
            new TransportResult(500),
            new TransportResult(202)
        );
        $d = $this->dispatcher($http, 3);
        foreach (['pending', 'pending', 'failed'] as $expected) {
            self::assertSame([$id => $expected], $d->sendDue(10));
            $this->now += 1000;
        }
        self::assertSame(3, $this->store->rows[$id]['attempts']);
        self::assertStringContainsString('gave up after 3 attempts', $this->store->rows[$id]['last_error']);
        self::assertSame([], $d->sendDue(10), 'failed events wait for an operator');

        $this->store->resend($id, $this->now);
        self::assertSame([$id => 'delivered'], $d->sendDue(10));
        self::assertSame('msg_A1', $http->requests[3]['headers']['webhook-id']);
        self::assertSame($http->requests[0]['body'], $http->requests[3]['body']);
    }

    public function testAnEntityThatNoLongerExistsFailsWithoutACall(): void
    {
        $id = $this->record();
        $this->payloads->failure = new PayloadUnavailable('order 3 no longer exists');
        $http = new ScriptedTransport();
        self::assertSame([$id => 'failed'], $this->dispatcher($http)->sendDue(10));
        self::assertSame('order 3 no longer exists', $this->store->rows[$id]['last_error']);
        self::assertSame([], $http->requests);
    }

    public function testAPassingReadFailureIsRetried(): void
    {
        $id = $this->record();
        $this->payloads->failure = new \RuntimeException('SQLSTATE[HY000]: General error: 1205 Lock wait timeout exceeded');
        self::assertSame([$id => 'pending'], $this->dispatcher(new ScriptedTransport())->sendDue(10));
        self::assertStringContainsString('Lock wait timeout', $this->store->rows[$id]['last_error']);
        self::assertNull($this->store->rows[$id]['payload']);
    }

    public function testTheConsumerSendsItsRowOnlyIfNobodyHasIt(): void
    {
        $id = $this->record();
        $http = new ScriptedTransport(new TransportResult(202));
        $d = $this->dispatcher($http);
        self::assertSame('delivered', $d->sendOne($id));
        self::assertNull($d->sendOne($id), 'a second message for the same row sends nothing');
        self::assertNull($d->sendOne(999));
        self::assertCount(1, $http->requests);
    }

    public function testACrashedSendersRowIsTakenOverAfterItsLeaseAndItsLateResultIsIgnored(): void
    {
        $id = $this->record();
        // A sender claims the row and dies before it records anything.
        $lease = self::T0 + 5 + 15 + 60;
        $stale = $this->store->claimOne($id, self::T0, $lease);
        self::assertNotNull($stale);
        $http = new ScriptedTransport(new TransportResult(202));
        self::assertSame([], $this->dispatcher($http)->sendDue(10), 'held while the lease runs');

        $this->now = $lease + 1;
        self::assertSame([$id => 'delivered'], $this->dispatcher($http)->sendDue(10));
        self::assertSame(2, $this->store->rows[$id]['attempts'], 'the lost attempt counts');

        $late = new Transition(OutboxStatus::FAILED, 0, 500, 'late', null);
        self::assertFalse($this->store->finishAttempt($id, $stale->attempts, $late));
        self::assertSame(OutboxStatus::DELIVERED, $this->store->rows[$id]['status']);
    }

    public function testARowWhoseSendersKeptDyingFailsOnceTheBudgetIsSpent(): void
    {
        $id = $this->record();
        for ($i = 0; $i < 3; $i++) {
            $this->store->claimOne($id, $this->now, $this->now + 1);
            $this->now += 2;
        }
        $http = new ScriptedTransport();
        self::assertSame([$id => 'failed'], $this->dispatcher($http, 3)->sendDue(10));
        self::assertStringContainsString('interrupted', $this->store->rows[$id]['last_error']);
        self::assertSame([], $http->requests);
    }

    public function testABatchTakesTheOldestDueRowsUpToItsSize(): void
    {
        $ids = [];
        for ($i = 0; $i < 5; $i++) {
            $ids[] = $this->store->record("msg_$i", 'order.updated', 'order', 3, self::T0);
        }
        $http = new ScriptedTransport(...array_fill(0, 5, new TransportResult(202)));
        $d = $this->dispatcher($http);
        self::assertSame(array_slice($ids, 0, 3), array_keys($d->sendDue(3)));
        self::assertSame(array_slice($ids, 3), array_keys($d->sendDue(3)));
    }

    public function testWhileB1bridgeIsDownABatchSpendsOneAttemptNotOnePerEvent(): void
    {
        $ids = [];
        for ($i = 0; $i < 4; $i++) {
            $ids[] = $this->store->record("msg_$i", 'order.updated', 'order', 3, self::T0);
        }
        $http = new ScriptedTransport(new TransportResult(202), TransportResult::failed('no answer: Connection refused'));
        self::assertSame([$ids[0] => 'delivered', $ids[1] => 'pending'], $this->dispatcher($http)->sendDue(10));
        self::assertSame([0, 0], [$this->store->rows[$ids[2]]['attempts'], $this->store->rows[$ids[3]]['attempts']]);
        self::assertSame(OutboxStatus::PENDING, $this->store->rows[$ids[3]]['status']);
    }

    public function testSettingsRefuseAUrlThatCannotBeb1bridge(): void
    {
        foreach (['', 'b1bridge.example.com/webhooks/magento', 'ftp://b1bridge/x'] as $url) {
            self::assertNotNull(DispatchSettings::problemWithUrl($url), $url);
        }
        self::assertNull(DispatchSettings::problemWithUrl('http://127.0.0.1:8080/webhooks/magento'));
    }
}
