<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Core;

/** The life of one outbox row (see OutboxStateMachine). */
final class OutboxStatus
{
    /** Recorded, or waiting for its next attempt (next_attempt_at). */
    public const PENDING = 'pending';
    /** Claimed by a sender until locked_until; a crashed sender's rows are taken over after it. */
    public const SENDING = 'sending';
    /** b1bridge answered 2xx. Final. */
    public const DELIVERED = 'delivered';
    /** Refused for good, or out of attempts: waits for an operator's "resend". */
    public const FAILED = 'failed';

    public const ALL = [self::PENDING, self::SENDING, self::DELIVERED, self::FAILED];
}
