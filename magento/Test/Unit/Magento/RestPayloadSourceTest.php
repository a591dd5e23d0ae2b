<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Test\Unit\Magento;

use B1Bridge\Webhook\Core\OutboxMessage;
use B1Bridge\Webhook\Core\PayloadUnavailable;
use B1Bridge\Webhook\Model\RestPayloadSource;
use Magento\Framework\Exception\NoSuchEntityException;
use Magento\Framework\Webapi\ServiceOutputProcessor;
use Magento\Sales\Api\CreditmemoRepositoryInterface;
use Magento\Sales\Api\OrderRepositoryInterface;
use PHPUnit\Framework\TestCase;

final class RestPayloadSourceTest extends TestCase
{
    /** @var list<array{0: object, 1: string, 2: string}> */
    private array $processed = [];

    private function source(array $orders, array $memos): RestPayloadSource
    {
        $orderRepo = new class ($orders) implements OrderRepositoryInterface {
            public function __construct(private array $orders)
            {
            }

            public function get($id)
            {
                return $this->orders[$id] ?? throw new NoSuchEntityException("no order $id");
            }

            public function getList(\Magento\Framework\Api\SearchCriteria $searchCriteria)
            {
                throw new \LogicException('not used');
            }
        };
        $memoRepo = new class ($memos) implements CreditmemoRepositoryInterface {
            public function __construct(private array $memos)
            {
            }

            public function get($id)
            {
                return $this->memos[$id] ?? throw new NoSuchEntityException("no credit memo $id");
            }
        };
        $test = $this;
        $output = new class ($test) extends ServiceOutputProcessor {
            public function __construct(private RestPayloadSourceTest $test)
            {
            }

            public function process($data, $serviceClassName, $serviceMethodName)
            {
                $this->test->saw($data, $serviceClassName, $serviceMethodName);
                return ['rest_of' => $data->name];
            }
        };
        return new RestPayloadSource($orderRepo, $memoRepo, $output);
    }

    public function saw(object $data, string $class, string $method): void
    {
        $this->processed[] = [$data, $class, $method];
    }

    private static function message(string $entityType, int $id): OutboxMessage
    {
        return new OutboxMessage(1, 'msg_x', $entityType === 'order' ? 'order.placed' : 'creditmemo.created', $entityType, $id, 0, 1, null);
    }

    public function testAnOrderIsConvertedAsGetV1OrdersConvertsIt(): void
    {
        $order = (object) ['name' => 'order 3'];
        $data = $this->source([3 => $order], [])->dataFor(self::message('order', 3));
        self::assertSame(['order' => ['rest_of' => 'order 3']], $data);
        self::assertSame([[$order, OrderRepositoryInterface::class, 'get']], $this->processed);
    }

    public function testACreditMemoTravelsWithItsOrder(): void
    {
        $memo = new class {
            public string $name = 'memo 7';

            public function getOrderId()
            {
                return '3';
            }
        };
        $data = $this->source([3 => (object) ['name' => 'order 3']], [7 => $memo])->dataFor(self::message('creditmemo', 7));
        self::assertSame(['creditmemo' => ['rest_of' => 'memo 7'], 'order' => ['rest_of' => 'order 3']], $data);
        self::assertSame(CreditmemoRepositoryInterface::class, $this->processed[0][1]);
        self::assertSame(OrderRepositoryInterface::class, $this->processed[1][1]);
    }

    public function testADeletedEntityIsUnavailableForGood(): void
    {
        $this->expectException(PayloadUnavailable::class);
        $this->expectExceptionMessage('order 9 no longer exists');
        $this->source([], [])->dataFor(self::message('order', 9));
    }
}
