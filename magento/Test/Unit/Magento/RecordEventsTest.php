<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Test\Unit\Magento;

use B1Bridge\Webhook\Model\Config;
use B1Bridge\Webhook\Model\EventRecorder;
use B1Bridge\Webhook\Model\OutboxTable;
use B1Bridge\Webhook\Observer\RecordCreditmemoEvent;
use B1Bridge\Webhook\Observer\RecordOrderEvent;
use B1Bridge\Webhook\Test\Unit\Fake\ArrayScopeConfig;
use B1Bridge\Webhook\Test\Unit\Fake\RecordingPublisher;
use B1Bridge\Webhook\Test\Unit\Fake\SalesEntity;
use B1Bridge\Webhook\Test\Unit\Fake\SavingResource;
use B1Bridge\Webhook\Test\Unit\Fake\TransactionalAdapter;
use Magento\Framework\App\ResourceConnection;
use Magento\Framework\Event\Event;
use Magento\Framework\Event\Observer;
use Magento\Framework\Event\ObserverInterface;
use PHPUnit\Framework\TestCase;

/** The observers against Magento's event and resource-model contracts (stubbed). */
final class RecordEventsTest extends TestCase
{
    private SavingResource $resource;
    private RecordingPublisher $publisher;
    private ArrayScopeConfig $settings;
    private RecordOrderEvent $orders;
    private RecordCreditmemoEvent $memos;

    protected function setUp(): void
    {
        $this->resource = new SavingResource(new TransactionalAdapter());
        $this->publisher = new RecordingPublisher();
        $this->settings = new ArrayScopeConfig([
            Config::XML_ENABLED => '1',
            Config::XML_EVENT_TYPES => 'order.placed,order.updated,order.cancelled,creditmemo.created',
        ]);
        $recorder = new EventRecorder(new OutboxTable(new ResourceConnection()), $this->publisher, new Config($this->settings));
        $this->orders = new RecordOrderEvent($recorder);
        $this->memos = new RecordCreditmemoEvent($recorder);
    }

    private function save(ObserverInterface $observer, string $key, SalesEntity $entity): void
    {
        $observer->execute(new Observer(['event' => new Event([$key => $entity])]));
    }

    private function newOrder(): SalesEntity
    {
        return new SalesEntity(['entity_id' => 42, 'increment_id' => '000000042', 'state' => 'new', 'status' => 'pending'], null, $this->resource);
    }

    private function loadedOrder(string $state, string $status): SalesEntity
    {
        $data = ['entity_id' => 42, 'increment_id' => '000000042', 'state' => $state, 'status' => $status];
        return new SalesEntity($data, $data, $this->resource);
    }

    /** @return list<string> event types of the committed rows */
    private function committedTypes(): array
    {
        return array_values(array_map(static fn (array $r) => $r['event_type'], $this->resource->connection->committed));
    }

    public function testAPlacedOrderIsRecordedInTheSaveTransactionAndQueuedAfterCommit(): void
    {
        $this->save($this->orders, 'order', $this->newOrder());
        $rows = array_values($this->resource->connection->uncommitted);
        self::assertCount(1, $rows, 'written on the connection of the order save');
        self::assertSame('order.placed', $rows[0]['event_type']);
        self::assertSame('b1bridge_webhook_outbox', $rows[0]['table']);
        self::assertSame(['order', 42, '000000042', 'pending', 0], [$rows[0]['entity_type'], $rows[0]['entity_id'], $rows[0]['increment_id'], $rows[0]['status'], $rows[0]['attempts']]);
        self::assertMatchesRegularExpression('/^msg_[0-9A-Za-z]{24}$/', $rows[0]['webhook_id']);
        self::assertSame([], $this->publisher->published, 'nothing is published before the commit');

        $this->resource->commit();
        self::assertSame([['b1bridge.webhook.send', (string) $rows[0]['outbox_id']]], $this->publisher->published);
    }

    public function testARolledBackOrderLeavesNoEventAndNoMessage(): void
    {
        $this->save($this->orders, 'order', $this->newOrder());
        $this->resource->rollBack();
        $this->resource->commit();
        self::assertSame([], $this->resource->connection->committed);
        self::assertSame([], $this->publisher->published);
    }

    public function testAnOrderSavedAgainInTheSameRequestIsPlacedOnceThenUpdatedOnRealChanges(): void
    {
        $order = $this->newOrder();
        $this->save($this->orders, 'order', $order);
        $this->save($this->orders, 'order', $order); // saved again, nothing changed
        $order->data['state'] = $order->data['status'] = 'processing'; // invoiced in the same request
        $this->save($this->orders, 'order', $order);
        $this->save($this->orders, 'order', $order);
        $this->resource->commit();
        self::assertSame(['order.placed', 'order.updated'], $this->committedTypes());
    }

    public function testStatusChangesCancellationsAndCommentsOfALoadedOrder(): void
    {
        $this->save($this->orders, 'order', $this->loadedOrder('processing', 'processing')); // a comment
        $shipped = $this->loadedOrder('processing', 'processing');
        $shipped->data['state'] = $shipped->data['status'] = 'complete';
        $this->save($this->orders, 'order', $shipped);
        $cancelled = $this->loadedOrder('new', 'pending');
        $cancelled->data['state'] = $cancelled->data['status'] = 'canceled';
        $this->save($this->orders, 'order', $cancelled);
        $again = $this->loadedOrder('canceled', 'canceled');
        $this->save($this->orders, 'order', $again);
        $this->resource->commit();
        self::assertSame(['order.updated', 'order.cancelled'], $this->committedTypes());
    }

    public function testAnOrderIsCancelledOnceEvenIfTwoRequestsSeeTheCancellation(): void
    {
        foreach ([1, 2] as $_) {
            $o = $this->loadedOrder('processing', 'processing');
            $o->data['state'] = $o->data['status'] = 'canceled';
            $this->save($this->orders, 'order', $o);
            $this->resource->commit();
        }
        self::assertSame(['order.cancelled'], $this->committedTypes());
    }

    public function testEventTypesSwitchedOffAndTheModuleSwitchedOffRecordNothing(): void
    {
        $this->settings->values[Config::XML_EVENT_TYPES] = 'order.cancelled';
        $this->save($this->orders, 'order', $this->newOrder());
        $this->settings->values[Config::XML_EVENT_TYPES] = 'order.placed';
        $this->settings->values[Config::XML_ENABLED] = '0';
        $this->save($this->orders, 'order', $this->newOrder());
        $this->resource->commit();
        self::assertSame([], $this->resource->connection->committed);
    }

    public function testAnOrderWithoutIdIsIgnored(): void
    {
        $order = $this->newOrder();
        unset($order->data['entity_id']);
        $this->save($this->orders, 'order', $order);
        self::assertSame([], $this->resource->connection->uncommitted);
    }

    public function testANewCreditMemoIsRecordedOnceWithItsOrdersNumber(): void
    {
        $memo = new SalesEntity(['entity_id' => 7], null, $this->resource);
        $memo->order = $this->loadedOrder('complete', 'complete');
        $this->save($this->memos, 'creditmemo', $memo);
        $this->save($this->memos, 'creditmemo', $memo);
        $loaded = new SalesEntity(['entity_id' => 7], ['entity_id' => 7], $this->resource);
        $this->save($this->memos, 'creditmemo', $loaded);
        $this->resource->commit();
        $rows = array_values($this->resource->connection->committed);
        self::assertCount(1, $rows);
        self::assertSame(['creditmemo.created', 'creditmemo', 7, '000000042'], [$rows[0]['event_type'], $rows[0]['entity_type'], $rows[0]['entity_id'], $rows[0]['increment_id']]);
        self::assertCount(1, $this->publisher->published);
    }
}
