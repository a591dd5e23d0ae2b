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

namespace Magento\Framework\Api {
    class SearchCriteria extends \Magento\Framework\DataObject
    {
    }

    /** Collects filters like Magento's builder; create() hands them over and starts afresh. */
    class SearchCriteriaBuilder
    {
        private array $filters = [];
        private ?int $pageSize = null;

        public function addFilter($field, $value, $conditionType = 'eq')
        {
            $this->filters[] = [$field, $value, $conditionType];
            return $this;
        }

        public function setPageSize($pageSize)
        {
            $this->pageSize = $pageSize;
            return $this;
        }

        public function create()
        {
            $criteria = new SearchCriteria(['filters' => $this->filters, 'page_size' => $this->pageSize]);
            $this->filters = [];
            $this->pageSize = null;
            return $criteria;
        }
    }
}

namespace Magento\Sales\Api {
    interface OrderRepositoryInterface
    {
        public function get($id);

        public function getList(\Magento\Framework\Api\SearchCriteria $searchCriteria);
    }

    interface CreditmemoRepositoryInterface
    {
        public function get($id);
    }
}

namespace Symfony\Component\Console\Input {
    interface InputInterface
    {
        public function getOption(string $name);
    }

    class InputOption
    {
        public const VALUE_REQUIRED = 2;
    }
}

namespace Symfony\Component\Console\Output {
    interface OutputInterface
    {
        public function writeln($messages, int $options = 0);
    }
}

namespace Symfony\Component\Console\Command {
    use Symfony\Component\Console\Input\InputInterface;
    use Symfony\Component\Console\Output\OutputInterface;

    /** Symfony's Command as far as a Magento command uses it: configure() at construction, run() → execute(). */
    class Command
    {
        private ?string $name = null;
        private string $description = '';
        /** @var array<string, int> */
        private array $options = [];

        public function __construct(?string $name = null)
        {
            $this->name = $name;
            $this->configure();
        }

        protected function configure()
        {
        }

        public function setName(string $name)
        {
            $this->name = $name;
            return $this;
        }

        public function getName(): ?string
        {
            return $this->name;
        }

        public function setDescription(string $description)
        {
            $this->description = $description;
            return $this;
        }

        public function addOption(string $name, $shortcut = null, ?int $mode = null, string $description = '', $default = null)
        {
            $this->options[$name] = (int) $mode;
            return $this;
        }

        /** @return list<string> */
        public function optionNames(): array
        {
            return array_keys($this->options);
        }

        public function run(InputInterface $input, OutputInterface $output): int
        {
            return $this->execute($input, $output);
        }

        protected function execute(InputInterface $input, OutputInterface $output)
        {
            throw new \LogicException('execute() must be overridden');
        }
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
