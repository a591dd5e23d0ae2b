<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Core;

/** The entity an event names no longer exists: retrying cannot help. */
final class PayloadUnavailable extends \RuntimeException
{
}
