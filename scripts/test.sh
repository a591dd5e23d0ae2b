#!/usr/bin/env bash
# Runs the whole test suite against a real Postgres (started here when none is reachable).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/ensure-postgres.sh
source scripts/ensure-postgres.sh
# Every test creates its own database (b1b_test_*). Drop them when the run ends — passed,
# failed or interrupted — and those an earlier, killed run left behind before starting, so
# repeated runs do not fill the user's Postgres. A database still in use (another run) is
# left alone.
drop_test_databases() {
  psql "$DATABASE_URL" -qAtc "SELECT datname FROM pg_database WHERE datname LIKE 'b1b\_test\_%'" 2>/dev/null |
    while read -r db; do psql "$DATABASE_URL" -qc "DROP DATABASE \"$db\"" >/dev/null 2>&1 || true; done
}
drop_test_databases
trap drop_test_databases EXIT
cargo test --locked "$@"
# The chaos run, short version (README "Chaos"): 300 orders through two serve processes and a
# worker while processes are killed, Postgres crashes, SAP and Magento go down; about a minute.
cargo test --locked --test chaos
# A client generated from openapi/openapi.json drives a running server.
tests/generated_client/run.sh
# Schemathesis fuzzes every operation of openapi/openapi.json as admin, operator and viewer,
# every check on: 0 failures.
tests/schemathesis/run.sh
# The Magento module (magento/): its PHPUnit tests (installs php-cli/phpunit when root), then its
# signer and dispatcher against a running server.
magento/run-tests.sh
tests/magento_module/run.sh
# The operations page in headless Chromium: sign in, unknown SKU, map it, retry, posted.
tests/ui_browser/run.sh
# The Prometheus alerting rules parse, and fire when they should (promtool).
tests/alerts/run.sh
