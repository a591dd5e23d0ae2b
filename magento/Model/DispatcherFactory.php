<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Model;

use B1Bridge\Webhook\Core\Dispatcher;
use B1Bridge\Webhook\Core\EnvelopeBuilder;
use B1Bridge\Webhook\Core\Transport;
use Psr\Log\LoggerInterface;

/**
 * Builds a Dispatcher from the settings in force, or says why it cannot: the settings are read
 * at every run, so a change in the admin applies to the next send without a cache flush of ours.
 */
class DispatcherFactory
{
    private Config $config;
    private OutboxTable $outbox;
    private RestPayloadSource $payloads;
    private Transport $transport;
    private LoggerInterface $logger;

    public function __construct(
        Config $config,
        OutboxTable $outbox,
        RestPayloadSource $payloads,
        Transport $transport,
        LoggerInterface $logger
    ) {
        $this->config = $config;
        $this->outbox = $outbox;
        $this->payloads = $payloads;
        $this->transport = $transport;
        $this->logger = $logger;
    }

    /** Null (and a warning in the log naming what is missing) when sending is not possible. */
    public function create(): ?Dispatcher
    {
        $settings = $this->config->dispatchSettings();
        if ($settings === null) {
            $this->logger->warning('b1bridge webhooks are not sent: ' . implode('; ', $this->config->problems()));
            return null;
        }
        return new Dispatcher($this->outbox, $this->payloads, $this->transport, new EnvelopeBuilder(), $settings);
    }
}
