#!/usr/bin/env bash
# Ingest benchmark: ./scripts/bench-ingest.sh [--concurrency 64] [--seconds 20]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/ensure-postgres.sh
source scripts/ensure-postgres.sh
cargo bench --locked --bench ingest -- "$@"
