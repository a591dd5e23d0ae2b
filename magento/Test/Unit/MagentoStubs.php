<?php
/**
 * Minimal stand-ins for Magento framework types, declared with the namespaces and method
 * signatures of Magento 2.4 (lib/internal/Magento/Framework), reduced to what the module uses.
 * Interfaces stay interfaces, so a module class that implements one is checked by PHP itself.
 */
declare(strict_types=1);

namespace Magento\Framework\Event {
    class Event extends \Magento\Framework\DataObject
    {
    }

    class Observer extends \Magento\Framework\DataObject
    {
        public function getEvent(): Event
        {
            return $this->getData('event');
        }
    }

    interface ObserverInterface
    {
        /** @return void */
        public function execute(Observer $observer);
    }
}

namespace Magento\Framework {
    /** Magic getters/setters of DataObject, as far as the tests need them. */
    class DataObject
    {
        protected $_data;

        public function __construct(array $data = [])
        {
            $this->_data = $data;
        }

        public function getData($key = '', $index = null)
        {
            return $key === '' ? $this->_data : ($this->_data[$key] ?? null);
        }

        public function setData($key, $value = null)
        {
            $this->_data[$key] = $value;
            return $this;
        }
    }
}

namespace Magento\Framework\App\Config {
    interface ScopeConfigInterface
    {
        public const SCOPE_TYPE_DEFAULT = 'default';

        public function getValue($path, $scopeType = ScopeConfigInterface::SCOPE_TYPE_DEFAULT, $scopeCode = null);

        public function isSetFlag($path, $scopeType = ScopeConfigInterface::SCOPE_TYPE_DEFAULT, $scopeCode = null);
    }
}

namespace Magento\Framework\Data {
    interface OptionSourceInterface
    {
        public function toOptionArray();
    }
}

namespace Magento\Framework\MessageQueue {
    interface PublisherInterface
    {
        public function publish($topicName, $data);
    }
}

namespace Magento\Framework\DB {
    interface Statement
    {
        public function rowCount();
    }
}

namespace Magento\Framework\DB\Adapter {
    interface AdapterInterface
    {
        public function insertOnDuplicate($table, array $data, array $fields = []);

        public function fetchOne($sql, $bind = []);

        public function fetchCol($sql, $bind = []);

        public function fetchRow($sql, $bind = [], $fetchMode = null);

        public function fetchAll($sql, $bind = [], $fetchMode = null);

        public function fetchPairs($sql, $bind = []);

        /** @return \Magento\Framework\DB\Statement */
        public function query($sql, $bind = []);
    }
}

namespace Magento\Framework\App {
    class ResourceConnection
    {
        public function getConnection($resourceName = 'default')
        {
            throw new \LogicException('stub: pass a test double');
        }

        public function getTableName($modelEntity, $connectionName = 'default')
        {
            return $modelEntity;
        }
    }
}

namespace Magento\Framework\Model\ResourceModel\Db {
    /** The two members of Magento's resource model that the recorder uses. */
    abstract class AbstractDb
    {
        abstract public function getConnection();

        abstract public function addCommitCallback($callback);
    }
}

namespace Magento\Framework\Exception {
    class NoSuchEntityException extends \Exception
    {
    }
}

namespace Magento\Framework\Webapi {
    class ServiceOutputProcessor
    {
        public function process($data, $serviceClassName, $serviceMethodName)
        {
            throw new \LogicException('stub: pass a test double');
        }
    }
}

namespace Magento\Sales\Api {
    interface OrderRepositoryInterface
    {
        public function get($id);
    }

    interface CreditmemoRepositoryInterface
    {
        public function get($id);
    }
}

namespace Psr\Log {
    interface LoggerInterface
    {
        public function warning($message, array $context = []);

        public function error($message, array $context = []);
    }
}

namespace {
    if (!function_exists('__')) {
        /** Magento's translation function, identity here. */
        function __($text, ...$args)
        {
            return $text;
        }
    }
}
