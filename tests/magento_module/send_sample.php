<?php
/**
 * The Magento module's own signer, envelope builder, transport, dispatcher and outbox SQL
 * (Model\OutboxTable, on SQLite) against a running `b1bridge serve`: real sample orders (tests/fixtures/magento) must be accepted (202), the same
 * webhook-id again must be a duplicate (200), a wrong secret refused (401, not retried), and an
 * order b1bridge accepted must be readable from its API. Exits non-zero on the first failure.
 *
 * Environment: B1BRIDGE_TEST_URL, B1BRIDGE_TEST_SECRET_NEW, B1BRIDGE_TEST_SECRET_OLD (both in
 * the server's B1BRIDGE_WEBHOOK_SECRETS), B1BRIDGE_TEST_VIEWER (an API token).
 */
declare(strict_types=1);

use B1Bridge\Webhook\Core\BackoffSchedule;
use B1Bridge\Webhook\Core\CurlTransport;
use B1Bridge\Webhook\Core\Dispatcher;
use B1Bridge\Webhook\Core\DispatchSettings;
use B1Bridge\Webhook\Core\EnvelopeBuilder;
use B1Bridge\Webhook\Core\OutboxMessage;
use B1Bridge\Webhook\Core\OutboxStateMachine;
use B1Bridge\Webhook\Core\PayloadSource;
use B1Bridge\Webhook\Core\StandardWebhookSigner;
use B1Bridge\Webhook\Core\Transport;
use B1Bridge\Webhook\Core\TransportResult;
use B1Bridge\Webhook\Core\WebhookIds;
use B1Bridge\Webhook\Model\OutboxTable;
use B1Bridge\Webhook\Test\Unit\Fake\SingleConnection;
use B1Bridge\Webhook\Test\Unit\Fake\SqliteAdapter;

$root = dirname(__DIR__, 2);
// The module's test bootstrap: its autoloader, and the connection double over SQLite that lets
// Model\OutboxTable's own SQL hold the outbox here.
require $root . '/magento/Test/Unit/bootstrap.php';

$base = rtrim((string) getenv('B1BRIDGE_TEST_URL'), '/');
$endpoint = $base . '/webhooks/magento';
$newSecret = (string) getenv('B1BRIDGE_TEST_SECRET_NEW');
$oldSecret = (string) getenv('B1BRIDGE_TEST_SECRET_OLD');
$viewer = (string) getenv('B1BRIDGE_TEST_VIEWER');
$failures = 0;

function check(bool $ok, string $what): void
{
    global $failures;
    echo ($ok ? 'ok   ' : 'FAIL ') . $what . PHP_EOL;
    if (!$ok) {
        $failures++;
    }
}

function order(string $fixture, ?string $incrementId = null): array
{
    global $root;
    $order = json_decode((string) file_get_contents("$root/tests/fixtures/magento/$fixture"), true, 512, JSON_THROW_ON_ERROR);
    if ($incrementId !== null) {
        $order['increment_id'] = $incrementId; // a fresh order per run of the same database
    }
    return $order;
}

/** @return array{0: TransportResult, 1: ?array} */
function send(string $secret, string $webhookId, string $body): array
{
    global $endpoint;
    $headers = (new StandardWebhookSigner($secret))->headers($webhookId, time(), $body);
    $answer = (new CurlTransport())->post($endpoint, $headers, $body, 5, 15);
    return [$answer, json_decode($answer->body, true)];
}

// Wait for the server (it applies migrations first).
$ready = false;
for ($i = 0; $i < 150 && !$ready; $i++) {
    $ch = curl_init($base . '/readyz');
    curl_setopt_array($ch, [CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT => 2]);
    curl_exec($ch);
    $ready = curl_getinfo($ch, CURLINFO_RESPONSE_CODE) === 200;
    curl_close($ch);
    if (!$ready) {
        usleep(200_000);
    }
}
check($ready, 'b1bridge is ready at ' . $base);
if (!$ready) {
    exit(1);
}

$suffix = substr((string) time(), -6);
$envelopes = new EnvelopeBuilder();

// 1. A real order, signed by the module, is accepted; the same webhook-id again is a duplicate.
$placed = order('rest-order-registered-configurable-multiitem-tax.json', "MM$suffix-1");
$body = $envelopes->build('order.placed', time(), ['order' => $placed]);
$id = WebhookIds::generate();
[$answer, $json] = send($newSecret, $id, $body);
check($answer->status === 202 && ($json['status'] ?? null) === 'accepted', "order.placed {$placed['increment_id']} answered 202 accepted (got {$answer->status} {$answer->body})");
[$again, $json2] = send($newSecret, $id, $body);
check($again->status === 200 && ($json2['status'] ?? null) === 'duplicate', "the same webhook-id again answered 200 duplicate (got {$again->status} {$again->body})");
check(($json['event_id'] ?? 1) === ($json2['event_id'] ?? 2), 'both answers name the same stored event');

// 2. b1bridge read the order the module sent.
$ch = curl_init($base . '/api/v1/orders/' . rawurlencode($placed['increment_id']));
curl_setopt_array($ch, [CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT => 5, CURLOPT_HTTPHEADER => ["Authorization: Bearer $viewer"]]);
$view = json_decode((string) curl_exec($ch), true);
$viewStatus = curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
curl_close($ch);
check($viewStatus === 200, "GET /api/v1/orders/{$placed['increment_id']} answered 200 (got $viewStatus)");
check(
    ($view['order']['grand_total'] ?? null) === number_format((float) $placed['grand_total'], 2, '.', '')
        && ($view['events'][0]['webhook_id'] ?? null) === $id
        && ($view['events'][0]['event_type'] ?? null) === 'order.placed',
    "b1bridge holds the order with Magento's grand_total {$placed['grand_total']} under the module's webhook-id"
);

// 3. Rotation: while b1bridge holds both secrets, events signed with either are accepted.
$cancel = $envelopes->build('order.cancelled', time(), ['order' => ['entity_id' => $placed['entity_id'], 'increment_id' => $placed['increment_id']]]);
[$old] = send($oldSecret, WebhookIds::generate(), $cancel);
check($old->status === 202, "order.cancelled signed with the previous secret answered 202 (got {$old->status} {$old->body})");

// 4. The whole sending path: outbox (Model\OutboxTable) → dispatcher → b1bridge.
final class Recording implements Transport
{
    /** @var list<TransportResult> */
    public array $answers = [];

    public function post(string $url, array $headers, string $body, int $connectTimeout, int $timeout): TransportResult
    {
        return $this->answers[] = (new CurlTransport())->post($url, $headers, $body, $connectTimeout, $timeout);
    }
}
final class Fixtures implements PayloadSource
{
    /** @var array<int, array<string, mixed>> */
    public array $orders = [];

    public function dataFor(OutboxMessage $m): array
    {
        return ['order' => $this->orders[$m->entityId]];
    }
}
$db = new SqliteAdapter($root . '/magento/etc/db_schema.xml');
$store = new OutboxTable(new SingleConnection($db));
$rowOf = static fn (int $id): array => $db->fetchRow('SELECT * FROM b1bridge_webhook_outbox WHERE outbox_id = ?', [$id]);
$record = static fn (array $order): int => (int) $store->record(
    $db,
    'order.placed:' . $order['entity_id'] . ':' . $order['increment_id'],
    WebhookIds::generate(),
    'order.placed',
    'order',
    (int) $order['entity_id'],
    $order['increment_id'],
    time()
);
$payloads = new Fixtures();
$http = new Recording();
$dispatcher = static function (string $url, string $secret) use ($store, $payloads, $http): Dispatcher {
    $settings = new DispatchSettings($url, new StandardWebhookSigner($secret), 2, 5, new OutboxStateMachine(new BackoffSchedule([60]), 3));
    return new Dispatcher($store, $payloads, $http, new EnvelopeBuilder(), $settings);
};
$second = order('rest-order-guest-configurable.json', "MM$suffix-2");
$payloads->orders[(int) $second['entity_id']] = $second;
$row = $record($second);
$result = $dispatcher($endpoint, $newSecret)->sendDue(10);
check(($result[$row] ?? null) === 'delivered' && end($http->answers)->status === 202, 'the dispatcher delivered an outbox row (202)');

// A resend of a delivered-then-failed row (as after an operator's resend) is recognised: 200.
$db->query("UPDATE b1bridge_webhook_outbox SET status = 'failed' WHERE outbox_id = ?", [$row]);
check($store->resend($row, time()), 'the failed row was put back by resend');
$result = $dispatcher($endpoint, $newSecret)->sendDue(10);
check(($result[$row] ?? null) === 'delivered' && end($http->answers)->status === 200, 'a resent event (same webhook-id and body) answered 200 duplicate');

// A wrong secret is refused and not retried.
$third = order('rest-order-guest-coupon-full-discount.json', "MM$suffix-3");
$payloads->orders[(int) $third['entity_id']] = $third;
$bad = $record($third);
$result = $dispatcher($endpoint, StandardWebhookSigner::generateSecret())->sendDue(10);
$badRow = $rowOf($bad);
check(($result[$bad] ?? null) === 'failed' && (int) $badRow['last_http_status'] === 401 && (int) $badRow['attempts'] === 1, 'a wrong secret: 401, kept as failed after one attempt');

// b1bridge down (nothing listens): the event waits for a retry.
$socket = stream_socket_server('tcp://127.0.0.1:0');
$closedPort = (int) substr(strrchr(stream_socket_get_name($socket, false), ':'), 1);
fclose($socket);
check($store->resend($bad, time()), 'the refused row was put back by resend');
$result = $dispatcher("http://127.0.0.1:$closedPort/webhooks/magento", $newSecret)->sendDue(10);
check(($result[$bad] ?? null) === 'pending' && (int) $rowOf($bad)['next_attempt_at'] >= time() + 59, 'no answer: kept pending for a retry');
check($rowOf($row)['payload'] !== null && json_decode($rowOf($row)['payload'], true)['data']['order']['increment_id'] === $second['increment_id'], 'the outbox kept the body it sent');

echo $failures === 0 ? "magento module against b1bridge: all checks passed\n" : "magento module against b1bridge: $failures check(s) failed\n";
exit($failures === 0 ? 0 : 1);
