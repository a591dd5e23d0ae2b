<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Cron;

use B1Bridge\Webhook\Model\Config;
use B1Bridge\Webhook\Model\OutboxTable;

/** Daily: deletes delivered events older than the retention; failed ones stay until resent. */
class PurgeDelivered
{
    private OutboxTable $outbox;
    private Config $config;

    public function __construct(OutboxTable $outbox, Config $config)
    {
        $this->outbox = $outbox;
        $this->config = $config;
    }

    public function execute(): void
    {
        $this->outbox->purgeDelivered(time() - 86400 * $this->config->retentionDays());
    }
}
