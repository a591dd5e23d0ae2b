<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Core;

/** Reads the documents an event carries, in Magento's REST shape. */
interface PayloadSource
{
    /**
     * @return array<string, array<string, mixed>> keyed "order" and/or "creditmemo"
     * @throws PayloadUnavailable when the entity is gone for good
     */
    public function dataFor(OutboxMessage $message): array;
}
