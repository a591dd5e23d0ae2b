<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Core;

/**
 * The event types b1bridge accepts (README.md, "What is sent"). Kept in one place so
 * that the observers, the admin multiselect and the envelope builder can never disagree.
 */
final class EventType
{
    public const ORDER_PLACED = 'order.placed';
    public const ORDER_UPDATED = 'order.updated';
    public const ORDER_CANCELLED = 'order.cancelled';
    public const CREDITMEMO_CREATED = 'creditmemo.created';

    public const ALL = [
        self::ORDER_PLACED,
        self::ORDER_UPDATED,
        self::ORDER_CANCELLED,
        self::CREDITMEMO_CREATED,
    ];

    /** The key under `data` that carries the event's main document. */
    public static function dataKey(string $type): string
    {
        self::assertKnown($type);
        return $type === self::CREDITMEMO_CREATED ? 'creditmemo' : 'order';
    }

    public static function assertKnown(string $type): void
    {
        if (!in_array($type, self::ALL, true)) {
            throw new \InvalidArgumentException(sprintf(
                "event type '%s' is not one of %s",
                $type,
                implode(', ', self::ALL)
            ));
        }
    }
}
