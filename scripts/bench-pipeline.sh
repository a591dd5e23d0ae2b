#!/usr/bin/env bash
# Order pipeline benchmark against the SAP B1 simulator:
#   ./scripts/bench-pipeline.sh [--latency-ms 20] [--concurrency 1,4,8] [--seconds 5] [--lock-rate 0.2]
#                               [--latency-run-ms 50]   (the latency run; 0 skips it)
#   ./scripts/bench-pipeline.sh --worker-processes 1,2,4 --concurrency 2   (scale-out: M worker
#                               processes with C SAP requests each, instead of the runs above)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/ensure-postgres.sh
source scripts/ensure-postgres.sh
cargo bench --locked --bench pipeline -- "$@"
