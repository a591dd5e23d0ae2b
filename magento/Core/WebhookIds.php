<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Core;

/**
 * webhook-id values: "msg_" and 24 random base62 characters, made once when the event is
 * recorded and kept for every retry and resend, so that b1bridge's idempotency recognises them.
 * Random rather than derived from the entity id: two Magento installations sending to one
 * b1bridge would otherwise collide on "order 5".
 */
final class WebhookIds
{
    private const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

    public static function generate(): string
    {
        $id = 'msg_';
        for ($i = 0; $i < 24; $i++) {
            $id .= self::ALPHABET[random_int(0, 61)];
        }
        return $id;
    }
}
