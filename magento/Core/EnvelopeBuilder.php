<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Core;

/**
 * Builds the body b1bridge expects: {"type", "timestamp", "data": {"order": …}} (or
 * "data": {"creditmemo": …, "order": …} for credit memos), the envelope Standard Webhooks
 * recommends. The body is built once per event and kept, so every retry of one webhook-id
 * carries the same bytes.
 */
final class EnvelopeBuilder
{
    private const JSON_FLAGS = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE
        | JSON_PRESERVE_ZERO_FRACTION | JSON_THROW_ON_ERROR;

    /**
     * @param array<string, mixed> $data documents in Magento's REST shape, keyed "order" / "creditmemo"
     */
    public function build(string $type, int $occurredAt, array $data): string
    {
        EventType::assertKnown($type);
        $key = EventType::dataKey($type);
        if (!isset($data[$key]) || !is_array($data[$key]) || $data[$key] === []) {
            throw new \InvalidArgumentException(sprintf("a %s event needs data.%s as an object", $type, $key));
        }
        if ($key === 'order') {
            self::assertOrderIdentified($data['order']);
        }
        $envelope = [
            'type' => $type,
            'timestamp' => gmdate('Y-m-d\TH:i:s\Z', $occurredAt),
            'data' => $data,
        ];
        return json_encode($envelope, self::JSON_FLAGS);
    }

    /** b1bridge files an order without increment_id as payload_invalid; refuse it here instead. */
    private static function assertOrderIdentified(array $order): void
    {
        $incrementId = $order['increment_id'] ?? null;
        if (!is_string($incrementId) && !is_int($incrementId) || (string) $incrementId === '') {
            throw new \InvalidArgumentException('data.order has no increment_id');
        }
    }
}
