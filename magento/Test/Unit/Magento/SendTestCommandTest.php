<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Test\Unit\Magento;

use B1Bridge\Webhook\Console\Command\SendTestCommand;
use B1Bridge\Webhook\Core\StandardWebhookSigner;
use B1Bridge\Webhook\Core\Transition;
use B1Bridge\Webhook\Core\TransportResult;
use B1Bridge\Webhook\Model\Config;
use B1Bridge\Webhook\Model\OutboxTable;
use B1Bridge\Webhook\Model\RestPayloadSource;
use B1Bridge\Webhook\Test\Unit\Fake\ArrayScopeConfig;
use B1Bridge\Webhook\Test\Unit\Fake\ScriptedTransport;
use B1Bridge\Webhook\Test\Unit\Fake\SingleConnection;
use B1Bridge\Webhook\Test\Unit\Fake\SqliteAdapter;
use Magento\Framework\Api\SearchCriteria;
use Magento\Framework\Api\SearchCriteriaBuilder;
use Magento\Framework\Exception\NoSuchEntityException;
use Magento\Framework\Webapi\ServiceOutputProcessor;
use Magento\Sales\Api\CreditmemoRepositoryInterface;
use Magento\Sales\Api\OrderRepositoryInterface;
use PHPUnit\Framework\TestCase;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Output\OutputInterface;

/** bin/magento b1bridge:send-test against Symfony Console's and Magento's contracts (stubbed). */
final class SendTestCommandTest extends TestCase
{
    private const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

    private ArrayScopeConfig $settings;
    private SqliteAdapter $db;
    private OutboxTable $outbox;
    private ScriptedTransport $http;
    /** @var list<string> */
    private array $printed = [];

    protected function setUp(): void
    {
        $this->settings = new ArrayScopeConfig([
            Config::XML_ENABLED => '0',
            Config::XML_ENDPOINT_URL => 'https://b1bridge.test/webhooks/magento',
            Config::XML_SECRET => self::SECRET,
            Config::XML_CONNECT_TIMEOUT => '5',
            Config::XML_TIMEOUT => '15',
            Config::XML_MAX_ATTEMPTS => '10',
            Config::XML_BACKOFF => '5,300',
        ]);
        $this->db = new SqliteAdapter(__DIR__ . '/../../../etc/db_schema.xml');
        $this->outbox = new OutboxTable(new SingleConnection($this->db));
        $this->http = new ScriptedTransport();
    }

    private function sendTest(?string $order): int
    {
        $orders = new class implements OrderRepositoryInterface {
            /** @var array<int, object> */
            public array $byId;

            public function __construct()
            {
                $order = static fn (int $id, string $incrementId): object => new class ($id, $incrementId) {
                    public function __construct(public int $entity_id, public string $increment_id)
                    {
                    }

                    public function getEntityId(): int
                    {
                        return $this->entity_id;
                    }
                };
                $this->byId = [3 => $order(3, '000000003'), 8 => $order(8, '000000008')];
            }

            public function get($id)
            {
                return $this->byId[$id] ?? throw new NoSuchEntityException("no order $id");
            }

            public function getList(SearchCriteria $criteria)
            {
                [[$field, $value]] = $criteria->getData('filters');
                $items = array_filter($this->byId, static fn ($o) => $o->$field === $value);
                return new class ($items) {
                    public function __construct(private array $items)
                    {
                    }

                    public function getItems(): array
                    {
                        return $this->items;
                    }
                };
            }
        };
        $output = new class extends ServiceOutputProcessor {
            public function __construct()
            {
            }

            public function process($data, $serviceClassName, $serviceMethodName)
            {
                return (array) $data;
            }
        };
        $memos = $this->createMock(CreditmemoRepositoryInterface::class);
        $command = new SendTestCommand(
            new Config($this->settings),
            $this->outbox,
            new RestPayloadSource($orders, $memos, $output),
            $orders,
            new SearchCriteriaBuilder(),
            $this->http
        );
        self::assertSame('b1bridge:send-test', $command->getName());
        self::assertSame(['order'], $command->optionNames());
        $input = $this->createMock(InputInterface::class);
        $input->method('getOption')->with('order')->willReturn($order);
        $out = $this->createMock(OutputInterface::class);
        $out->method('writeln')->willReturnCallback(function ($line): void {
            $this->printed[] = (string) $line;
        });
        return $command->run($input, $out);
    }

    public function testAGivenOrderIsSentSignedAsAnUpdateEvenWhileTheModuleIsOff(): void
    {
        $this->http->answers = [new TransportResult(202, '{"event_id":"e1","status":"accepted"}')];
        self::assertSame(0, $this->sendTest('000000003'));
        $request = $this->http->requests[0];
        $body = json_decode($request['body'], true);
        self::assertSame('order.updated', $body['type']);
        self::assertSame('000000003', $body['data']['order']['increment_id']);
        $h = $request['headers'];
        self::assertSame((new StandardWebhookSigner(self::SECRET))->sign($h['webhook-id'], (int) $h['webhook-timestamp'], $request['body']), $h['webhook-signature']);
        self::assertSame('HTTP 202', $this->printed[1]);
        self::assertSame('{"event_id":"e1","status":"accepted"}', $this->printed[2]);
        self::assertStringStartsWith('OK:', end($this->printed));
        self::assertSame(0, (int) $this->db->fetchOne('SELECT COUNT(*) FROM b1bridge_webhook_outbox'), 'not through the outbox');
    }

    public function testWithoutAnOrderTheNewestOneB1bridgeAcceptedIsUsed(): void
    {
        $id = $this->outbox->record($this->db, 'order.placed:8', 'msg_8', 'order.placed', 'order', 8, '000000008', 100);
        $m = $this->outbox->claimOne($id, 100, 180);
        $this->outbox->finishAttempt($id, $m->attempts, new Transition('delivered', 100, 202, null, 100));
        $this->http->answers = [new TransportResult(200, '{"status":"duplicate"}')];
        self::assertSame(0, $this->sendTest(null));
        self::assertSame('000000008', json_decode($this->http->requests[0]['body'], true)['data']['order']['increment_id']);
    }

    public function testARefusedSignatureFailsAndSaysWhy(): void
    {
        $this->http->answers = [new TransportResult(401, '{"code":"unauthorized"}')];
        self::assertSame(1, $this->sendTest('000000003'));
        self::assertStringContainsString('B1BRIDGE_WEBHOOK_SECRETS', end($this->printed));
    }

    public function testNothingIsSentWithoutSettingsOrAnOrder(): void
    {
        self::assertSame(1, $this->sendTest('000000999'));
        self::assertStringContainsString("No order has the increment id '000000999'", $this->printed[0]);
        $this->printed = [];
        self::assertSame(1, $this->sendTest(null));
        self::assertStringContainsString('pass --order', $this->printed[0]);
        $this->printed = [];
        $this->settings->values[Config::XML_SECRET] = '';
        self::assertSame(1, $this->sendTest('000000003'));
        self::assertStringContainsString('no signing secret is set', $this->printed[0]);
        self::assertSame([], $this->http->requests);
    }
}
