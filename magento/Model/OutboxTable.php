<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Model;

use B1Bridge\Webhook\Core\OutboxMessage;
use B1Bridge\Webhook\Core\OutboxStatus;
use B1Bridge\Webhook\Core\OutboxStore;
use B1Bridge\Webhook\Core\Transition;
use Magento\Framework\App\ResourceConnection;
use Magento\Framework\DB\Adapter\AdapterInterface;

/**
 * All SQL on b1bridge_webhook_outbox (etc/db_schema.xml). Times are unix seconds in integer
 * columns, so no session time zone can shift a retry. Claims are a conditional UPDATE whose row
 * count says who won, which works the same on MySQL and MariaDB without row locks held across
 * the HTTP call.
 */
class OutboxTable implements OutboxStore
{
    public const TABLE = 'b1bridge_webhook_outbox';

    /**
     * The claimable rule of OutboxStateMachine::claimable(), in SQL; binds "now" twice. Positional
     * binds throughout: a named bind may not repeat under PDO's native prepares.
     */
    private const CLAIMABLE = "((status = 'pending' AND next_attempt_at <= ?)"
        . " OR (status = 'sending' AND locked_until < ?))";

    private ResourceConnection $resource;

    public function __construct(ResourceConnection $resource)
    {
        $this->resource = $resource;
    }

    /**
     * Records an event on $db: the connection whose transaction is saving the order or credit
     * memo, so that the row commits or rolls back with Magento's own change. Recording the same
     * $eventKey twice keeps the first row. Returns the new row's id, or null when the event was
     * already recorded (MySQL counts 1 affected row for an insert, 0 for an unchanged duplicate; a
     * server that counted found rows would cause at worst a redundant queue message, which the
     * claim ignores).
     */
    public function record(
        AdapterInterface $db,
        string $eventKey,
        string $webhookId,
        string $eventType,
        string $entityType,
        int $entityId,
        ?string $incrementId,
        int $now
    ): ?int {
        $table = $this->resource->getTableName(self::TABLE);
        $inserted = $db->insertOnDuplicate($table, [
            'event_key' => $eventKey,
            'webhook_id' => $webhookId,
            'event_type' => $eventType,
            'entity_type' => $entityType,
            'entity_id' => $entityId,
            'increment_id' => $incrementId,
            'status' => OutboxStatus::PENDING,
            'attempts' => 0,
            'occurred_at' => $now,
            'next_attempt_at' => $now,
            'updated_at' => $now,
        ], ['event_key']);
        if ((int) $inserted !== 1) {
            return null;
        }
        return (int) $db->fetchOne("SELECT outbox_id FROM $table WHERE event_key = ?", [$eventKey]);
    }

    public function claimDue(int $limit, int $now, int $leaseUntil): array
    {
        $db = $this->db();
        $ids = $db->fetchCol(
            'SELECT outbox_id FROM ' . $this->table() . ' WHERE ' . self::CLAIMABLE
            . ' ORDER BY outbox_id LIMIT ' . max(1, $limit),
            [$now, $now]
        );
        $claimed = [];
        foreach ($ids as $id) {
            $message = $this->claimOne((int) $id, $now, $leaseUntil);
            if ($message !== null) {
                $claimed[] = $message;
            }
        }
        return $claimed;
    }

    public function claimOne(int $id, int $now, int $leaseUntil): ?OutboxMessage
    {
        $db = $this->db();
        $won = $db->query(
            'UPDATE ' . $this->table() . " SET status = 'sending', attempts = attempts + 1,"
            . ' locked_until = ?, updated_at = ? WHERE outbox_id = ? AND ' . self::CLAIMABLE,
            [$leaseUntil, $now, $id, $now, $now]
        )->rowCount();
        if ($won !== 1) {
            return null;
        }
        $row = $db->fetchRow('SELECT * FROM ' . $this->table() . ' WHERE outbox_id = ?', [$id]);
        return new OutboxMessage(
            (int) $row['outbox_id'],
            (string) $row['webhook_id'],
            (string) $row['event_type'],
            (string) $row['entity_type'],
            (int) $row['entity_id'],
            (int) $row['occurred_at'],
            (int) $row['attempts'],
            $row['payload'] === null ? null : (string) $row['payload']
        );
    }

    public function storePayload(int $id, int $attempts, string $payload): void
    {
        $this->db()->query(
            'UPDATE ' . $this->table() . " SET payload = ? WHERE outbox_id = ? AND status = 'sending' AND attempts = ?",
            [$payload, $id, $attempts]
        );
    }

    public function finishAttempt(int $id, int $attempts, Transition $t): bool
    {
        return $this->db()->query(
            'UPDATE ' . $this->table() . ' SET status = ?, next_attempt_at = ?, locked_until = NULL,'
            . ' last_http_status = ?, last_error = ?, delivered_at = ?, updated_at = ?'
            . " WHERE outbox_id = ? AND status = 'sending' AND attempts = ?",
            [
                $t->status,
                $t->nextAttemptAt,
                $t->httpStatus,
                $t->error === null ? null : mb_substr($t->error, 0, 2000),
                $t->deliveredAt,
                time(),
                $id,
                $attempts,
            ]
        )->rowCount() === 1;
    }

    /** An operator's "resend" (OutboxStateMachine::resend): false when the row is not failed. */
    public function resend(int $id, int $now): bool
    {
        return $this->db()->query(
            'UPDATE ' . $this->table() . " SET status = 'pending', attempts = 0, next_attempt_at = ?,"
            . " last_error = NULL, updated_at = ? WHERE outbox_id = ? AND status = 'failed'",
            [$now, $now, $id]
        )->rowCount() === 1;
    }

    /** @return list<array<string, mixed>> failed rows, newest first, without their bodies */
    public function failed(int $limit): array
    {
        return $this->db()->fetchAll(
            'SELECT outbox_id, webhook_id, event_type, entity_type, entity_id, increment_id, attempts,'
            . ' occurred_at, updated_at, last_http_status, last_error FROM ' . $this->table()
            . " WHERE status = 'failed' ORDER BY outbox_id DESC LIMIT " . max(1, $limit)
        );
    }

    /** @return array<string, int> rows per status, every status listed */
    public function countByStatus(): array
    {
        $counts = array_fill_keys(OutboxStatus::ALL, 0);
        foreach ($this->db()->fetchPairs('SELECT status, COUNT(*) FROM ' . $this->table() . ' GROUP BY status') as $s => $n) {
            $counts[$s] = (int) $n;
        }
        return $counts;
    }

    /** The newest order whose order.placed b1bridge accepted (send-test's default subject). */
    public function newestDeliveredOrderId(): ?int
    {
        $id = $this->db()->fetchOne(
            'SELECT entity_id FROM ' . $this->table()
            . " WHERE event_type = 'order.placed' AND status = 'delivered' ORDER BY outbox_id DESC LIMIT 1"
        );
        return $id === false || $id === null ? null : (int) $id;
    }

    /** Deletes delivered rows older than $before; failed and pending rows are never deleted. */
    public function purgeDelivered(int $before): int
    {
        return $this->db()->query(
            'DELETE FROM ' . $this->table() . " WHERE status = 'delivered' AND delivered_at < ?",
            [$before]
        )->rowCount();
    }

    private function db(): AdapterInterface
    {
        return $this->resource->getConnection();
    }

    private function table(): string
    {
        return $this->resource->getTableName(self::TABLE);
    }
}
