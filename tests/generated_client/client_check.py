"""Drives a running b1bridge with the client generated from openapi/openapi.json.

Seeds two exceptions the way production raises them: a signed but unusable webhook
(payload_invalid, no order: its retry must be refused with the documented 409) and an order
whose post job the worker parked (its retry must succeed). Then lists, retries and upserts a
mapping, all through the generated client. Exits non-zero on the first failure.
"""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import urllib.request

from b1bridge_client import AuthenticatedClient, Client
from b1bridge_client.api.exceptions import list_exceptions, retry_exception
from b1bridge_client.api.health import readyz
from b1bridge_client.api.mappings import list_mappings, put_mapping
from b1bridge_client.models import (
    ActionNote,
    Category,
    ExceptionPage,
    ExceptionStatus,
    Mapping,
    MappingKind,
    MappingPage,
    Problem,
    SkuMapping,
)

URL = os.environ["B1BRIDGE_TEST_URL"]
ADMIN = os.environ["B1BRIDGE_TEST_ADMIN"]
OPERATOR = os.environ["B1BRIDGE_TEST_OPERATOR"]
SECRET = os.environ["B1BRIDGE_TEST_WEBHOOK_SECRET"]
DB = os.environ["B1BRIDGE_TEST_DB"]


def check(condition, message):
    if not condition:
        print(f"generated client check FAILED: {message}", file=sys.stderr)
        sys.exit(1)


def wait_ready():
    client = Client(base_url=URL, timeout=2.0)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if readyz.sync_detailed(client=client).status_code == 200:
                return
        except Exception:  # the server is still starting
            pass
        time.sleep(0.1)
    check(False, "the server did not become ready within 60 s")


def send_webhook(webhook_id, body):
    ts = str(int(time.time()))
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    mac = hmac.new(key, f"{webhook_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    req = urllib.request.Request(
        f"{URL}/webhooks/magento",
        data=body,
        method="POST",
        headers={
            "content-type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": ts,
            "webhook-signature": "v1," + base64.b64encode(mac).decode(),
        },
    )
    try:
        with urllib.request.urlopen(req) as res:
            return res.status
    except urllib.error.HTTPError as e:
        return e.code


def psql(sql):
    subprocess.run(["psql", DB, "-qAtc", sql], check=True, stdout=subprocess.DEVNULL)


def main():
    wait_ready()

    # payload_invalid: signed JSON that is not a usable order event (kept, 422).
    status = send_webhook("msg_genclient_bad", json.dumps({"type": "order.placed", "data": {}}).encode())
    check(status == 422, f"unusable webhook answered {status}, expected 422")
    # A real order, whose post job the worker then parks on an unknown SKU.
    order = {
        "entity_id": 777, "increment_id": "000000777", "created_at": "2026-11-26 10:00:00",
        "order_currency_code": "EUR", "customer_email": "gen@example.com", "grand_total": 10,
        "items": [{"item_id": 1, "sku": "MH01-S-Gray", "qty_ordered": 1, "price": 10}],
    }
    status = send_webhook("msg_genclient_777", json.dumps({"type": "order.placed", "data": {"order": order}}).encode())
    check(status == 202, f"order webhook answered {status}, expected 202")
    psql(
        "UPDATE outbox SET status = 'parked', attempt = 1 WHERE increment_id = '000000777';"
        "UPDATE orders SET status = 'parked' WHERE increment_id = '000000777';"
        "INSERT INTO exceptions (id, category, owner_team, impact, title, detail, order_increment_id, skus, dedup_key)"
        " VALUES (gen_random_uuid(), 'unknown_sku', 'merchandising', 'blocks_fulfilment',"
        " 'SKU ''MH01-S-Gray'' on order 000000777 has no SAP B1 item', 'Map the SKU, then retry.',"
        " '000000777', '{MH01-S-Gray}', 'unknown_sku|000000777|MH01-S-Gray')"
    )

    operator = AuthenticatedClient(base_url=URL, token=OPERATOR, raise_on_unexpected_status=True)
    admin = AuthenticatedClient(base_url=URL, token=ADMIN, raise_on_unexpected_status=True)

    # List, newest first, and with a filter.
    page = list_exceptions.sync(client=operator)
    check(isinstance(page, ExceptionPage), f"list_exceptions gave {page!r}")
    check(len(page.items) == 2, f"expected 2 exceptions, got {len(page.items)}")
    check(page.items[0].category == Category.UNKNOWN_SKU, "newest first")
    check(page.next_cursor is None, "one page")
    invalid = list_exceptions.sync(client=operator, category=Category.PAYLOAD_INVALID)
    check(len(invalid.items) == 1 and invalid.items[0].order_increment_id is None, "category filter")

    # Retry: refused (documented 409) without a parked job, accepted with one.
    refused = retry_exception.sync(client=operator, id=invalid.items[0].id, body=ActionNote(note="retry"))
    check(isinstance(refused, Problem) and refused.status == 409 and refused.code == "nothing_to_retry",
          f"retry of payload_invalid gave {refused!r}")
    retried = retry_exception.sync(client=operator, id=page.items[0].id, body=ActionNote(note="SKU mapped"))
    check(not isinstance(retried, Problem) and retried.status == ExceptionStatus.RETRYING,
          f"retry of the parked order gave {retried!r}")

    # Upsert a mapping (admin), see it listed; an operator may not.
    stored = put_mapping.sync(client=admin, kind=MappingKind.SKUS, key="MH01-S-Gray",
                              body=SkuMapping(item_code="MH01-S-GRY"))
    check(isinstance(stored, Mapping) and stored.updated_by == "ci-admin", f"put_mapping gave {stored!r}")
    check(isinstance(stored.value, SkuMapping) and stored.value.item_code == "MH01-S-GRY", "typed value")
    listed = list_mappings.sync(client=operator, kind=MappingKind.SKUS)
    check(isinstance(listed, MappingPage) and [m.key for m in listed.items] == ["MH01-S-Gray"], "listed")
    forbidden = put_mapping.sync(client=operator, kind=MappingKind.SKUS, key="X", body=SkuMapping(item_code="X"))
    check(isinstance(forbidden, Problem) and forbidden.status == 403, f"operator upsert gave {forbidden!r}")

    print("generated client check OK: list, filter, retry (409 and success), mapping upsert, 403")


main()
