<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Core;

/** One HTTP POST; never throws for network trouble (that is a TransportResult without status). */
interface Transport
{
    /** @param array<string, string> $headers */
    public function post(string $url, array $headers, string $body, int $connectTimeout, int $timeout): TransportResult;
}
