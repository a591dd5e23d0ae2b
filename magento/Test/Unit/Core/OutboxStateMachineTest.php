<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Test\Unit\Core;

use B1Bridge\Webhook\Core\BackoffSchedule;
use B1Bridge\Webhook\Core\DeliveryOutcome;
use B1Bridge\Webhook\Core\OutboxStateMachine;
use B1Bridge\Webhook\Core\OutboxStatus;
use B1Bridge\Webhook\Core\TransportResult;
use PHPUnit\Framework\TestCase;

final class OutboxStateMachineTest extends TestCase
{
    private const NOW = 1_800_000_000;

    private function machine(int $maxAttempts = 3): OutboxStateMachine
    {
        return new OutboxStateMachine(new BackoffSchedule([10, 100]), $maxAttempts);
    }

    private static function answer(?int $status, array $headers = []): DeliveryOutcome
    {
        return DeliveryOutcome::fromResponse($status === null ? TransportResult::failed('timed out') : new TransportResult($status, 'body', $headers));
    }

    public function testADeliveredEventIsFinal(): void
    {
        $t = $this->machine()->afterAttempt(1, self::answer(202), self::NOW);
        self::assertSame(OutboxStatus::DELIVERED, $t->status);
        self::assertSame(self::NOW, $t->deliveredAt);
        self::assertNull($t->error);
        self::assertSame(202, $t->httpStatus);
    }

    public function testARetryableFailureWaitsByTheScheduleAndKeepsTheReason(): void
    {
        $m = $this->machine();
        $first = $m->afterAttempt(1, self::answer(503), self::NOW);
        self::assertSame(OutboxStatus::PENDING, $first->status);
        self::assertSame(self::NOW + 10, $first->nextAttemptAt);
        self::assertStringContainsString('HTTP 503', (string) $first->error);
        $second = $m->afterAttempt(2, self::answer(null), self::NOW);
        self::assertSame(self::NOW + 100, $second->nextAttemptAt);
        self::assertNull($second->httpStatus);
        $throttled = $m->afterAttempt(1, self::answer(429, ['retry-after' => '600']), self::NOW);
        self::assertSame(self::NOW + 600, $throttled->nextAttemptAt);
    }

    public function testTheLastAllowedAttemptFailsForGood(): void
    {
        $t = $this->machine(3)->afterAttempt(3, self::answer(500), self::NOW);
        self::assertSame(OutboxStatus::FAILED, $t->status);
        self::assertStringContainsString('gave up after 3 attempts', (string) $t->error);
        self::assertStringContainsString('HTTP 500', (string) $t->error);
    }

    public function testARefusalFailsAtOnceWithoutRetry(): void
    {
        $t = $this->machine(10)->afterAttempt(1, self::answer(401), self::NOW);
        self::assertSame(OutboxStatus::FAILED, $t->status);
        self::assertSame(401, $t->httpStatus);
    }

    /** @return array<string, array{0: string, 1: int, 2: ?int, 3: bool}> */
    public static function claims(): array
    {
        return [
            'pending and due' => [OutboxStatus::PENDING, self::NOW, null, true],
            'pending, due later' => [OutboxStatus::PENDING, self::NOW + 1, null, false],
            'sending, lease held' => [OutboxStatus::SENDING, self::NOW, self::NOW + 5, false],
            'sending, lease ends now' => [OutboxStatus::SENDING, self::NOW, self::NOW, false],
            'sending, lease expired (sender died)' => [OutboxStatus::SENDING, self::NOW, self::NOW - 1, true],
            'delivered' => [OutboxStatus::DELIVERED, 0, null, false],
            'failed waits for an operator' => [OutboxStatus::FAILED, 0, null, false],
        ];
    }

    /** @dataProvider claims */
    public function testWhichRowsASenderMayTake(string $status, int $next, ?int $lockedUntil, bool $claimable): void
    {
        self::assertSame($claimable, OutboxStateMachine::claimable($status, $next, $lockedUntil, self::NOW));
    }

    public function testAttemptsInterruptedBeyondTheBudgetEndInFailure(): void
    {
        $m = $this->machine(3);
        self::assertTrue($m->mayAttempt(3));
        self::assertFalse($m->mayAttempt(4));
        $t = $m->exhausted(4, self::NOW);
        self::assertSame(OutboxStatus::FAILED, $t->status);
        self::assertStringContainsString('interrupted', (string) $t->error);
    }

    public function testOnlyAFailedEventCanBeResent(): void
    {
        $t = OutboxStateMachine::resend(OutboxStatus::FAILED, self::NOW);
        self::assertSame(OutboxStatus::PENDING, $t->status);
        self::assertSame(self::NOW, $t->nextAttemptAt);
        foreach ([OutboxStatus::PENDING, OutboxStatus::SENDING, OutboxStatus::DELIVERED] as $status) {
            try {
                OutboxStateMachine::resend($status, self::NOW);
                self::fail("$status was resent");
            } catch (\DomainException $e) {
                self::assertStringContainsString($status, $e->getMessage());
            }
        }
    }

    public function testAtLeastOneAttempt(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        $this->machine(0);
    }
}
