<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Observer;

use B1Bridge\Webhook\Core\OrderChangeClassifier;
use B1Bridge\Webhook\Model\EventRecorder;
use Magento\Framework\Event\Observer;
use Magento\Framework\Event\ObserverInterface;

/**
 * On sales_order_save_after — inside the order's save transaction — records order.placed,
 * order.cancelled or order.updated (OrderChangeClassifier decides).
 *
 * Why this one event for all three: at sales_order_place_after the order has no entity_id yet
 * (it is placed before it is saved), and order_cancel_after fires before the cancellation is
 * saved; neither can write a row that commits with the change. The save event sees both.
 */
class RecordOrderEvent implements ObserverInterface
{
    private EventRecorder $recorder;
    /**
     * The state and status this process last recorded per order object. Magento's origData keeps
     * the values loaded from the database even after a save, so an order saved twice in one
     * request would otherwise look changed twice. A WeakMap forgets an order with its object.
     *
     * @var \WeakMap<object, array{0: ?string, 1: ?string}>
     */
    private \WeakMap $seen;

    public function __construct(EventRecorder $recorder)
    {
        $this->recorder = $recorder;
        $this->seen = new \WeakMap();
    }

    public function execute(Observer $observer): void
    {
        $order = $observer->getEvent()->getData('order');
        if (!is_object($order) || !$order->getId()) {
            return;
        }
        $state = self::str($order->getState());
        $status = self::str($order->getStatus());
        if (isset($this->seen[$order])) {
            [$previousState, $previousStatus] = $this->seen[$order];
            $isNew = false;
        } else {
            // Never loaded (no original id) means this save inserted it.
            $isNew = !$order->getOrigData('entity_id');
            $previousState = self::str($order->getOrigData('state'));
            $previousStatus = self::str($order->getOrigData('status'));
        }
        $this->seen[$order] = [$state, $status];
        $type = OrderChangeClassifier::classify($isNew, $previousState, $previousStatus, $state, $status);
        if ($type === null) {
            return;
        }
        $this->recorder->record($order->getResource(), $type, 'order', (int) $order->getId(), self::str($order->getIncrementId()));
    }

    private static function str($value): ?string
    {
        return $value === null || $value === '' ? null : (string) $value;
    }
}
