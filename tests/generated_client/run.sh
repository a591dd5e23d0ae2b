#!/usr/bin/env bash
# A client generated from openapi/openapi.json by a standard generator (openapi-python-client,
# pinned, installed from PyPI into a venv under target/) lists exceptions, retries one and
# upserts a mapping against a running `b1bridge serve` on a fresh database.
# Needs DATABASE_URL pointing at a running Postgres (scripts/test.sh provides it), python3, psql.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${DATABASE_URL:?DATABASE_URL must point at a running Postgres (source scripts/ensure-postgres.sh)}"

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

cargo build --locked --quiet --bin b1bridge
bin=target/debug/b1bridge

# A fresh database of its own.
db="b1b_genclient_$(date +%s)_$$"
admin_url=$DATABASE_URL
db_url=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$admin_url" "$db")
psql "$admin_url" -qAtc "CREATE DATABASE $db" >/dev/null

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export B1BRIDGE_TEST_URL="http://127.0.0.1:$port"
export B1BRIDGE_TEST_ADMIN="genclient-admin-secret-0123456789"
export B1BRIDGE_TEST_OPERATOR="genclient-operator-secret-0123456789"
export B1BRIDGE_TEST_WEBHOOK_SECRET="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
export B1BRIDGE_TEST_DB="$db_url"

server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  psql "$admin_url" -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

DATABASE_URL="$db_url" \
B1BRIDGE_LISTEN="127.0.0.1:$port" \
B1BRIDGE_WEBHOOK_SECRETS="$B1BRIDGE_TEST_WEBHOOK_SECRET" \
B1BRIDGE_API_TOKENS="ci-admin:admin:$B1BRIDGE_TEST_ADMIN,ci-operator:operator:$B1BRIDGE_TEST_OPERATOR" \
RUST_LOG=warn \
  "$bin" serve --no-workers >"$work/server.log" 2>&1 &
server_pid=$!

PYTHONPATH="$work/gen" "$venv/bin/python" tests/generated_client/client_check.py ||
  { echo "--- server log" >&2; tail -n 50 "$work/server.log" >&2; exit 1; }
