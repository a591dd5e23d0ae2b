#!/usr/bin/env bash
# Sends one signed Magento order webhook to a running b1bridge, as Magento would: Standard
# Webhooks v1 (HMAC-SHA256 over "id.timestamp.body" with the secret's base64 key).
#
#   scripts/send-order.sh                      # the guest sample order, with a fresh increment id
#   scripts/send-order.sh my-order.json 000123 # a Magento order JSON (REST shape), as 000123
#
# B1BRIDGE_URL (default http://127.0.0.1:8080) and B1BRIDGE_WEBHOOK_SECRETS (the first secret
# is used; default: the development secret scripts/run.sh starts the server with).
set -euo pipefail
cd "$(dirname "$0")/.."
file="${1:-tests/fixtures/magento/rest-order-guest-configurable.json}"
increment_id="${2:-$(date +%s)}"
url="${B1BRIDGE_URL:-http://127.0.0.1:8080}"
secret="${B1BRIDGE_WEBHOOK_SECRETS:-whsec_ZGV2LXNlY3JldC1kby1ub3QtdXNlLWluLXByb2Q=}"
secret="${secret%%,*}"

python3 - "$file" "$increment_id" "$url" "$secret" <<'PY'
import base64, hashlib, hmac, json, sys, time, urllib.error, urllib.request, uuid

path, increment_id, url, secret = sys.argv[1:5]
order = json.load(open(path))
if "total_count" in order:  # a search result: its first order
    order = order["items"][0]
order["increment_id"] = increment_id
body = json.dumps({"type": "order.placed", "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                   "data": {"order": order}}).encode()
msg_id = f"msg_{uuid.uuid4().hex}"
ts = str(int(time.time()))
key = base64.b64decode(secret.removeprefix("whsec_"))
sig = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()
req = urllib.request.Request(f"{url}/webhooks/magento", data=body, method="POST", headers={
    "content-type": "application/json", "webhook-id": msg_id, "webhook-timestamp": ts,
    "webhook-signature": f"v1,{sig}"})
try:
    with urllib.request.urlopen(req) as res:
        print(f"order {increment_id}: HTTP {res.status} {res.read().decode()}")
except urllib.error.HTTPError as e:
    print(f"order {increment_id}: HTTP {e.code} {e.read().decode()}", file=sys.stderr)
    sys.exit(1)
print(f"follow it: {url}/ui/orders/{increment_id}")
PY
