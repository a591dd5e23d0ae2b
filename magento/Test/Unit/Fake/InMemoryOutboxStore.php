<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Test\Unit\Fake;

use B1Bridge\Webhook\Core\OutboxMessage;
use B1Bridge\Webhook\Core\OutboxStateMachine;
use B1Bridge\Webhook\Core\OutboxStatus;
use B1Bridge\Webhook\Core\OutboxStore;
use B1Bridge\Webhook\Core\Transition;

/**
 * The outbox table in memory, with the same rules as Model\OutboxTable's SQL (claimable rows,
 * the attempt fence), for the Dispatcher's tests and the check against a running b1bridge.
 */
final class InMemoryOutboxStore implements OutboxStore
{
    /** @var array<int, array<string, mixed>> */
    public array $rows = [];
    private int $nextId = 1;

    public function record(string $webhookId, string $type, string $entityType, int $entityId, int $occurredAt): int
    {
        $id = $this->nextId++;
        $this->rows[$id] = [
            'webhook_id' => $webhookId,
            'event_type' => $type,
            'entity_type' => $entityType,
            'entity_id' => $entityId,
            'occurred_at' => $occurredAt,
            'status' => OutboxStatus::PENDING,
            'attempts' => 0,
            'next_attempt_at' => $occurredAt,
            'locked_until' => null,
            'payload' => null,
            'last_http_status' => null,
            'last_error' => null,
            'delivered_at' => null,
        ];
        return $id;
    }

    public function claimDue(int $limit, int $now, int $leaseUntil): array
    {
        $claimed = [];
        foreach (array_keys($this->rows) as $id) {
            if (count($claimed) >= $limit) {
                break;
            }
            $m = $this->claimOne($id, $now, $leaseUntil);
            if ($m !== null) {
                $claimed[] = $m;
            }
        }
        return $claimed;
    }

    public function claimOne(int $id, int $now, int $leaseUntil): ?OutboxMessage
    {
        $r = $this->rows[$id] ?? null;
        if ($r === null || !OutboxStateMachine::claimable($r['status'], $r['next_attempt_at'], $r['locked_until'], $now)) {
            return null;
        }
        $r['status'] = OutboxStatus::SENDING;
        $r['attempts']++;
        $r['locked_until'] = $leaseUntil;
        $this->rows[$id] = $r;
        return new OutboxMessage(
            $id,
            $r['webhook_id'],
            $r['event_type'],
            $r['entity_type'],
            $r['entity_id'],
            $r['occurred_at'],
            $r['attempts'],
            $r['payload']
        );
    }

    public function storePayload(int $id, int $attempts, string $payload): void
    {
        if ($this->holds($id, $attempts)) {
            $this->rows[$id]['payload'] = $payload;
        }
    }

    public function finishAttempt(int $id, int $attempts, Transition $t): bool
    {
        if (!$this->holds($id, $attempts)) {
            return false;
        }
        $this->rows[$id] = array_merge($this->rows[$id], [
            'status' => $t->status,
            'next_attempt_at' => $t->nextAttemptAt,
            'locked_until' => null,
            'last_http_status' => $t->httpStatus,
            'last_error' => $t->error,
            'delivered_at' => $t->deliveredAt,
        ]);
        return true;
    }

    public function resend(int $id, int $now): void
    {
        $t = OutboxStateMachine::resend($this->rows[$id]['status'], $now);
        $this->rows[$id] = array_merge($this->rows[$id], [
            'status' => $t->status,
            'attempts' => 0,
            'next_attempt_at' => $t->nextAttemptAt,
            'last_error' => null,
        ]);
    }

    private function holds(int $id, int $attempts): bool
    {
        $r = $this->rows[$id] ?? null;
        return $r !== null && $r['status'] === OutboxStatus::SENDING && $r['attempts'] === $attempts;
    }
}
