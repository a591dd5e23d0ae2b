<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Observer;

use B1Bridge\Webhook\Core\EventType;
use B1Bridge\Webhook\Model\EventRecorder;
use Magento\Framework\Event\Observer;
use Magento\Framework\Event\ObserverInterface;

/**
 * On sales_order_creditmemo_save_after — inside the refund's transaction — records
 * creditmemo.created for a credit memo that this save inserted. Later saves of the same memo
 * (comments, e-mail flags) record nothing; the outbox's event key makes a repeat harmless anyway.
 */
class RecordCreditmemoEvent implements ObserverInterface
{
    private EventRecorder $recorder;

    public function __construct(EventRecorder $recorder)
    {
        $this->recorder = $recorder;
    }

    public function execute(Observer $observer): void
    {
        $memo = $observer->getEvent()->getData('creditmemo');
        if (!is_object($memo) || !$memo->getId() || $memo->getOrigData('entity_id')) {
            return;
        }
        $order = $memo->getOrder();
        $incrementId = is_object($order) ? $order->getIncrementId() : null;
        $this->recorder->record(
            $memo->getResource(),
            EventType::CREDITMEMO_CREATED,
            'creditmemo',
            (int) $memo->getId(),
            $incrementId === null ? null : (string) $incrementId
        );
    }
}
