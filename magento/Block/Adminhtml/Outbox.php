<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Block\Adminhtml;

use B1Bridge\Webhook\Model\Config;
use B1Bridge\Webhook\Model\OutboxTable;
use Magento\Backend\Block\Template;
use Magento\Backend\Block\Template\Context;

/** Feeds view/adminhtml/templates/outbox.phtml. */
class Outbox extends Template
{
    /** The page lists at most this many failed events, newest first. */
    public const LIST_LIMIT = 200;

    private OutboxTable $outbox;
    private Config $config;

    public function __construct(Context $context, OutboxTable $outbox, Config $config, array $data = [])
    {
        parent::__construct($context, $data);
        $this->outbox = $outbox;
        $this->config = $config;
    }

    /** @return list<array<string, mixed>> */
    public function failedEvents(): array
    {
        return $this->outbox->failed(self::LIST_LIMIT);
    }

    /** @return array<string, int> */
    public function counts(): array
    {
        return $this->outbox->countByStatus();
    }

    /** @return list<string> why nothing is being sent, if so */
    public function problems(): array
    {
        return $this->config->problems();
    }

    public function resendUrl(): string
    {
        return $this->getUrl('b1bridge/outbox/resend');
    }

    public function time(?int $unix): string
    {
        return $unix ? gmdate('Y-m-d H:i:s', $unix) . ' UTC' : '';
    }
}
