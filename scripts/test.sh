#!/usr/bin/env bash
# Runs the whole test suite against a real Postgres (started here when none is reachable).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/ensure-postgres.sh
source scripts/ensure-postgres.sh
cargo test --locked "$@"
# A client generated from openapi/openapi.json drives a running server.
tests/generated_client/run.sh
