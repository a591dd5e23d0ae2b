<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Core;

/**
 * Decides which event, if any, an order save means. Magento saves an order many times
 * (placement, invoice, shipment, comments, cancellation); only three changes matter to b1bridge:
 * a new order, a cancellation (state becomes "canceled"), and any other change of state or
 * status. Everything else (a comment, an e-mail flag) sends nothing.
 */
final class OrderChangeClassifier
{
    public const CANCELED_STATE = 'canceled';

    /**
     * @param bool $isNew the save inserted the order
     * @param ?string $previousState state before this save (null when unknown or new)
     */
    public static function classify(
        bool $isNew,
        ?string $previousState,
        ?string $previousStatus,
        ?string $state,
        ?string $status
    ): ?string {
        if ($isNew) {
            return EventType::ORDER_PLACED;
        }
        if ($state === self::CANCELED_STATE && $previousState !== self::CANCELED_STATE) {
            return EventType::ORDER_CANCELLED;
        }
        if ($state !== $previousState || $status !== $previousStatus) {
            return EventType::ORDER_UPDATED;
        }
        return null;
    }

    /**
     * The key that makes recording idempotent: an order is placed and cancelled once, a credit
     * memo created once; updates are distinct events each time ($unique tells them apart).
     */
    public static function eventKey(string $type, int $entityId, string $unique): string
    {
        EventType::assertKnown($type);
        if ($type === EventType::ORDER_UPDATED) {
            return $type . ':' . $entityId . ':' . $unique;
        }
        return $type . ':' . $entityId;
    }
}
