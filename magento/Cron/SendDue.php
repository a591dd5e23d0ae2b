<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Cron;

use B1Bridge\Webhook\Model\Config;
use B1Bridge\Webhook\Model\DispatcherFactory;
use Psr\Log\LoggerInterface;

/**
 * Every minute: sends up to "batch size" due rows — retries whose backoff has passed, rows whose
 * queue message was lost or whose consumer is not running, and rows of a sender that died
 * mid-attempt. This alone delivers everything; the queue consumer only makes it faster.
 */
class SendDue
{
    private DispatcherFactory $dispatchers;
    private Config $config;
    private LoggerInterface $logger;

    public function __construct(DispatcherFactory $dispatchers, Config $config, LoggerInterface $logger)
    {
        $this->dispatchers = $dispatchers;
        $this->config = $config;
        $this->logger = $logger;
    }

    public function execute(): void
    {
        if (!$this->config->isEnabled()) {
            return;
        }
        $dispatcher = $this->dispatchers->create();
        if ($dispatcher === null) {
            return;
        }
        $results = $dispatcher->sendDue($this->config->batchSize());
        $counts = array_count_values($results);
        if (($counts['pending'] ?? 0) + ($counts['failed'] ?? 0) > 0) {
            $this->logger->warning(sprintf(
                'b1bridge: %d events sent, %d to retry, %d failed (Sales > b1bridge webhooks)',
                $counts['delivered'] ?? 0,
                $counts['pending'] ?? 0,
                $counts['failed'] ?? 0
            ));
        }
    }
}
