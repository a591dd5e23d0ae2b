<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Controller\Adminhtml\Outbox;

use B1Bridge\Webhook\Model\EventRecorder;
use B1Bridge\Webhook\Model\OutboxTable;
use Magento\Backend\App\Action;
use Magento\Backend\App\Action\Context;
use Magento\Framework\App\Action\HttpPostActionInterface;
use Magento\Framework\MessageQueue\PublisherInterface;

/**
 * POST (with the admin form key): puts a failed event back in the queue with a fresh attempt
 * budget, the same webhook-id and the same body. Its own ACL resource, so that viewing the list
 * and resending can be granted separately.
 */
class Resend extends Action implements HttpPostActionInterface
{
    public const ADMIN_RESOURCE = 'B1Bridge_Webhook::resend';

    private OutboxTable $outbox;
    private PublisherInterface $publisher;

    public function __construct(Context $context, OutboxTable $outbox, PublisherInterface $publisher)
    {
        parent::__construct($context);
        $this->outbox = $outbox;
        $this->publisher = $publisher;
    }

    public function execute()
    {
        $ids = array_filter(array_map('intval', (array) $this->getRequest()->getParam('ids', [])));
        $resent = 0;
        foreach ($ids as $id) {
            if ($this->outbox->resend($id, time())) {
                $this->publisher->publish(EventRecorder::TOPIC, (string) $id);
                $resent++;
            }
        }
        if ($resent > 0) {
            $this->messageManager->addSuccessMessage(__('%1 event(s) queued to be sent again.', $resent));
        }
        if ($resent < count($ids)) {
            $this->messageManager->addWarningMessage(__('%1 event(s) were no longer failed and were left alone.', count($ids) - $resent));
        }
        if ($ids === []) {
            $this->messageManager->addErrorMessage(__('No event was selected.'));
        }
        return $this->resultRedirectFactory->create()->setPath('*/*/index');
    }
}
