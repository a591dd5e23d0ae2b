#!/usr/bin/env bash
# The operations page in a real browser: Debian's headless Chromium, driven by playwright-core
# (pinned in tests/ui_browser/package-lock.json, installed from npm into target/ui-browser/),
# against `b1bridge serve` with its workers and the SAP B1 simulator, on a fresh database.
# The story (tests/ui_browser/ops_page.mjs): a signed webhook brings an order whose SKU SAP
# does not know; an admin signs in with a token, finds the unknown_sku exception, maps the SKU,
# retries, and sees the exception resolved and the order posted. Screenshots land in
# target/ui-browser/screenshots/.
# Needs DATABASE_URL pointing at a running Postgres (scripts/test.sh provides it), python3 and
# psql; installs chromium, nodejs (≥ 18) and npm with apt-get when missing and running as root.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${DATABASE_URL:?DATABASE_URL must point at a running Postgres (source scripts/ensure-postgres.sh)}"

work=target/ui-browser
mkdir -p "$work/screenshots"

chromium_bin=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium_bin" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >&2
    chromium_bin=$(command -v chromium)
  else
    echo "ui browser test: chromium is not installed (apt-get install chromium)" >&2
    exit 1
  fi
fi

# Node and npm: Debian's packages when missing (playwright-core 1.60 still runs on Debian 12's
# Node 18).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm) >&2
  else
    echo "ui browser test: node and npm are not installed (apt-get install nodejs npm)" >&2
    exit 1
  fi
fi

# playwright-core only (no bundled browsers: it drives the system's Chromium), at the version
# of the committed lock file; reinstalled when the lock file changes.
cp tests/ui_browser/package.json tests/ui_browser/package-lock.json "$work/"
if ! cmp -s tests/ui_browser/package-lock.json "$work/node_modules/.installed-lock.json" 2>/dev/null; then
  (cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >&2
  cp tests/ui_browser/package-lock.json "$work/node_modules/.installed-lock.json"
fi

cargo build --locked --quiet --bin b1bridge
bin=target/debug/b1bridge

db="b1b_uibrowser_$(date +%s)_$$"
admin_url=$DATABASE_URL
db_url=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$admin_url" "$db")
psql "$admin_url" -qAtc "CREATE DATABASE $db" >/dev/null

sim_pid=
server_pid=
cleanup() {
  for pid in $server_pid $sim_pid; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  psql "$admin_url" -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

"$bin" sim sap-b1 --listen 127.0.0.1:0 >"$work/sim.log" 2>&1 &
sim_pid=$!
sap_url=""
for _ in $(seq 1 100); do
  sap_url="$(grep -o 'http://[0-9.:]*/b1s/v1' "$work/sim.log" | head -n 1 || true)"
  [ -n "$sap_url" ] && break
  sleep 0.1
done
[ -n "$sap_url" ] || { echo "ui browser test: the SAP B1 simulator did not start" >&2; cat "$work/sim.log" >&2; exit 1; }

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export B1BRIDGE_TEST_URL="http://127.0.0.1:$port"
export B1BRIDGE_TEST_ADMIN="uibrowser-admin-secret-0123456789"
export B1BRIDGE_TEST_WEBHOOK_SECRET="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
export B1BRIDGE_TEST_SAMPLE="$PWD/tests/fixtures/magento/rest-order-guest-configurable.json"
export B1BRIDGE_TEST_SCREENSHOTS="$PWD/$work/screenshots"
export CHROMIUM_BIN="$chromium_bin"

DATABASE_URL="$db_url" \
B1BRIDGE_LISTEN="127.0.0.1:$port" \
B1BRIDGE_WEBHOOK_SECRETS="$B1BRIDGE_TEST_WEBHOOK_SECRET" \
B1BRIDGE_API_TOKENS="ui-admin:admin:$B1BRIDGE_TEST_ADMIN" \
SAP_B1_URL="$sap_url" SAP_B1_COMPANY_DB=SBODEMOGB SAP_B1_USERNAME=manager SAP_B1_PASSWORD=1234 \
RUST_LOG=warn \
  "$bin" serve >"$work/server.log" 2>&1 &
server_pid=$!

B1BRIDGE_TEST_NODE_PROJECT="$PWD/$work/package.json" node tests/ui_browser/ops_page.mjs ||
  { echo "--- server log" >&2; tail -n 50 "$work/server.log" >&2; exit 1; }
echo "ui browser test: passed; screenshots in $work/screenshots/" >&2
