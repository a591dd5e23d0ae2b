<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Model;

use B1Bridge\Webhook\Core\OutboxMessage;
use B1Bridge\Webhook\Core\PayloadSource;
use B1Bridge\Webhook\Core\PayloadUnavailable;
use Magento\Framework\Exception\NoSuchEntityException;
use Magento\Framework\Webapi\ServiceOutputProcessor;
use Magento\Sales\Api\CreditmemoRepositoryInterface;
use Magento\Sales\Api\OrderRepositoryInterface;

/**
 * Reads the order (and credit memo) through the service contracts and converts them with
 * ServiceOutputProcessor against the repository's declared return type: the same code path, and
 * so the same JSON, as GET /V1/orders/{id} and GET /V1/creditmemo/{id}. b1bridge maps that REST
 * shape, not Magento's model data.
 */
class RestPayloadSource implements PayloadSource
{
    private OrderRepositoryInterface $orders;
    private CreditmemoRepositoryInterface $creditmemos;
    private ServiceOutputProcessor $output;

    public function __construct(
        OrderRepositoryInterface $orders,
        CreditmemoRepositoryInterface $creditmemos,
        ServiceOutputProcessor $output
    ) {
        $this->orders = $orders;
        $this->creditmemos = $creditmemos;
        $this->output = $output;
    }

    public function dataFor(OutboxMessage $message): array
    {
        try {
            if ($message->entityType === 'creditmemo') {
                $memo = $this->creditmemos->get($message->entityId);
                return [
                    'creditmemo' => $this->output->process($memo, CreditmemoRepositoryInterface::class, 'get'),
                    'order' => $this->order((int) $memo->getOrderId()),
                ];
            }
            return ['order' => $this->order($message->entityId)];
        } catch (NoSuchEntityException $e) {
            throw new PayloadUnavailable(sprintf('%s %d no longer exists', $message->entityType, $message->entityId), 0, $e);
        }
    }

    /** @return array<string, mixed> */
    private function order(int $id): array
    {
        return $this->output->process($this->orders->get($id), OrderRepositoryInterface::class, 'get');
    }
}
