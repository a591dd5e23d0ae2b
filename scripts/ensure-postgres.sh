# shellcheck shell=bash
# Source this file: it exports DATABASE_URL pointing at a Postgres that answers, in this order:
#   1. $DATABASE_URL, when it answers;
#   2. the local server on 127.0.0.1:5432 (trust auth, user postgres), when it answers;
#   3. a private cluster of our own on 127.0.0.1:${B1BRIDGE_PG_PORT:-55432}, created and started
#      here (installing Debian's `postgresql` package first when it is missing and we are root).
# Postgres refuses to run as root, so as root the private cluster runs as the `postgres` user.

_b1b_pg_answers() { # url
  if command -v psql >/dev/null 2>&1; then
    psql "$1" -Atqc 'select 1' >/dev/null 2>&1
  else
    local hp=${1#*@}; hp=${hp%%/*}
    (exec 3<>"/dev/tcp/${hp%%:*}/${hp##*:}") 2>/dev/null
  fi
}

_b1b_pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$d" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-postgres: installing postgresql (Debian package)" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  fi
  echo "$d"
}

_b1b_pg_private() {
  local port=${B1BRIDGE_PG_PORT:-55432}
  local url="postgres://postgres@127.0.0.1:${port}/postgres"
  if _b1b_pg_answers "$url"; then echo "$url"; return 0; fi
  local bin; bin=$(_b1b_pg_bindir)
  if [ -z "$bin" ]; then
    echo "ensure-postgres: no Postgres reachable and none installable; set DATABASE_URL" >&2
    return 1
  fi
  local data="${B1BRIDGE_PG_DATA:-${TMPDIR:-/tmp}/b1bridge-pg-$(id -u)}"
  local run=()
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres
    run=(runuser -u postgres --)
  fi
  if [ ! -s "$data/PG_VERSION" ]; then
    mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown postgres: "$data"
    chmod 700 "$data"
    "${run[@]}" "$bin/initdb" -D "$data" --auth=trust --username=postgres -E UTF8 >/dev/null
  fi
  echo "ensure-postgres: starting a private Postgres on 127.0.0.1:${port} (data in $data)" >&2
  "${run[@]}" "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
    -o "-p ${port} -k ${data} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off" start >&2 || {
      cat "$data/server.log" >&2; return 1; }
  echo "$url"
}

if [ -n "${DATABASE_URL:-}" ] && _b1b_pg_answers "$DATABASE_URL"; then
  :
elif _b1b_pg_answers "postgres://postgres@127.0.0.1:5432/postgres"; then
  export DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
else
  DATABASE_URL=$(_b1b_pg_private) || return 1 2>/dev/null || exit 1
  export DATABASE_URL
fi
echo "ensure-postgres: using ${DATABASE_URL}" >&2
