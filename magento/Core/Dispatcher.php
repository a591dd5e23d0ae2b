<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Core;

/**
 * Sends outbox rows, in stages: claim (short write) → build the body once → sign with a fresh
 * webhook-timestamp → POST with no transaction open → record the outcome, fenced on the attempt.
 * Called by the queue consumer (one row, right after the checkout commits) and by the cron
 * (every due row: retries, and anything whose queue message was lost).
 */
final class Dispatcher
{
    private OutboxStore $store;
    private PayloadSource $payloads;
    private Transport $transport;
    private EnvelopeBuilder $envelopes;
    private DispatchSettings $settings;
    /** @var callable(): int */
    private $clock;

    /** @param callable(): int|null $clock unix seconds; time() unless a test fixes it */
    public function __construct(
        OutboxStore $store,
        PayloadSource $payloads,
        Transport $transport,
        EnvelopeBuilder $envelopes,
        DispatchSettings $settings,
        ?callable $clock = null
    ) {
        $this->store = $store;
        $this->payloads = $payloads;
        $this->transport = $transport;
        $this->envelopes = $envelopes;
        $this->settings = $settings;
        $this->clock = $clock ?? static fn (): int => time();
    }

    /**
     * Sends up to $limit due rows, oldest first, claiming each just before its attempt (so that a
     * lease never runs out while a row waits behind others). Stops at the first attempt to be
     * retried: when b1bridge is down or overloaded, the rest of the batch keeps its attempts and
     * its order instead of each spending one on the same outage.
     *
     * @return array<int, string> outbox id → "delivered" | "pending" | "failed" | "lost" (lease lost)
     */
    public function sendDue(int $limit): array
    {
        $results = [];
        while (count($results) < $limit) {
            $now = ($this->clock)();
            $claimed = $this->store->claimDue(1, $now, $now + $this->settings->leaseSeconds());
            if ($claimed === []) {
                break;
            }
            $message = $claimed[0];
            $results[$message->id] = $this->attempt($message);
            if ($results[$message->id] === OutboxStatus::PENDING) {
                break;
            }
        }
        return $results;
    }

    /** Sends one row if it is due and unclaimed; null when it is not (already sent, or not yet due). */
    public function sendOne(int $outboxId): ?string
    {
        $now = ($this->clock)();
        $message = $this->store->claimOne($outboxId, $now, $now + $this->settings->leaseSeconds());
        return $message === null ? null : $this->attempt($message);
    }

    private function attempt(OutboxMessage $m): string
    {
        $states = $this->settings->states;
        if (!$states->mayAttempt($m->attempts)) {
            return $this->finish($m, $states->exhausted($m->attempts, ($this->clock)()));
        }
        $outcome = $this->deliver($m);
        return $this->finish($m, $states->afterAttempt($m->attempts, $outcome, ($this->clock)()));
    }

    private function deliver(OutboxMessage $m): DeliveryOutcome
    {
        if ($m->payload === null) {
            try {
                $m->payload = $this->envelopes->build($m->eventType, $m->occurredAt, $this->payloads->dataFor($m));
            } catch (PayloadUnavailable $e) {
                return DeliveryOutcome::unbuildable($e->getMessage());
            } catch (\InvalidArgumentException | \JsonException $e) {
                return DeliveryOutcome::unbuildable('cannot build the event: ' . $e->getMessage());
            } catch (\Throwable $e) {
                return DeliveryOutcome::notBuiltYet('cannot read the ' . $m->entityType . ' now: ' . $e->getMessage());
            }
            $this->store->storePayload($m->id, $m->attempts, $m->payload);
        }
        // A fresh timestamp per attempt: b1bridge refuses signatures older than its tolerance
        // (five minutes by default), and a retry may come hours later.
        $headers = $this->settings->signer->headers($m->webhookId, ($this->clock)(), $m->payload);
        $answer = $this->transport->post(
            $this->settings->endpointUrl,
            $headers,
            $m->payload,
            $this->settings->connectTimeout,
            $this->settings->timeout
        );
        return DeliveryOutcome::fromResponse($answer);
    }

    private function finish(OutboxMessage $m, Transition $t): string
    {
        return $this->store->finishAttempt($m->id, $m->attempts, $t) ? $t->status : 'lost';
    }
}
