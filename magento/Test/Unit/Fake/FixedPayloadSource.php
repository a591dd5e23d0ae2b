<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Test\Unit\Fake;

use B1Bridge\Webhook\Core\OutboxMessage;
use B1Bridge\Webhook\Core\PayloadSource;

/** Returns a given order for every event, or throws what it is told to; counts its reads. */
final class FixedPayloadSource implements PayloadSource
{
    /** @var array<string, mixed> */
    public array $order;
    public ?\Throwable $failure = null;
    public int $reads = 0;

    public function __construct(array $order)
    {
        $this->order = $order;
    }

    public function dataFor(OutboxMessage $message): array
    {
        $this->reads++;
        if ($this->failure !== null) {
            throw $this->failure;
        }
        return ['order' => $this->order];
    }
}
