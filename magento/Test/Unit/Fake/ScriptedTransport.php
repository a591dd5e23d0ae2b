<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Test\Unit\Fake;

use B1Bridge\Webhook\Core\Transport;
use B1Bridge\Webhook\Core\TransportResult;

/** Answers from a script, one per call, and keeps every request it saw. */
final class ScriptedTransport implements Transport
{
    /** @var list<TransportResult> */
    public array $answers;
    /** @var list<array{url: string, headers: array<string, string>, body: string}> */
    public array $requests = [];

    public function __construct(TransportResult ...$answers)
    {
        $this->answers = $answers;
    }

    public function post(string $url, array $headers, string $body, int $connectTimeout, int $timeout): TransportResult
    {
        $this->requests[] = ['url' => $url, 'headers' => $headers, 'body' => $body];
        if ($this->answers === []) {
            throw new \LogicException('the script has no answer left');
        }
        return array_shift($this->answers);
    }
}
