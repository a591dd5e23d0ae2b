<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Core;

/** One HTTP attempt's answer, or why there was none. */
final class TransportResult
{
    public ?int $status;
    public string $body;
    /** @var array<string, string> lower-case header names */
    public array $headers;
    public ?string $error;

    /** @param array<string, string> $headers */
    public function __construct(?int $status, string $body = '', array $headers = [], ?string $error = null)
    {
        $this->status = $status;
        $this->body = $body;
        $this->headers = array_change_key_case($headers, CASE_LOWER);
        $this->error = $error;
    }

    public static function failed(string $error): self
    {
        return new self(null, '', [], $error);
    }

    /** Retry-After in seconds; the HTTP-date form is not used by b1bridge and is ignored. */
    public function retryAfterSeconds(): ?int
    {
        $v = trim($this->headers['retry-after'] ?? '');
        return ctype_digit($v) ? (int) $v : null;
    }
}
