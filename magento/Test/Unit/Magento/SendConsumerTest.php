<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Test\Unit\Magento;

use B1Bridge\Webhook\Model\DispatcherFactory;
use B1Bridge\Webhook\Queue\SendConsumer;
use B1Bridge\Webhook\Test\Unit\Fake\MemoryLogger;
use PHPUnit\Framework\TestCase;

final class SendConsumerTest extends TestCase
{
    public function testAMessageThatIsNotAnIdIsLoggedAndDropped(): void
    {
        $logger = new MemoryLogger();
        $factory = $this->getMockBuilder(DispatcherFactory::class)->disableOriginalConstructor()->getMock();
        $factory->expects(self::never())->method('create');
        (new SendConsumer($factory, $logger))->process('12; DROP TABLE x');
        self::assertStringContainsString('is not an outbox id', $logger->lines[0]);
    }

    public function testWithoutSettingsTheRowWaitsAndNothingThrows(): void
    {
        $logger = new MemoryLogger();
        $factory = $this->getMockBuilder(DispatcherFactory::class)->disableOriginalConstructor()->getMock();
        $factory->method('create')->willReturn(null);
        (new SendConsumer($factory, $logger))->process('12');
        self::assertSame([], $logger->lines);
    }
}
