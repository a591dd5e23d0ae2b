#!/usr/bin/env bash
# Runs b1bridge locally: Postgres (started here when none is reachable), the SAP B1 Service
# Layer simulator when no real SAP is configured (SAP_B1_URL unset), then `b1bridge serve` on
# 127.0.0.1:8080 with the worker pool, and a development webhook secret unless one is
# configured. The simulator is stopped when serve exits (Ctrl-C). With the simulator, run.sh
# then configures, through the API and with a message, the mappings the Magento sample orders
# need against the simulator's seed (b1bridge itself never seeds a mapping).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/ensure-postgres.sh
user_database_url="${DATABASE_URL:-}"
# Tokens the user configured; run.sh's own setup token (below) is not one of them.
user_api_tokens="${B1BRIDGE_API_TOKENS:-}"
source scripts/ensure-postgres.sh
if [ -z "$user_database_url" ]; then
  # Keep the product's tables in a database of their own rather than in `postgres`.
  psql "$DATABASE_URL" -qAtc "SELECT 1 FROM pg_database WHERE datname = 'b1bridge'" | grep -q 1 \
    || psql "$DATABASE_URL" -qc "CREATE DATABASE b1bridge"
  export DATABASE_URL="${DATABASE_URL%/*}/b1bridge"
fi
export B1BRIDGE_WEBHOOK_SECRETS="${B1BRIDGE_WEBHOOK_SECRETS:-whsec_ZGV2LXNlY3JldC1kby1ub3QtdXNlLWluLXByb2Q=}"
cargo build --locked --release
bin=target/release/b1bridge

if [ -z "${SAP_B1_URL:-}" ]; then
  # The simulator and the workers must agree on the login; these are the contract's defaults.
  export SAP_B1_COMPANY_DB="${SAP_B1_COMPANY_DB:-SBODEMOGB}"
  export SAP_B1_USERNAME="${SAP_B1_USERNAME:-manager}"
  export SAP_B1_PASSWORD="${SAP_B1_PASSWORD:-1234}"
  sim_log="$(mktemp "${TMPDIR:-/tmp}/b1bridge-sap-sim.XXXXXX")"
  # Port 0: the system picks a free port and the simulator prints the address it got. Its own
  # session keeps Ctrl-C away from it, so it outlives serve's shutdown (which logs out of it)
  # and is stopped by the EXIT trap. (Without job control the child is no group leader, so
  # setsid does not fork and $! stays the simulator's pid.)
  detach=""
  command -v setsid >/dev/null 2>&1 && detach=setsid
  $detach "$bin" sim sap-b1 --listen 127.0.0.1:0 >"$sim_log" 2>&1 &
  sim_pid=$!
  trap 'kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; rm -f "$sim_log"' EXIT
  url=""
  for _ in $(seq 1 100); do
    url="$(grep -o 'http://[0-9.:]*/b1s/v1' "$sim_log" | head -n 1 || true)"
    [ -n "$url" ] && break
    if ! kill -0 "$sim_pid" 2>/dev/null; then
      echo "run.sh: the SAP B1 simulator did not start:" >&2
      cat "$sim_log" >&2
      exit 1
    fi
    sleep 0.1
  done
  if [ -z "$url" ]; then
    echo "run.sh: the SAP B1 simulator did not report its address" >&2
    exit 1
  fi
  export SAP_B1_URL="$url"
  echo "run.sh: SAP_B1_URL is unset, so orders go to the SAP B1 simulator at $SAP_B1_URL" >&2
  # An admin token of this run only, for configuring the mappings below.
  setup_secret="runsh_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  export B1BRIDGE_API_TOKENS="${B1BRIDGE_API_TOKENS:+$B1BRIDGE_API_TOKENS,}run-sh-setup:admin:$setup_secret"
  api="http://${B1BRIDGE_LISTEN:-127.0.0.1:8080}/api/v1"
  configure_simulator_mappings() {
    for _ in $(seq 1 300); do
      curl -fsS "${api%/api/v1}/readyz" >/dev/null 2>&1 && break
      sleep 0.2
    done
    local kind key value path
    while IFS=$'\t' read -r kind key value; do
      [ -n "$kind" ] || continue
      path="$(printf '%s' "$key" | sed -e 's/%/%25/g' -e 's/ /%20/g' -e 's/\*/%2A/g' -e 's|/|%2F|g')"
      # Only where the admin has set nothing: a mapping that exists is left as it is.
      if curl -fsS -H "Authorization: Bearer $setup_secret" "$api/mappings/$kind?limit=500" \
        | grep -qF "\"key\":\"$key\""; then
        continue
      fi
      if curl -fsS -o /dev/null -X PUT -H "Authorization: Bearer $setup_secret" \
        -H 'Content-Type: application/json' --data "$value" "$api/mappings/$kind/$path"; then
        echo "run.sh: configured mapping $kind '$key' = $value (for the simulator's seed)" >&2
      else
        echo "run.sh: could not configure mapping $kind '$key'" >&2
      fi
    done < src/sim/sap_b1/default_seed_mappings.tsv
  }
  configure_simulator_mappings &
fi

# An admin token for the operations page and the API, new on every run, unless tokens are
# configured. It lives only in this process's environment (only its hash in serve's memory).
if [ -z "$user_api_tokens" ]; then
  page_token="dev-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
  export B1BRIDGE_API_TOKENS="${B1BRIDGE_API_TOKENS:+$B1BRIDGE_API_TOKENS,}dev-admin:admin:$page_token"
fi
listen="${B1BRIDGE_LISTEN:-127.0.0.1:8080}"
{
  echo
  echo "run.sh: b1bridge on http://$listen"
  echo "  operations page:  http://$listen/   (API reference: http://$listen/docs)"
  if [ -n "${page_token:-}" ]; then
    echo "  sign in with:     $page_token   (admin; B1BRIDGE_API_TOKENS=dev-admin:admin:…, new each run)"
  else
    echo "  sign in with:     a token of B1BRIDGE_API_TOKENS"
  fi
  # The URL is printed only when run.sh chose it: one the user gave may hold a password.
  shown_url="'$DATABASE_URL'"
  [ -n "$user_database_url" ] && shown_url='"$DATABASE_URL"'
  echo "  more tokens:      DATABASE_URL=$shown_url $bin token create --name you --role operator"
  echo "  webhook secret:   $B1BRIDGE_WEBHOOK_SECRETS"
  echo "  send an order:    B1BRIDGE_URL=http://$listen scripts/send-order.sh"
  echo
} >&2

"$bin" serve "$@"
