<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Console\Command;

use B1Bridge\Webhook\Core\EnvelopeBuilder;
use B1Bridge\Webhook\Core\EventType;
use B1Bridge\Webhook\Core\OutboxMessage;
use B1Bridge\Webhook\Core\TestVerdict;
use B1Bridge\Webhook\Core\Transport;
use B1Bridge\Webhook\Core\WebhookIds;
use B1Bridge\Webhook\Model\Config;
use B1Bridge\Webhook\Model\OutboxTable;
use B1Bridge\Webhook\Model\RestPayloadSource;
use Magento\Framework\Api\SearchCriteriaBuilder;
use Magento\Sales\Api\OrderRepositoryInterface;
use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Input\InputOption;
use Symfony\Component\Console\Output\OutputInterface;

/**
 * bin/magento b1bridge:send-test [--order INCREMENT_ID]: sends one signed order.updated event for
 * a real order straight to b1bridge (not through the outbox) and prints the answer.
 *
 * A real order, because b1bridge stores every signed event and files anything that is not an
 * order event as an exception for operators; an update of an order b1bridge already has changes
 * nothing there. Without --order, the newest order whose order.placed b1bridge accepted is used.
 */
class SendTestCommand extends Command
{
    private Config $config;
    private OutboxTable $outbox;
    private RestPayloadSource $payloads;
    private OrderRepositoryInterface $orders;
    private SearchCriteriaBuilder $criteria;
    private Transport $transport;

    public function __construct(
        Config $config,
        OutboxTable $outbox,
        RestPayloadSource $payloads,
        OrderRepositoryInterface $orders,
        SearchCriteriaBuilder $criteria,
        Transport $transport
    ) {
        $this->config = $config;
        $this->outbox = $outbox;
        $this->payloads = $payloads;
        $this->orders = $orders;
        $this->criteria = $criteria;
        $this->transport = $transport;
        parent::__construct();
    }

    protected function configure(): void
    {
        $this->setName('b1bridge:send-test')
            ->setDescription('Send a signed order.updated event to b1bridge and print its answer')
            ->addOption('order', null, InputOption::VALUE_REQUIRED, 'increment id of the order to send');
    }

    protected function execute(InputInterface $input, OutputInterface $output): int
    {
        $settings = $this->config->dispatchSettings(false);
        if ($settings === null) {
            $output->writeln('<error>Cannot send: ' . implode('; ', $this->config->problems(false)) . '</error>');
            return 1;
        }
        $incrementId = (string) $input->getOption('order');
        $orderId = $this->orderId($incrementId);
        if ($orderId === null) {
            $output->writeln($incrementId === ''
                ? '<error>No order to send: no order.placed has been delivered yet; pass --order INCREMENT_ID.</error>'
                : "<error>No order has the increment id '$incrementId'.</error>");
            return 1;
        }
        $now = time();
        $webhookId = WebhookIds::generate();
        $message = new OutboxMessage(0, $webhookId, EventType::ORDER_UPDATED, 'order', $orderId, $now, 1, null);
        $body = (new EnvelopeBuilder())->build(EventType::ORDER_UPDATED, $now, $this->payloads->dataFor($message));
        $headers = $settings->signer->headers($webhookId, $now, $body);

        $output->writeln(sprintf('POST %s (order entity %d, webhook-id %s, %d bytes)', $settings->endpointUrl, $orderId, $webhookId, strlen($body)));
        $answer = $this->transport->post($settings->endpointUrl, $headers, $body, $settings->connectTimeout, $settings->timeout);
        $output->writeln($answer->status === null ? 'no answer' : 'HTTP ' . $answer->status);
        if ($answer->body !== '') {
            $output->writeln($answer->body);
        }
        $verdict = TestVerdict::explain($answer);
        $output->writeln($verdict);
        return strncmp($verdict, 'OK', 2) === 0 ? 0 : 1;
    }

    private function orderId(string $incrementId): ?int
    {
        if ($incrementId === '') {
            return $this->outbox->newestDeliveredOrderId();
        }
        $found = $this->orders->getList(
            $this->criteria->addFilter('increment_id', $incrementId)->setPageSize(1)->create()
        )->getItems();
        $order = reset($found);
        return $order ? (int) $order->getEntityId() : null;
    }
}
