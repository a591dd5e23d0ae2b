<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Controller\Adminhtml\Outbox;

use Magento\Backend\App\Action;
use Magento\Backend\App\Action\Context;
use Magento\Framework\App\Action\HttpGetActionInterface;
use Magento\Framework\View\Result\PageFactory;

/** Sales > Operations > b1bridge Webhooks: the failed events, the queue's counts, what blocks sending. */
class Index extends Action implements HttpGetActionInterface
{
    public const ADMIN_RESOURCE = 'B1Bridge_Webhook::outbox';

    private PageFactory $pages;

    public function __construct(Context $context, PageFactory $pages)
    {
        parent::__construct($context);
        $this->pages = $pages;
    }

    public function execute()
    {
        $page = $this->pages->create();
        $page->setActiveMenu('B1Bridge_Webhook::outbox');
        $page->getConfig()->getTitle()->prepend(__('b1bridge Webhooks'));
        return $page;
    }
}
