#!/usr/bin/env bash
# Price sync benchmark, SAP pages and Magento fed in-process (real Postgres):
#   ./scripts/bench-prices.sh [--skus 100000] [--batch 100] [--page 500]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/ensure-postgres.sh
source scripts/ensure-postgres.sh
cargo bench --locked --bench prices -- "$@"
