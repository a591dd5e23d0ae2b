<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Model;

use B1Bridge\Webhook\Core\BackoffSchedule;
use B1Bridge\Webhook\Core\DispatchSettings;
use B1Bridge\Webhook\Core\EventType;
use B1Bridge\Webhook\Core\OutboxStateMachine;
use B1Bridge\Webhook\Core\StandardWebhookSigner;
use Magento\Framework\App\Config\ScopeConfigInterface;

/**
 * The admin settings (Stores > Configuration > Services > b1bridge), read at default scope: one
 * Magento installation talks to one b1bridge. Defaults live in etc/config.xml. The secret path is
 * declared there with the Encrypted backend model, so getValue() returns it decrypted.
 */
class Config
{
    public const XML_ENABLED = 'b1bridge/webhook/enabled';
    public const XML_ENDPOINT_URL = 'b1bridge/webhook/endpoint_url';
    public const XML_SECRET = 'b1bridge/webhook/secret';
    public const XML_EVENT_TYPES = 'b1bridge/webhook/event_types';
    public const XML_BATCH_SIZE = 'b1bridge/webhook/batch_size';
    public const XML_CONNECT_TIMEOUT = 'b1bridge/webhook/connect_timeout';
    public const XML_TIMEOUT = 'b1bridge/webhook/timeout';
    public const XML_MAX_ATTEMPTS = 'b1bridge/webhook/max_attempts';
    public const XML_BACKOFF = 'b1bridge/webhook/backoff';
    public const XML_RETENTION_DAYS = 'b1bridge/webhook/delivered_retention_days';

    private ScopeConfigInterface $scopeConfig;

    public function __construct(ScopeConfigInterface $scopeConfig)
    {
        $this->scopeConfig = $scopeConfig;
    }

    /** When off, nothing is recorded and nothing is sent. */
    public function isEnabled(): bool
    {
        return $this->scopeConfig->isSetFlag(self::XML_ENABLED);
    }

    /** Whether changes of this type are recorded (and so, sent). */
    public function records(string $eventType): bool
    {
        return $this->isEnabled() && in_array($eventType, $this->enabledEventTypes(), true);
    }

    /** @return list<string> */
    public function enabledEventTypes(): array
    {
        $raw = (string) $this->scopeConfig->getValue(self::XML_EVENT_TYPES);
        $chosen = array_map('trim', explode(',', $raw));
        return array_values(array_intersect(EventType::ALL, $chosen));
    }

    public function batchSize(): int
    {
        return max(1, (int) $this->scopeConfig->getValue(self::XML_BATCH_SIZE));
    }

    public function retentionDays(): int
    {
        return max(1, (int) $this->scopeConfig->getValue(self::XML_RETENTION_DAYS));
    }

    /**
     * What stops sending, in words for the admin and the log; empty when events can be sent.
     * Events keep being recorded meanwhile, and go out once the settings are complete.
     *
     * @return list<string>
     */
    public function problems(bool $requireEnabled = true): array
    {
        $problems = [];
        if ($requireEnabled && !$this->isEnabled()) {
            $problems[] = 'the module is disabled (Stores > Configuration > Services > b1bridge > Enabled)';
        }
        $url = trim((string) $this->scopeConfig->getValue(self::XML_ENDPOINT_URL));
        $urlProblem = DispatchSettings::problemWithUrl($url);
        if ($url === '') {
            $problems[] = 'no endpoint URL is set';
        } elseif ($urlProblem !== null) {
            $problems[] = $urlProblem;
        }
        $secret = (string) $this->scopeConfig->getValue(self::XML_SECRET);
        if ($secret === '') {
            $problems[] = 'no signing secret is set';
        } elseif (($secretProblem = StandardWebhookSigner::problemWith($secret)) !== null) {
            $problems[] = $secretProblem;
        }
        try {
            $this->schedule();
        } catch (\InvalidArgumentException $e) {
            $problems[] = 'backoff: ' . $e->getMessage();
        }
        return $problems;
    }

    /**
     * The sender's settings, or null when problems() is not empty. send-test passes false, so
     * that the connection can be checked before the module is switched on.
     */
    public function dispatchSettings(bool $requireEnabled = true): ?DispatchSettings
    {
        if ($this->problems($requireEnabled) !== []) {
            return null;
        }
        return new DispatchSettings(
            trim((string) $this->scopeConfig->getValue(self::XML_ENDPOINT_URL)),
            new StandardWebhookSigner((string) $this->scopeConfig->getValue(self::XML_SECRET)),
            max(1, (int) $this->scopeConfig->getValue(self::XML_CONNECT_TIMEOUT)),
            max(1, (int) $this->scopeConfig->getValue(self::XML_TIMEOUT)),
            new OutboxStateMachine($this->schedule(), max(1, (int) $this->scopeConfig->getValue(self::XML_MAX_ATTEMPTS)))
        );
    }

    private function schedule(): BackoffSchedule
    {
        return BackoffSchedule::fromList((string) $this->scopeConfig->getValue(self::XML_BACKOFF));
    }
}
