<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Core;

/** What bin/magento b1bridge:send-test tells the person who runs it, from b1bridge's answer. */
final class TestVerdict
{
    public static function explain(TransportResult $r): string
    {
        if ($r->status === null) {
            return 'FAILED: no answer from b1bridge (' . ($r->error ?? 'unknown') . '). Check the endpoint URL, '
                . 'that b1bridge runs and that this server may reach it.';
        }
        if ($r->status === 202) {
            return 'OK: b1bridge verified the signature and stored the event.';
        }
        if ($r->status === 200) {
            return 'OK: b1bridge verified the signature (it already had this event).';
        }
        if ($r->status >= 200 && $r->status < 300) {
            return "OK: HTTP {$r->status}.";
        }
        switch ($r->status) {
            case 401:
                return 'FAILED: b1bridge refused the signature. The secret here must be one of b1bridge\'s '
                    . 'B1BRIDGE_WEBHOOK_SECRETS, and the clocks of both servers must agree within its tolerance.';
            case 404:
            case 405:
                return 'FAILED: the endpoint URL does not point at b1bridge\'s webhook (…/webhooks/magento).';
            case 413:
                return 'FAILED: the order is larger than b1bridge accepts.';
            case 422:
                return 'FAILED: b1bridge verified the signature but could not use the event; it keeps it as a '
                    . 'payload_invalid exception (see its answer above).';
            case 503:
                return 'RETRY: b1bridge is up but cannot store events now (its database); events wait and are retried.';
        }
        if ($r->status >= 300 && $r->status < 400) {
            return 'FAILED: the endpoint redirects; configure the URL it redirects to.';
        }
        return "FAILED: HTTP {$r->status}.";
    }
}
