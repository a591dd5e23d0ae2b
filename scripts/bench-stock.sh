#!/usr/bin/env bash
# Stock sync benchmark against the SAP B1 and Magento simulators (separate processes):
#   ./scripts/bench-stock.sh [--skus 100000] [--batch 100] [--page 500]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/ensure-postgres.sh
source scripts/ensure-postgres.sh
cargo build --release --locked --bin b1bridge
B1BRIDGE_BIN=target/release/b1bridge cargo bench --locked --bench stock -- "$@"
