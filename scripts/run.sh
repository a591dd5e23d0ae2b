#!/usr/bin/env bash
# Runs b1bridge locally: Postgres (started here when none is reachable), then `b1bridge serve`
# on 127.0.0.1:8080 with a development webhook secret unless one is configured.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/ensure-postgres.sh
source scripts/ensure-postgres.sh
export B1BRIDGE_WEBHOOK_SECRETS="${B1BRIDGE_WEBHOOK_SECRETS:-whsec_ZGV2LXNlY3JldC1kby1ub3QtdXNlLWluLXByb2Q=}"
exec cargo run --locked --release -- serve "$@"
