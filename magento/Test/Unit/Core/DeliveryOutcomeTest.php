<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Test\Unit\Core;

use B1Bridge\Webhook\Core\DeliveryOutcome;
use B1Bridge\Webhook\Core\TransportResult;
use PHPUnit\Framework\TestCase;

final class DeliveryOutcomeTest extends TestCase
{
    /** @return array<string, array{0: ?int, 1: string}> */
    public static function answers(): array
    {
        return [
            '202 accepted' => [202, DeliveryOutcome::DELIVERED],
            '200 duplicate' => [200, DeliveryOutcome::DELIVERED],
            '503 database down' => [503, DeliveryOutcome::RETRY],
            '500' => [500, DeliveryOutcome::RETRY],
            '502 from a proxy' => [502, DeliveryOutcome::RETRY],
            '504 from a proxy' => [504, DeliveryOutcome::RETRY],
            '429 throttled' => [429, DeliveryOutcome::RETRY],
            '408 proxy time-out' => [408, DeliveryOutcome::RETRY],
            '400 not JSON' => [400, DeliveryOutcome::REJECTED],
            '401 bad signature' => [401, DeliveryOutcome::REJECTED],
            '404 wrong URL' => [404, DeliveryOutcome::REJECTED],
            '410 gone' => [410, DeliveryOutcome::REJECTED],
            '413 too large' => [413, DeliveryOutcome::REJECTED],
            '422 unusable' => [422, DeliveryOutcome::REJECTED],
            '301 redirect' => [301, DeliveryOutcome::REJECTED],
            'no answer' => [null, DeliveryOutcome::RETRY],
        ];
    }

    /** @dataProvider answers */
    public function testRetriesOn5xx429AndTimeOutsOnly(?int $status, string $kind): void
    {
        $r = $status === null ? TransportResult::failed('timed out: Operation timed out (curl 28)') : new TransportResult($status, '{}');
        self::assertSame($kind, DeliveryOutcome::fromResponse($r)->kind);
    }

    public function testRetryAfterIsReadFromTheAnswer(): void
    {
        $o = DeliveryOutcome::fromResponse(new TransportResult(503, '', ['Retry-After' => '30']));
        self::assertSame(30, $o->retryAfter);
        $date = DeliveryOutcome::fromResponse(new TransportResult(503, '', ['Retry-After' => 'Wed, 21 Oct 2026 07:28:00 GMT']));
        self::assertNull($date->retryAfter);
    }

    public function testTheDetailKeepsStatusAndAShortenedBody(): void
    {
        $o = DeliveryOutcome::fromResponse(new TransportResult(401, "{\"code\":\"unauthorized\",\n \"detail\":\"" . str_repeat('x', 500) . '"}'));
        self::assertStringStartsWith('HTTP 401 {"code":"unauthorized", "detail"', $o->detail);
        self::assertLessThan(320, strlen($o->detail));
        self::assertStringContainsString('final URL', DeliveryOutcome::fromResponse(new TransportResult(308))->detail);
    }
}
