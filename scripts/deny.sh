#!/usr/bin/env bash
# Dependency checks with cargo-deny (pinned; installed from crates.io into ~/.cargo/bin once,
# so later runs on the same machine start at once), against deny.toml:
# - licenses, bans, sources: always; they read only Cargo.lock and the crates' manifests.
# - advisories: the RustSec advisory database is a Git repository on GitHub, fetched at run
#   time. Where GitHub cannot be reached (this project's CI machines reach only the package
#   registries) the fetch fails and the advisory check is skipped with a notice; wherever the
#   fetch succeeds, any advisory fails the run. No package registry ships the database.
set -euo pipefail
cd "$(dirname "$0")/.."

DENY_VERSION=0.20.2
if ! cargo deny --version 2>/dev/null | grep -q " $DENY_VERSION\$"; then
  echo "deny: installing cargo-deny $DENY_VERSION from crates.io (once per machine)" >&2
  cargo install --quiet --locked "cargo-deny@$DENY_VERSION"
fi

cargo deny --log-level error check licenses bans sources
echo "cargo deny: licenses, bans and sources ok"

if timeout 120 cargo deny --log-level error fetch >/dev/null 2>&1; then
  cargo deny --log-level error check advisories
  echo "cargo deny: advisories ok"
else
  echo "cargo deny: advisories SKIPPED: the RustSec database (GitHub) cannot be fetched from here" >&2
fi
