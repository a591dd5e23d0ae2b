<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Core;

/**
 * What one attempt's answer means for the event. b1bridge answers 202 (stored) or 200
 * (duplicate: an earlier attempt got through), 401 for a bad signature, 413/400/422 for bodies
 * it will never accept, 503 while its database is down (README.md, "What is sent").
 */
final class DeliveryOutcome
{
    public const DELIVERED = 'delivered';
    /** Worth trying again later: 5xx, 429, 408, time-outs and connection failures. */
    public const RETRY = 'retry';
    /** Trying again cannot help (other 4xx, redirects, a body that cannot be built). */
    public const REJECTED = 'rejected';

    public string $kind;
    public ?int $httpStatus;
    public string $detail;
    public ?int $retryAfter;

    private function __construct(string $kind, ?int $httpStatus, string $detail, ?int $retryAfter)
    {
        $this->kind = $kind;
        $this->httpStatus = $httpStatus;
        $this->detail = $detail;
        $this->retryAfter = $retryAfter;
    }

    /** Classifies an HTTP answer. */
    public static function fromResponse(TransportResult $r): self
    {
        if ($r->status === null) {
            // No answer at all: time-out, refused connection, DNS or TLS failure. b1bridge may
            // be down or restarting; its idempotency makes a retry safe even after a lost answer.
            return new self(self::RETRY, null, $r->error ?? 'no answer', null);
        }
        $status = $r->status;
        $detail = sprintf('HTTP %d %s', $status, self::excerpt($r->body));
        if ($status >= 200 && $status < 300) {
            return new self(self::DELIVERED, $status, $detail, null);
        }
        // 408 is a time-out reported by a proxy on the way: the same case as no answer.
        if ($status >= 500 || $status === 429 || $status === 408) {
            return new self(self::RETRY, $status, $detail, $r->retryAfterSeconds());
        }
        if ($status >= 300 && $status < 400) {
            $detail .= ' (the endpoint redirects; configure the final URL)';
        }
        return new self(self::REJECTED, $status, $detail, null);
    }

    /** The event could not be built, and never will be (e.g. the order was deleted). */
    public static function unbuildable(string $why): self
    {
        return new self(self::REJECTED, null, $why, null);
    }

    /** The event could not be built this time (e.g. the database was busy). */
    public static function notBuiltYet(string $why): self
    {
        return new self(self::RETRY, null, $why, null);
    }

    private static function excerpt(string $body): string
    {
        $body = trim(preg_replace('/\s+/', ' ', $body) ?? '');
        return strlen($body) > 300 ? substr($body, 0, 300) . '…' : $body;
    }
}
