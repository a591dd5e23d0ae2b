<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Test\Unit\Fake;

use Magento\Framework\App\ResourceConnection;
use Magento\Framework\DB\Adapter\AdapterInterface;
use Magento\Framework\DB\Statement;

/**
 * Magento's connection contract over an in-memory SQLite database, so that Model\OutboxTable's
 * SQL runs for real in the tests. The table is created from etc/db_schema.xml itself. SQLite is
 * not MySQL: this proves the statements' logic (claims, fences, resend, purge), not MySQL syntax
 * details; the SQL sticks to what both accept.
 */
final class SqliteAdapter implements AdapterInterface
{
    public \PDO $pdo;

    public function __construct(string $schemaFile)
    {
        $this->pdo = new \PDO('sqlite::memory:', null, null, [\PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION]);
        foreach (simplexml_load_file($schemaFile)->table as $table) {
            $this->pdo->exec(self::createTable($table));
        }
    }

    private static function createTable(\SimpleXMLElement $table): string
    {
        $defs = [];
        foreach ($table->column as $c) {
            $xsi = (string) $c->attributes('http://www.w3.org/2001/XMLSchema-instance')['type'];
            $type = in_array($xsi, ['int', 'smallint', 'bigint'], true) ? 'INTEGER' : 'TEXT';
            $def = $c['name'] . ' ' . $type;
            if ((string) $c['identity'] === 'true') {
                $def .= ' PRIMARY KEY AUTOINCREMENT';
            } elseif ((string) $c['nullable'] === 'false') {
                $def .= ' NOT NULL';
            }
            if (isset($c['default'])) {
                $def .= " DEFAULT '" . $c['default'] . "'";
            }
            $defs[] = $def;
        }
        foreach ($table->constraint as $k) {
            if ((string) $k->attributes('http://www.w3.org/2001/XMLSchema-instance')['type'] === 'unique') {
                $cols = [];
                foreach ($k->column as $col) {
                    $cols[] = (string) $col['name'];
                }
                $defs[] = 'UNIQUE (' . implode(', ', $cols) . ')';
            }
        }
        return 'CREATE TABLE ' . $table['name'] . ' (' . implode(', ', $defs) . ')';
    }

    public function insertOnDuplicate($table, array $data, array $fields = [])
    {
        // MySQL's "ON DUPLICATE KEY UPDATE k = VALUES(k)" changes nothing on a duplicate and
        // reports 0 rows; SQLite's DO NOTHING does the same.
        $cols = array_keys($data);
        $sql = "INSERT INTO $table (" . implode(', ', $cols) . ') VALUES (' . implode(', ', array_fill(0, count($cols), '?'))
            . ') ON CONFLICT DO NOTHING';
        $stmt = $this->pdo->prepare($sql);
        $stmt->execute(array_values($data));
        return $stmt->rowCount();
    }

    public function fetchOne($sql, $bind = [])
    {
        return $this->run($sql, $bind)->fetchColumn();
    }

    public function fetchCol($sql, $bind = [])
    {
        return $this->run($sql, $bind)->fetchAll(\PDO::FETCH_COLUMN);
    }

    public function fetchRow($sql, $bind = [], $fetchMode = null)
    {
        return $this->run($sql, $bind)->fetch(\PDO::FETCH_ASSOC);
    }

    public function fetchAll($sql, $bind = [], $fetchMode = null)
    {
        return $this->run($sql, $bind)->fetchAll(\PDO::FETCH_ASSOC);
    }

    public function fetchPairs($sql, $bind = [])
    {
        return $this->run($sql, $bind)->fetchAll(\PDO::FETCH_KEY_PAIR);
    }

    public function query($sql, $bind = []): Statement
    {
        $stmt = $this->run($sql, $bind);
        return new class ($stmt) implements Statement {
            public function __construct(private \PDOStatement $stmt)
            {
            }

            public function rowCount()
            {
                return $this->stmt->rowCount();
            }
        };
    }

    private function run(string $sql, array $bind): \PDOStatement
    {
        $stmt = $this->pdo->prepare($sql);
        $stmt->execute(array_values($bind));
        return $stmt;
    }
}

/** ResourceConnection handing out one adapter. */
final class SingleConnection extends ResourceConnection
{
    private AdapterInterface $adapter;

    public function __construct(AdapterInterface $adapter)
    {
        $this->adapter = $adapter;
    }

    public function getConnection($resourceName = 'default')
    {
        return $this->adapter;
    }
}
