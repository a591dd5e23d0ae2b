<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Core;

/** Everything a sender needs, validated (Model\Config builds it from the admin settings). */
final class DispatchSettings
{
    public string $endpointUrl;
    public StandardWebhookSigner $signer;
    public int $connectTimeout;
    public int $timeout;
    public OutboxStateMachine $states;

    public function __construct(
        string $endpointUrl,
        StandardWebhookSigner $signer,
        int $connectTimeout,
        int $timeout,
        OutboxStateMachine $states
    ) {
        $problem = self::problemWithUrl($endpointUrl);
        if ($problem !== null) {
            throw new \InvalidArgumentException($problem);
        }
        if ($connectTimeout < 1 || $timeout < 1) {
            throw new \InvalidArgumentException('time-outs are at least one second');
        }
        $this->endpointUrl = $endpointUrl;
        $this->signer = $signer;
        $this->connectTimeout = $connectTimeout;
        $this->timeout = $timeout;
        $this->states = $states;
    }

    /**
     * How long a claimed row stays reserved: longer than any attempt can take, so that two
     * senders (cron and queue consumer) never send one event at once while both are alive.
     */
    public function leaseSeconds(): int
    {
        return $this->connectTimeout + $this->timeout + 60;
    }

    public static function problemWithUrl(string $url): ?string
    {
        $parts = parse_url($url);
        if ($url === '' || $parts === false || !isset($parts['scheme'], $parts['host'])) {
            return "the endpoint URL '$url' is not an absolute URL";
        }
        if (!in_array(strtolower($parts['scheme']), ['http', 'https'], true)) {
            return 'the endpoint URL must be http or https';
        }
        return null;
    }
}
