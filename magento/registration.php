<?php
/**
 * Registers the module with Magento, both when it is installed with Composer (autoload "files")
 * and when it is copied to app/code/B1Bridge/Webhook.
 */
declare(strict_types=1);

use Magento\Framework\Component\ComponentRegistrar;

ComponentRegistrar::register(ComponentRegistrar::MODULE, 'B1Bridge_Webhook', __DIR__);
