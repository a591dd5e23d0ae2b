<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Test\Unit\Core;

use B1Bridge\Webhook\Core\EnvelopeBuilder;
use B1Bridge\Webhook\Core\EventType;
use PHPUnit\Framework\TestCase;

final class EnvelopeBuilderTest extends TestCase
{
    private function sampleOrder(): array
    {
        return json_decode((string) file_get_contents(__DIR__ . '/../_files/rest-order.json'), true, 512, JSON_THROW_ON_ERROR);
    }

    public function testAnOrderEventIsTheContractsEnvelopeWithTheOrderUnchanged(): void
    {
        $order = $this->sampleOrder();
        $body = (new EnvelopeBuilder())->build(EventType::ORDER_PLACED, 1764756000, ['order' => $order]);
        $decoded = json_decode($body, true, 512, JSON_THROW_ON_ERROR);
        self::assertSame(['type', 'timestamp', 'data'], array_keys($decoded));
        self::assertSame('order.placed', $decoded['type']);
        self::assertSame('2025-12-03T10:00:00Z', $decoded['timestamp']);
        self::assertSame(['order'], array_keys($decoded['data']));
        self::assertEquals($order, $decoded['data']['order']);
    }

    public function testMoneyKeepsItsDigitsAndTextIsNotEscaped(): void
    {
        $order = ['increment_id' => '000000042', 'grand_total' => 396.87, 'shipping_amount' => 5.0,
            'tax_percent' => 8.25, 'customer_lastname' => 'Müller', 'url' => 'https://x/y'];
        $body = (new EnvelopeBuilder())->build(EventType::ORDER_UPDATED, 0, ['order' => $order]);
        self::assertStringContainsString('"grand_total":396.87', $body);
        self::assertStringContainsString('"shipping_amount":5.0', $body);
        self::assertStringContainsString('"tax_percent":8.25', $body);
        self::assertStringContainsString('Müller', $body);
        self::assertStringContainsString('https://x/y', $body);
    }

    public function testACreditMemoEventCarriesTheMemoAndItsOrder(): void
    {
        $memo = ['entity_id' => 7, 'order_id' => 3, 'grand_total' => 10.5, 'items' => []];
        $body = (new EnvelopeBuilder())->build(EventType::CREDITMEMO_CREATED, 0, ['creditmemo' => $memo, 'order' => $this->sampleOrder()]);
        $decoded = json_decode($body, true);
        self::assertSame('creditmemo.created', $decoded['type']);
        self::assertSame($memo, $decoded['data']['creditmemo']);
        self::assertSame($this->sampleOrder()['increment_id'], $decoded['data']['order']['increment_id']);
    }

    /** @return array<string, array{0: string, 1: array<string, mixed>, 2: string}> */
    public static function unusable(): array
    {
        return [
            'unknown type' => ['customer.created', ['order' => ['increment_id' => '1']], 'not one of'],
            'order event without order' => ['order.placed', ['creditmemo' => ['entity_id' => 1]], 'data.order'],
            'memo event without memo' => ['creditmemo.created', ['order' => ['increment_id' => '1']], 'data.creditmemo'],
            'order without increment_id' => ['order.cancelled', ['order' => ['entity_id' => 9]], 'increment_id'],
            'empty increment_id' => ['order.cancelled', ['order' => ['entity_id' => 9, 'increment_id' => '']], 'increment_id'],
        ];
    }

    /** @dataProvider unusable */
    public function testAnEventB1bridgeWouldRefuseIsNotBuilt(string $type, array $data, string $why): void
    {
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage($why);
        (new EnvelopeBuilder())->build($type, 0, $data);
    }
}
