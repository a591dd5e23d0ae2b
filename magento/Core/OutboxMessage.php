<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Core;

/** One claimed outbox row, as a sender sees it. */
final class OutboxMessage
{
    public int $id;
    public string $webhookId;
    public string $eventType;
    /** "order" or "creditmemo": which Magento entity entityId names. */
    public string $entityType;
    public int $entityId;
    /** When Magento made the change (unix seconds): the envelope's timestamp. */
    public int $occurredAt;
    /** This attempt's number (the claim counts it). */
    public int $attempts;
    /** The body built at the first attempt, reused by every retry; null before. */
    public ?string $payload;

    public function __construct(
        int $id,
        string $webhookId,
        string $eventType,
        string $entityType,
        int $entityId,
        int $occurredAt,
        int $attempts,
        ?string $payload
    ) {
        $this->id = $id;
        $this->webhookId = $webhookId;
        $this->eventType = $eventType;
        $this->entityType = $entityType;
        $this->entityId = $entityId;
        $this->occurredAt = $occurredAt;
        $this->attempts = $attempts;
        $this->payload = $payload;
    }
}
