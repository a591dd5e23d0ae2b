<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Core;

/** What an attempt (or an operator) changes on an outbox row. */
final class Transition
{
    public string $status;
    public int $nextAttemptAt;
    public ?int $httpStatus;
    public ?string $error;
    public ?int $deliveredAt;

    public function __construct(string $status, int $nextAttemptAt, ?int $httpStatus, ?string $error, ?int $deliveredAt)
    {
        $this->status = $status;
        $this->nextAttemptAt = $nextAttemptAt;
        $this->httpStatus = $httpStatus;
        $this->error = $error;
        $this->deliveredAt = $deliveredAt;
    }
}
