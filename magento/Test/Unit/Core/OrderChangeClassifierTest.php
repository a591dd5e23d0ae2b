<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Test\Unit\Core;

use B1Bridge\Webhook\Core\OrderChangeClassifier as C;
use PHPUnit\Framework\TestCase;

final class OrderChangeClassifierTest extends TestCase
{
    /** @return array<string, array{0: bool, 1: ?string, 2: ?string, 3: ?string, 4: ?string, 5: ?string}> */
    public static function saves(): array
    {
        return [
            'a new order' => [true, null, null, 'new', 'pending', 'order.placed'],
            'a new order already processing (captured at checkout)' => [true, null, null, 'processing', 'processing', 'order.placed'],
            'invoiced' => [false, 'new', 'pending', 'processing', 'processing', 'order.updated'],
            'a custom status in the same state' => [false, 'processing', 'processing', 'processing', 'packed', 'order.updated'],
            'shipped and complete' => [false, 'processing', 'processing', 'complete', 'complete', 'order.updated'],
            'put on hold' => [false, 'processing', 'processing', 'holded', 'holded', 'order.updated'],
            'cancelled' => [false, 'new', 'pending', 'canceled', 'canceled', 'order.cancelled'],
            'saved again while cancelled' => [false, 'canceled', 'canceled', 'canceled', 'canceled', null],
            'a comment only' => [false, 'processing', 'processing', 'processing', 'processing', null],
            'closed by a full refund' => [false, 'complete', 'complete', 'closed', 'closed', 'order.updated'],
        ];
    }

    /** @dataProvider saves */
    public function testOnlyNewOrdersCancellationsAndStateOrStatusChangesAreEvents(
        bool $isNew,
        ?string $prevState,
        ?string $prevStatus,
        ?string $state,
        ?string $status,
        ?string $expected
    ): void {
        self::assertSame($expected, C::classify($isNew, $prevState, $prevStatus, $state, $status));
    }

    public function testPlacementAndCancellationAreRecordedOnceUpdatesEachTime(): void
    {
        self::assertSame('order.placed:5', C::eventKey('order.placed', 5, 'a'));
        self::assertSame(C::eventKey('order.placed', 5, 'a'), C::eventKey('order.placed', 5, 'b'));
        self::assertSame(C::eventKey('order.cancelled', 5, 'a'), C::eventKey('order.cancelled', 5, 'b'));
        self::assertSame(C::eventKey('creditmemo.created', 5, 'a'), C::eventKey('creditmemo.created', 5, 'b'));
        self::assertNotSame(C::eventKey('order.updated', 5, 'a'), C::eventKey('order.updated', 5, 'b'));
        self::assertNotSame(C::eventKey('order.placed', 5, 'a'), C::eventKey('order.placed', 6, 'a'));
    }
}
