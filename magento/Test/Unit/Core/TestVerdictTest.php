<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Test\Unit\Core;

use B1Bridge\Webhook\Core\TestVerdict;
use B1Bridge\Webhook\Core\TransportResult;
use PHPUnit\Framework\TestCase;

final class TestVerdictTest extends TestCase
{
    /** @return array<string, array{0: TransportResult, 1: string}> */
    public static function answers(): array
    {
        return [
            'stored' => [new TransportResult(202), 'OK: b1bridge verified the signature and stored'],
            'known already' => [new TransportResult(200), 'OK: b1bridge verified the signature (it already'],
            'wrong secret or clock' => [new TransportResult(401), 'B1BRIDGE_WEBHOOK_SECRETS'],
            'wrong path' => [new TransportResult(404), '/webhooks/magento'],
            'unusable' => [new TransportResult(422), 'payload_invalid'],
            'database down' => [new TransportResult(503), 'RETRY'],
            'redirect' => [new TransportResult(301), 'redirects'],
            'nobody there' => [TransportResult::failed('no answer: Connection refused (curl 7)'), 'Connection refused'],
        ];
    }

    /** @dataProvider answers */
    public function testEveryAnswerGetsAnExplanation(TransportResult $r, string $says): void
    {
        self::assertStringContainsString($says, TestVerdict::explain($r));
        $ok = $r->status !== null && $r->status >= 200 && $r->status < 300;
        self::assertSame($ok, strncmp(TestVerdict::explain($r), 'OK', 2) === 0, 'only a 2xx is OK');
    }
}
