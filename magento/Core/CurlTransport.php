<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Core;

/**
 * POST with ext-curl. Hand-written (a few lines) so that the same code runs inside Magento and in
 * the check against a running b1bridge, where no Magento HTTP client exists. Redirects are not
 * followed: a redirected POST may lose its body, and the endpoint should be configured exactly.
 */
final class CurlTransport implements Transport
{
    public function post(string $url, array $headers, string $body, int $connectTimeout, int $timeout): TransportResult
    {
        $ch = curl_init($url);
        if ($ch === false) {
            return TransportResult::failed('cannot initialise curl for ' . $url);
        }
        $lines = [];
        foreach ($headers as $name => $value) {
            $lines[] = $name . ': ' . $value;
        }
        // No "Expect: 100-continue" round trip on bodies over 1 KiB.
        $lines[] = 'Expect:';
        $received = [];
        curl_setopt_array($ch, [
            CURLOPT_POST => true,
            CURLOPT_POSTFIELDS => $body,
            CURLOPT_HTTPHEADER => $lines,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_FOLLOWLOCATION => false,
            CURLOPT_CONNECTTIMEOUT => max(1, $connectTimeout),
            CURLOPT_TIMEOUT => max(1, $timeout),
            CURLOPT_PROTOCOLS => CURLPROTO_HTTP | CURLPROTO_HTTPS,
            CURLOPT_USERAGENT => 'b1bridge-magento-module/1',
            CURLOPT_HEADERFUNCTION => static function ($ch, string $line) use (&$received): int {
                $parts = explode(':', $line, 2);
                if (count($parts) === 2) {
                    $received[strtolower(trim($parts[0]))] = trim($parts[1]);
                }
                return strlen($line);
            },
        ]);
        $answer = curl_exec($ch);
        if ($answer === false) {
            $errno = curl_errno($ch);
            $error = curl_error($ch);
            curl_close($ch);
            $kind = $errno === CURLE_OPERATION_TIMEDOUT ? 'timed out' : 'no answer';
            return TransportResult::failed(sprintf('%s: %s (curl %d)', $kind, $error, $errno));
        }
        $status = (int) curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
        curl_close($ch);
        return new TransportResult($status, (string) $answer, $received);
    }
}
