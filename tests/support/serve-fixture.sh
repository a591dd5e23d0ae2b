# shellcheck shell=bash
# Source this from a script-level test that drives a real `b1bridge serve`: it builds the debug
# binary (`$bin`), creates a fresh database (`$db`, `$db_url`) on the server that
# `$DATABASE_URL` names, picks a free port (`$port`), and on exit stops the server whose pid the
# caller puts in `$server_pid` and drops the database.
# Usage: source tests/support/serve-fixture.sh PREFIX
: "${DATABASE_URL:?DATABASE_URL must point at a running Postgres (source scripts/ensure-postgres.sh)}"

cargo build --locked --quiet --bin b1bridge
bin=target/debug/b1bridge

db="${1:?database name prefix}_$(date +%s)_$$"
admin_url=$DATABASE_URL
db_url=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$admin_url" "$db")
psql "$admin_url" -qAtc "CREATE DATABASE $db" >/dev/null

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

server_pid=
_b1b_serve_fixture_cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  psql "$admin_url" -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
}
trap _b1b_serve_fixture_cleanup EXIT
