#!/usr/bin/env bash
# Runs the module's PHPUnit tests, without Magento (see README.md, "Tests"). Installs Debian's
# php-cli and phpunit (with the XML, mbstring, curl and SQLite extensions the tests use) when they
# are missing and we are root.
set -euo pipefail
cd "$(dirname "$0")"

missing() {
  ! command -v php >/dev/null 2>&1 || ! command -v phpunit >/dev/null 2>&1 ||
    ! php -r 'exit(extension_loaded("dom") && extension_loaded("simplexml") && extension_loaded("mbstring") && extension_loaded("curl") && extension_loaded("pdo_sqlite") ? 0 : 1);'
}

if missing; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "magento module tests: installing php-cli, phpunit, php-xml, php-mbstring, php-curl, php-sqlite3 (Debian packages)" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq php-cli phpunit php-xml php-mbstring php-curl php-sqlite3) >&2
  else
    echo "magento module tests: need php (8.1+) with dom, simplexml, mbstring, curl, pdo_sqlite, and phpunit 9; install php-cli phpunit php-xml php-mbstring php-curl php-sqlite3" >&2
    exit 1
  fi
fi

exec phpunit -c phpunit.xml.dist "$@"
