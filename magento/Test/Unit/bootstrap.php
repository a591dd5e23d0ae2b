<?php
/**
 * Test bootstrap without Magento: a PSR-4 autoloader for the module, and minimal declarations of
 * the few Magento types that the tested classes name (Magento's own code cannot be installed
 * here). Each stub declares only what the module calls, with Magento's signatures.
 */
declare(strict_types=1);

spl_autoload_register(static function (string $class): void {
    $prefix = 'B1Bridge\\Webhook\\';
    if (strncmp($class, $prefix, strlen($prefix)) === 0) {
        $file = dirname(__DIR__, 2) . '/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});

require __DIR__ . '/MagentoStubs.php';
require __DIR__ . '/Fake/MagentoDoubles.php';
require __DIR__ . '/Fake/SqliteAdapter.php';
