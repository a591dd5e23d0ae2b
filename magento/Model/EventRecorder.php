<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Model;

use B1Bridge\Webhook\Core\OrderChangeClassifier;
use B1Bridge\Webhook\Core\WebhookIds;
use Magento\Framework\MessageQueue\PublisherInterface;
use Magento\Framework\Model\ResourceModel\Db\AbstractDb;

/**
 * Records an event in the outbox inside the transaction that is saving the order or credit memo
 * (the observers run in the *_save_after events, before Magento commits), and asks the queue
 * consumer to send it once that transaction has committed. No HTTP call happens here: the
 * checkout request only writes one row.
 */
class EventRecorder
{
    /** Topic of etc/communication.xml; the message is the outbox id. */
    public const TOPIC = 'b1bridge.webhook.send';

    private OutboxTable $outbox;
    private PublisherInterface $publisher;
    private Config $config;

    public function __construct(OutboxTable $outbox, PublisherInterface $publisher, Config $config)
    {
        $this->outbox = $outbox;
        $this->publisher = $publisher;
        $this->config = $config;
    }

    /**
     * @param AbstractDb $resource the resource model saving the entity: its connection carries the
     *                             open transaction, and its commit callbacks run after the commit
     * @return int|null the outbox id, or null when the event type is switched off or the event
     *                  was recorded already
     */
    public function record(
        AbstractDb $resource,
        string $eventType,
        string $entityType,
        int $entityId,
        ?string $incrementId
    ): ?int {
        if (!$this->config->records($eventType)) {
            return null;
        }
        $id = $this->outbox->record(
            $resource->getConnection(),
            OrderChangeClassifier::eventKey($eventType, $entityId, WebhookIds::generate()),
            WebhookIds::generate(),
            $eventType,
            $entityType,
            $entityId,
            $incrementId,
            time()
        );
        if ($id === null) {
            return null;
        }
        // Publishing before the commit could let the consumer look for a row it cannot see yet.
        // If the publish itself fails, the cron sends the row at its next run.
        $resource->addCommitCallback(function () use ($id): void {
            $this->publisher->publish(self::TOPIC, (string) $id);
        });
        return $id;
    }
}
