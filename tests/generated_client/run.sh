#!/usr/bin/env bash
# A client generated from openapi/openapi.json by a standard generator (openapi-python-client,
# pinned, installed from PyPI into a venv under target/) lists exceptions, retries one and
# upserts a mapping against a running `b1bridge serve` on a fresh database.
# Needs DATABASE_URL pointing at a running Postgres (scripts/test.sh provides it), python3, psql.
set -euo pipefail
cd "$(dirname "$0")/../.."

GENERATOR_VERSION=0.29.1
work=target/generated-client
venv=$work/venv

if [ ! -x "$venv/bin/openapi-python-client" ] ||
   ! "$venv/bin/openapi-python-client" --version 2>/dev/null | grep -q " $GENERATOR_VERSION\$"; then
  rm -rf "$venv"
  if ! python3 -m venv "$venv" 2>/dev/null; then
    # Debian's python3 keeps venv in a separate package; install it when we may.
    rm -rf "$venv"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv) >&2
      python3 -m venv "$venv"
    else
      echo "generated client: python3 -m venv is unavailable (install python3-venv)" >&2
      exit 1
    fi
  fi
  "$venv/bin/pip" install --quiet --disable-pip-version-check "openapi-python-client==$GENERATOR_VERSION"
fi

rm -rf "$work/gen"
mkdir -p "$work/gen"
# The venv's bin on PATH lets the generator format its output with its own ruff.
PATH="$PWD/$venv/bin:$PATH" "$venv/bin/openapi-python-client" generate \
  --path openapi/openapi.json --meta none --output-path "$work/gen/b1bridge_client" >"$work/generate.log" 2>&1 ||
  { cat "$work/generate.log" >&2; exit 1; }

# shellcheck source=tests/support/serve-fixture.sh
source tests/support/serve-fixture.sh b1b_genclient
export B1BRIDGE_TEST_URL="http://127.0.0.1:$port"
export B1BRIDGE_TEST_ADMIN="genclient-admin-secret-0123456789"
export B1BRIDGE_TEST_OPERATOR="genclient-operator-secret-0123456789"
export B1BRIDGE_TEST_WEBHOOK_SECRET="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
export B1BRIDGE_TEST_DB="$db_url"

DATABASE_URL="$db_url" \
B1BRIDGE_LISTEN="127.0.0.1:$port" \
B1BRIDGE_WEBHOOK_SECRETS="$B1BRIDGE_TEST_WEBHOOK_SECRET" \
B1BRIDGE_API_TOKENS="ci-admin:admin:$B1BRIDGE_TEST_ADMIN,ci-operator:operator:$B1BRIDGE_TEST_OPERATOR" \
RUST_LOG=warn \
  "$bin" serve --no-workers >"$work/server.log" 2>&1 &
server_pid=$!

PYTHONPATH="$work/gen" "$venv/bin/python" tests/generated_client/client_check.py ||
  { echo "--- server log" >&2; tail -n 50 "$work/server.log" >&2; exit 1; }
