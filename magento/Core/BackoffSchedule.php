<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Core;

/**
 * How long to wait after a failed attempt. The default follows the schedule Standard Webhooks
 * recommends (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h), so with the
 * default ten attempts an event keeps being retried for about three days, long enough to ride
 * out a weekend outage of b1bridge. Sends are driven by a one-minute cron and a queue consumer,
 * so waits shorter than a minute become "at the next run".
 */
final class BackoffSchedule
{
    public const DEFAULT_DELAYS = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400];
    /** A server's Retry-After is honoured, but never beyond a day. */
    public const MAX_RETRY_AFTER = 86400;

    /** @var list<int> */
    private array $delays;

    /** @param list<int> $delays seconds to wait after attempt 1, 2, …; the last repeats */
    public function __construct(array $delays = self::DEFAULT_DELAYS)
    {
        if ($delays === []) {
            throw new \InvalidArgumentException('a backoff schedule needs at least one delay');
        }
        foreach ($delays as $d) {
            if (!is_int($d) || $d < 0) {
                throw new \InvalidArgumentException('backoff delays are whole seconds, zero or more');
            }
        }
        $this->delays = array_values($delays);
    }

    /** Parses "5,300,1800" as entered in the admin. */
    public static function fromList(string $list): self
    {
        $parts = array_filter(array_map('trim', explode(',', $list)), static fn ($p) => $p !== '');
        $delays = [];
        foreach ($parts as $p) {
            if (!ctype_digit($p)) {
                throw new \InvalidArgumentException("backoff delay '$p' is not a whole number of seconds");
            }
            $delays[] = (int) $p;
        }
        return new self($delays);
    }

    /**
     * Seconds to wait before the attempt after attempt number $attempt (1-based).
     * A Retry-After from the server (429, 503) wins when it asks for longer.
     */
    public function delayAfter(int $attempt, ?int $retryAfter = null): int
    {
        if ($attempt < 1) {
            throw new \InvalidArgumentException('attempts are counted from 1');
        }
        $delay = $this->delays[min($attempt, count($this->delays)) - 1];
        if ($retryAfter !== null && $retryAfter > $delay) {
            $delay = min($retryAfter, self::MAX_RETRY_AFTER);
        }
        return $delay;
    }
}
