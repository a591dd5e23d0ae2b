<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Test\Unit\Fake;

use Magento\Framework\App\Config\ScopeConfigInterface;
use Magento\Framework\DB\Adapter\AdapterInterface;
use Magento\Framework\DB\Statement;
use Magento\Framework\MessageQueue\PublisherInterface;
use Magento\Framework\Model\ResourceModel\Db\AbstractDb;
use Psr\Log\LoggerInterface;

/** Configuration values by path, as Magento would return them (strings). */
final class ArrayScopeConfig implements ScopeConfigInterface
{
    /** @var array<string, mixed> */
    public array $values;

    public function __construct(array $values)
    {
        $this->values = $values;
    }

    public function getValue($path, $scopeType = ScopeConfigInterface::SCOPE_TYPE_DEFAULT, $scopeCode = null)
    {
        return $this->values[$path] ?? null;
    }

    public function isSetFlag($path, $scopeType = ScopeConfigInterface::SCOPE_TYPE_DEFAULT, $scopeCode = null)
    {
        return (bool) ($this->values[$path] ?? false);
    }
}

/**
 * A connection with an open transaction: rows inserted stay uncommitted until commit(), and
 * vanish on rollBack(), like the order's own rows. Understands only the outbox recorder's calls.
 */
final class TransactionalAdapter implements AdapterInterface
{
    /** @var array<string, array<string, mixed>> committed rows by event_key */
    public array $committed = [];
    /** @var array<string, array<string, mixed>> rows written in the open transaction */
    public array $uncommitted = [];
    private int $nextId = 1;

    public function insertOnDuplicate($table, array $data, array $fields = [])
    {
        $key = $data['event_key'];
        if (!isset($this->committed[$key]) && !isset($this->uncommitted[$key])) {
            $this->uncommitted[$key] = ['outbox_id' => $this->nextId++, 'table' => $table] + $data;
            return 1;
        }
        return 0;
    }

    public function fetchOne($sql, $bind = [])
    {
        if (!preg_match('/^SELECT outbox_id FROM \S+ WHERE event_key = \?$/', $sql)) {
            throw new \LogicException("unexpected SQL: $sql");
        }
        $row = $this->uncommitted[$bind[0]] ?? $this->committed[$bind[0]] ?? null;
        return $row === null ? false : (string) $row['outbox_id'];
    }

    public function commit(): void
    {
        $this->committed += $this->uncommitted;
        $this->uncommitted = [];
    }

    public function rollBack(): void
    {
        $this->uncommitted = [];
    }

    public function fetchCol($sql, $bind = [])
    {
        throw new \LogicException('not used by the recorder');
    }

    public function fetchRow($sql, $bind = [], $fetchMode = null)
    {
        throw new \LogicException('not used by the recorder');
    }

    public function fetchAll($sql, $bind = [], $fetchMode = null)
    {
        throw new \LogicException('not used by the recorder');
    }

    public function fetchPairs($sql, $bind = [])
    {
        throw new \LogicException('not used by the recorder');
    }

    public function query($sql, $bind = []): Statement
    {
        throw new \LogicException('not used by the recorder');
    }
}

/** The resource model saving an entity: its connection, and callbacks run at commit. */
final class SavingResource extends AbstractDb
{
    public TransactionalAdapter $connection;
    /** @var list<callable> */
    private array $callbacks = [];

    public function __construct(TransactionalAdapter $connection)
    {
        $this->connection = $connection;
    }

    public function getConnection()
    {
        return $this->connection;
    }

    public function addCommitCallback($callback)
    {
        $this->callbacks[] = $callback;
        return $this;
    }

    public function commit(): void
    {
        $this->connection->commit();
        foreach ($this->callbacks as $cb) {
            $cb();
        }
        $this->callbacks = [];
    }

    public function rollBack(): void
    {
        $this->connection->rollBack();
        $this->callbacks = [];
    }
}

final class RecordingPublisher implements PublisherInterface
{
    /** @var list<array{0: string, 1: mixed}> */
    public array $published = [];

    public function publish($topicName, $data)
    {
        $this->published[] = [$topicName, $data];
        return null;
    }
}

final class MemoryLogger implements LoggerInterface
{
    /** @var list<string> */
    public array $lines = [];

    public function warning($message, array $context = [])
    {
        $this->lines[] = 'warning: ' . $message;
    }

    public function error($message, array $context = [])
    {
        $this->lines[] = 'error: ' . $message;
    }
}

/** An order or credit memo model as the observers see it: data, original data, resource. */
final class SalesEntity
{
    /** @var array<string, mixed> */
    public array $data;
    /** @var array<string, mixed>|null */
    public ?array $orig;
    public SavingResource $resource;
    public ?SalesEntity $order = null;

    public function __construct(array $data, ?array $orig, SavingResource $resource)
    {
        $this->data = $data;
        $this->orig = $orig;
        $this->resource = $resource;
    }

    public function getId()
    {
        return $this->data['entity_id'] ?? null;
    }

    public function getState()
    {
        return $this->data['state'] ?? null;
    }

    public function getStatus()
    {
        return $this->data['status'] ?? null;
    }

    public function getIncrementId()
    {
        return $this->data['increment_id'] ?? null;
    }

    public function getOrigData($key = null)
    {
        return $key === null ? $this->orig : ($this->orig[$key] ?? null);
    }

    public function getResource()
    {
        return $this->resource;
    }

    public function getOrder()
    {
        return $this->order;
    }
}
