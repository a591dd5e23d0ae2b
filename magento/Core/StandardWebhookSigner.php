<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Core;

/**
 * Standard Webhooks v1 (symmetric) signing: HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{body}",
 * keyed with the base64-decoded secret after its optional "whsec_" prefix, sent as "v1,<base64>".
 * b1bridge verifies exactly this (README.md, "Facts this module relies on").
 */
final class StandardWebhookSigner
{
    public const PREFIX = 'whsec_';
    /** b1bridge refuses shorter keys; the specification asks for 24 to 64 random bytes. */
    public const MIN_KEY_BYTES = 16;

    private string $key;

    public function __construct(string $secret)
    {
        $this->key = self::decodeSecret($secret);
    }

    /** The value of the webhook-signature header. */
    public function sign(string $webhookId, int $timestamp, string $body): string
    {
        if ($webhookId === '' || strpbrk($webhookId, ". \r\n") !== false) {
            // A full stop would make the signed content ambiguous; spaces and line breaks
            // cannot travel in a header.
            throw new \InvalidArgumentException('webhook-id must be non-empty without full stops or spaces');
        }
        $mac = hash_hmac('sha256', $webhookId . '.' . $timestamp . '.' . $body, $this->key, true);
        return 'v1,' . base64_encode($mac);
    }

    /**
     * The three Standard Webhooks headers plus the content type, for one attempt.
     *
     * @return array<string, string>
     */
    public function headers(string $webhookId, int $timestamp, string $body): array
    {
        return [
            'content-type' => 'application/json',
            'webhook-id' => $webhookId,
            'webhook-timestamp' => (string) $timestamp,
            'webhook-signature' => $this->sign($webhookId, $timestamp, $body),
        ];
    }

    /** A new random secret in the form b1bridge's B1BRIDGE_WEBHOOK_SECRETS takes. */
    public static function generateSecret(): string
    {
        return self::PREFIX . base64_encode(random_bytes(32));
    }

    /** Why a secret is unusable, or null when it is fine (for the admin and send-test). */
    public static function problemWith(string $secret): ?string
    {
        try {
            self::decodeSecret($secret);
            return null;
        } catch (\InvalidArgumentException $e) {
            return $e->getMessage();
        }
    }

    private static function decodeSecret(string $secret): string
    {
        $b64 = trim($secret);
        if (strncmp($b64, self::PREFIX, strlen(self::PREFIX)) === 0) {
            $b64 = substr($b64, strlen(self::PREFIX));
        }
        // The reference libraries accept unpadded secrets; pad before the strict decode.
        $b64 = rtrim($b64, '=');
        $b64 .= str_repeat('=', (4 - strlen($b64) % 4) % 4);
        $key = base64_decode($b64, true);
        if ($b64 === '' || $key === false) {
            throw new \InvalidArgumentException('the secret is not base64 after the whsec_ prefix');
        }
        if (strlen($key) < self::MIN_KEY_BYTES) {
            throw new \InvalidArgumentException(sprintf(
                'the secret decodes to %d bytes; at least %d are required',
                strlen($key),
                self::MIN_KEY_BYTES
            ));
        }
        return $key;
    }
}
