<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Queue;

use B1Bridge\Webhook\Model\DispatcherFactory;
use Psr\Log\LoggerInterface;

/**
 * Handler of the b1bridge.webhook.send consumer (etc/queue_consumer.xml, MySQL queue "db"): sends
 * the outbox row the message names, right after the order's transaction committed. It never
 * throws: Magento's consumer would mark the message failed without retrying it, while the outbox
 * row keeps its own retry schedule, which the cron follows.
 */
class SendConsumer
{
    private DispatcherFactory $dispatchers;
    private LoggerInterface $logger;

    public function __construct(DispatcherFactory $dispatchers, LoggerInterface $logger)
    {
        $this->dispatchers = $dispatchers;
        $this->logger = $logger;
    }

    public function process(string $outboxId): void
    {
        if (!ctype_digit($outboxId)) {
            $this->logger->error("b1bridge: queue message '$outboxId' is not an outbox id; ignored");
            return;
        }
        $dispatcher = $this->dispatchers->create();
        if ($dispatcher === null) {
            return; // Logged by the factory; the row waits for the settings and the cron.
        }
        try {
            $result = $dispatcher->sendOne((int) $outboxId);
            if ($result !== null && $result !== 'delivered') {
                $this->logger->warning("b1bridge: event $outboxId not delivered ($result); the cron retries it on schedule");
            }
        } catch (\Throwable $e) {
            $this->logger->error("b1bridge: sending event $outboxId failed: " . $e->getMessage());
        }
    }
}
