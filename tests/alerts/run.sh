#!/usr/bin/env bash
# Checks deploy/alerts.yml with Prometheus' own tool: `promtool check rules` (syntax, PromQL,
# templates) and `promtool test rules` (tests/alerts/alerts_test.yml: each alert fires on the
# situation it names and stays quiet on a healthy service). promtool comes from Debian's
# `prometheus` package, installed here when missing and running as root.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v promtool >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus) >&2
  else
    echo "alert rules: promtool is not installed (apt-get install prometheus)" >&2
    exit 1
  fi
fi
promtool check rules deploy/alerts.yml
(cd tests/alerts && promtool test rules alerts_test.yml)
