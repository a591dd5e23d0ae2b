<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Test\Unit\Core;

use B1Bridge\Webhook\Core\StandardWebhookSigner;
use PHPUnit\Framework\TestCase;

final class StandardWebhookSignerTest extends TestCase
{
    /** @return array<string, array{0: array<string, mixed>}> */
    public static function officialVectors(): array
    {
        $file = json_decode((string) file_get_contents(__DIR__ . '/../_files/standard-webhooks-test-vectors.json'), true);
        $cases = [];
        foreach ($file['standard_webhooks']['vectors'] as $i => $v) {
            $cases['vector ' . ($i + 1)] = [$v];
        }
        return $cases;
    }

    /** @dataProvider officialVectors */
    public function testSignsTheOfficialVectorsExactly(array $v): void
    {
        $signer = new StandardWebhookSigner($v['secret']);
        self::assertSame($v['expected_signature'], $signer->sign($v['msg_id'], $v['timestamp'], $v['payload']));
    }

    public function testTheOfficialNegativeCaseDoesNotMatch(): void
    {
        $signer = new StandardWebhookSigner('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
        $sig = $signer->sign('msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
        self::assertNotSame('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=', $sig);
    }

    public function testOneChangedByteOfBodyIdOrTimestampChangesTheSignature(): void
    {
        $signer = new StandardWebhookSigner('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
        $base = $signer->sign('msg_1', 1614265330, '{"a":1}');
        self::assertNotSame($base, $signer->sign('msg_2', 1614265330, '{"a":1}'));
        self::assertNotSame($base, $signer->sign('msg_1', 1614265331, '{"a":1}'));
        self::assertNotSame($base, $signer->sign('msg_1', 1614265330, '{"a":2}'));
    }

    public function testThePrefixIsOptionalAndPaddingMayBeMissing(): void
    {
        $expected = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
        foreach (['MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', ' whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw '] as $secret) {
            $signer = new StandardWebhookSigner($secret);
            self::assertSame($expected, $signer->sign('msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}'));
        }
        // 20 bytes encode to 28 characters with one '='; without it the key must be the same.
        $key = random_bytes(20);
        $padded = new StandardWebhookSigner('whsec_' . base64_encode($key));
        $unpadded = new StandardWebhookSigner('whsec_' . rtrim(base64_encode($key), '='));
        self::assertSame($padded->sign('m', 1, 'x'), $unpadded->sign('m', 1, 'x'));
    }

    /** @return array<string, array{0: string, 1: string}> */
    public static function badSecrets(): array
    {
        return [
            'empty' => ['', 'not base64'],
            'prefix only' => ['whsec_', 'not base64'],
            'not base64' => ['whsec_not*base64*at*all', 'not base64'],
            'too short' => ['whsec_' . base64_encode('short key'), 'at least 16'],
        ];
    }

    /** @dataProvider badSecrets */
    public function testUnusableSecretsAreRefusedWithTheReason(string $secret, string $why): void
    {
        self::assertStringContainsString($why, (string) StandardWebhookSigner::problemWith($secret));
        $this->expectException(\InvalidArgumentException::class);
        new StandardWebhookSigner($secret);
    }

    public function testAGeneratedSecretIsUsableAnd32RandomBytes(): void
    {
        $a = StandardWebhookSigner::generateSecret();
        self::assertStringStartsWith('whsec_', $a);
        self::assertNull(StandardWebhookSigner::problemWith($a));
        self::assertSame(32, strlen(base64_decode(substr($a, 6), true)));
        self::assertNotSame($a, StandardWebhookSigner::generateSecret());
    }

    public function testHeadersCarryIdTimestampAndSignature(): void
    {
        $signer = new StandardWebhookSigner('whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD');
        $body = '{"email":"test@example.com","username":"test_user"}';
        self::assertSame([
            'content-type' => 'application/json',
            'webhook-id' => 'msg_27UH4WbU6Z5A5EzD8u03UvzRbpk',
            'webhook-timestamp' => '1649367553',
            'webhook-signature' => 'v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=',
        ], $signer->headers('msg_27UH4WbU6Z5A5EzD8u03UvzRbpk', 1649367553, $body));
    }

    public function testAWebhookIdThatWouldMakeTheSignedContentAmbiguousIsRefused(): void
    {
        $signer = new StandardWebhookSigner('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
        foreach (['', 'msg.1', "msg 1", "msg\n1"] as $id) {
            try {
                $signer->sign($id, 1, '{}');
                self::fail("webhook-id '$id' was accepted");
            } catch (\InvalidArgumentException $e) {
                self::assertStringContainsString('webhook-id', $e->getMessage());
            }
        }
    }
}
