<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Model\Config\Source;

use B1Bridge\Webhook\Core\EventType;
use Magento\Framework\Data\OptionSourceInterface;

/** The choices of "Events to send". */
class EventTypes implements OptionSourceInterface
{
    private const LABELS = [
        EventType::ORDER_PLACED => 'Order placed (order.placed)',
        EventType::ORDER_UPDATED => 'Order state or status changed (order.updated)',
        EventType::ORDER_CANCELLED => 'Order cancelled (order.cancelled)',
        EventType::CREDITMEMO_CREATED => 'Credit memo created (creditmemo.created)',
    ];

    public function toOptionArray(): array
    {
        $options = [];
        foreach (EventType::ALL as $type) {
            $options[] = ['value' => $type, 'label' => __(self::LABELS[$type])];
        }
        return $options;
    }
}
