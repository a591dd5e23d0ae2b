#!/usr/bin/env bash
# The Magento module's signer, envelope builder and dispatcher (magento/Core) against a running
# `b1bridge serve --no-workers` on a free port and a fresh database: real sample orders must be
# accepted (202), a repeated webhook-id answered 200 duplicate, a wrong secret 401.
# Needs DATABASE_URL pointing at a running Postgres (scripts/test.sh provides it), python3, psql,
# and php with curl and pdo_sqlite (magento/run-tests.sh, which scripts/test.sh runs first, installs
# them when root).
set -euo pipefail
cd "$(dirname "$0")/../.."

work=target/magento-module
mkdir -p "$work"

# shellcheck source=tests/support/serve-fixture.sh
source tests/support/serve-fixture.sh b1b_magento
export B1BRIDGE_TEST_URL="http://127.0.0.1:$port"
# Two secrets, as during a rotation: the module signs with the new one.
export B1BRIDGE_TEST_SECRET_OLD="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
export B1BRIDGE_TEST_SECRET_NEW="whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
export B1BRIDGE_TEST_VIEWER="magento-module-viewer-0123456789"

DATABASE_URL="$db_url" \
B1BRIDGE_LISTEN="127.0.0.1:$port" \
B1BRIDGE_WEBHOOK_SECRETS="$B1BRIDGE_TEST_SECRET_OLD,$B1BRIDGE_TEST_SECRET_NEW" \
B1BRIDGE_API_TOKENS="ci-viewer:viewer:$B1BRIDGE_TEST_VIEWER" \
RUST_LOG=warn \
  "$bin" serve --no-workers >"$work/server.log" 2>&1 &
server_pid=$!

php tests/magento_module/send_sample.php ||
  { echo "--- server log" >&2; tail -n 50 "$work/server.log" >&2; exit 1; }
