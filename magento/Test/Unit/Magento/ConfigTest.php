<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Test\Unit\Magento;

use B1Bridge\Webhook\Model\Config;
use B1Bridge\Webhook\Model\Config\Source\EventTypes;
use B1Bridge\Webhook\Test\Unit\Fake\ArrayScopeConfig;
use PHPUnit\Framework\TestCase;

final class ConfigTest extends TestCase
{
    /** The defaults of etc/config.xml, read from the file itself. */
    private static function defaults(): array
    {
        $xml = simplexml_load_file(__DIR__ . '/../../../etc/config.xml');
        $values = [];
        foreach ($xml->default->b1bridge->webhook->children() as $name => $node) {
            $values['b1bridge/webhook/' . $name] = (string) $node;
        }
        return $values;
    }

    public function testTheShippedDefaultsSendNothingAndSayWhatIsMissing(): void
    {
        $config = new Config(new ArrayScopeConfig(self::defaults()));
        self::assertFalse($config->isEnabled());
        self::assertNull($config->dispatchSettings());
        self::assertSame([
            'the module is disabled (Stores > Configuration > Services > b1bridge > Enabled)',
            'no endpoint URL is set',
            'no signing secret is set',
        ], $config->problems());
        self::assertSame(['order.placed', 'order.updated', 'order.cancelled', 'creditmemo.created'], $config->enabledEventTypes());
        self::assertSame(100, $config->batchSize());
        self::assertSame(30, $config->retentionDays());
    }

    public function testCompleteSettingsBuildTheSender(): void
    {
        $config = new Config(new ArrayScopeConfig([
            Config::XML_ENABLED => '1',
            Config::XML_ENDPOINT_URL => ' https://b1bridge.example.com/webhooks/magento ',
            Config::XML_SECRET => 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        ] + self::defaults()));
        self::assertSame([], $config->problems());
        $s = $config->dispatchSettings();
        self::assertNotNull($s);
        self::assertSame('https://b1bridge.example.com/webhooks/magento', $s->endpointUrl);
        self::assertSame([5, 15, 10], [$s->connectTimeout, $s->timeout, $s->states->maxAttempts()]);
        self::assertSame(5 + 15 + 60, $s->leaseSeconds());
    }

    public function testBadValuesAreReportedNotGuessed(): void
    {
        $config = new Config(new ArrayScopeConfig([
            Config::XML_ENABLED => '1',
            Config::XML_ENDPOINT_URL => 'b1bridge.local/webhooks/magento',
            Config::XML_SECRET => 'whsec_dG9vIHNob3J0',
            Config::XML_BACKOFF => '5,soon',
        ]));
        $problems = implode(' | ', $config->problems());
        self::assertStringContainsString('is not an absolute URL', $problems);
        self::assertStringContainsString('at least 16', $problems);
        self::assertStringContainsString("backoff: backoff delay 'soon'", $problems);
    }

    public function testSendTestMayRunWhileTheModuleIsOff(): void
    {
        $config = new Config(new ArrayScopeConfig([
            Config::XML_ENDPOINT_URL => 'http://127.0.0.1:8080/webhooks/magento',
            Config::XML_SECRET => 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        ] + self::defaults()));
        self::assertNull($config->dispatchSettings());
        self::assertNotNull($config->dispatchSettings(false));
    }

    public function testUnknownEventTypesInTheStoredValueAreDropped(): void
    {
        $config = new Config(new ArrayScopeConfig([Config::XML_ENABLED => '1', Config::XML_EVENT_TYPES => 'order.placed,customer.saved,']));
        self::assertSame(['order.placed'], $config->enabledEventTypes());
        self::assertTrue($config->records('order.placed'));
        self::assertFalse($config->records('order.updated'));
    }

    public function testTheMultiselectOffersEveryEventType(): void
    {
        $values = array_column((new EventTypes())->toOptionArray(), 'value');
        self::assertSame(['order.placed', 'order.updated', 'order.cancelled', 'creditmemo.created'], $values);
    }
}
