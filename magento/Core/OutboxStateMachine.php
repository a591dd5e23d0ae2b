<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Core;

/**
 * The rules of the outbox, kept out of the SQL so that they can be tested:
 *
 *   pending --claim--> sending --2xx--> delivered
 *                         |---retryable, attempts left--> pending (next_attempt_at = now + backoff)
 *                         |---retryable, none left / refused--> failed --resend--> pending
 *   sending (lease expired: the sender died) --claim--> sending (the lost attempt counts)
 *
 * A claim increments the attempt counter; the attempt's result is recorded only if the row is
 * still "sending" with that counter (a fence), so a sender that outlived its lease changes nothing.
 */
final class OutboxStateMachine
{
    private BackoffSchedule $schedule;
    private int $maxAttempts;

    public function __construct(BackoffSchedule $schedule, int $maxAttempts)
    {
        if ($maxAttempts < 1) {
            throw new \InvalidArgumentException('at least one attempt is needed');
        }
        $this->schedule = $schedule;
        $this->maxAttempts = $maxAttempts;
    }

    public function maxAttempts(): int
    {
        return $this->maxAttempts;
    }

    /** Whether a sender may take the row now (OutboxTable's claim query says the same in SQL). */
    public static function claimable(string $status, int $nextAttemptAt, ?int $lockedUntil, int $now): bool
    {
        if ($status === OutboxStatus::PENDING) {
            return $nextAttemptAt <= $now;
        }
        return $status === OutboxStatus::SENDING && $lockedUntil !== null && $lockedUntil < $now;
    }

    /** Whether a claimed attempt may still be made (a crashed sender's attempts count too). */
    public function mayAttempt(int $attempts): bool
    {
        return $attempts <= $this->maxAttempts;
    }

    /** The row after attempt number $attempts ended with $outcome. */
    public function afterAttempt(int $attempts, DeliveryOutcome $outcome, int $now): Transition
    {
        switch ($outcome->kind) {
            case DeliveryOutcome::DELIVERED:
                return new Transition(OutboxStatus::DELIVERED, $now, $outcome->httpStatus, null, $now);
            case DeliveryOutcome::RETRY:
                if ($attempts >= $this->maxAttempts) {
                    return new Transition(
                        OutboxStatus::FAILED,
                        $now,
                        $outcome->httpStatus,
                        sprintf('gave up after %d attempts; last: %s', $attempts, $outcome->detail),
                        null
                    );
                }
                $wait = $this->schedule->delayAfter($attempts, $outcome->retryAfter);
                return new Transition(OutboxStatus::PENDING, $now + $wait, $outcome->httpStatus, $outcome->detail, null);
            case DeliveryOutcome::REJECTED:
                return new Transition(OutboxStatus::FAILED, $now, $outcome->httpStatus, $outcome->detail, null);
        }
        throw new \LogicException('unknown outcome ' . $outcome->kind);
    }

    /** A claimed row whose attempts ran out while senders crashed on it. */
    public function exhausted(int $attempts, int $now): Transition
    {
        return new Transition(
            OutboxStatus::FAILED,
            $now,
            null,
            sprintf('gave up: attempt %d of %d was interrupted (the sender stopped mid-attempt)', $attempts - 1, $this->maxAttempts),
            null
        );
    }

    /**
     * An operator's "resend": a failed row goes back to pending with a fresh attempt budget and
     * the same webhook-id and body, so b1bridge still recognises it if it got there after all.
     */
    public static function resend(string $status, int $now): Transition
    {
        if ($status !== OutboxStatus::FAILED) {
            throw new \DomainException(sprintf('only failed events can be resent; this one is %s', $status));
        }
        return new Transition(OutboxStatus::PENDING, $now, null, null, null);
    }
}
