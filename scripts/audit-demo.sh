#!/usr/bin/env bash
# The go-live audit against a fresh pair of simulators seeded with deliberate problems:
#   SAP B1:  the default seed, plus a purchase-only sales tax code ('US-USE', not valid for
#            A/R), an existing partner 'W1001' in b1bridge's CardCode range, a locked credit
#            memo series and an approval procedure for orders of 10,000 and more;
#   Magento: products that SAP lacks or has frozen, a tax rate nobody mapped, Magento's own
#            sample orders (one of which SAP rounds a cent differently);
#   b1bridge: the mappings run.sh configures for the simulator, plus the Michigan rate mapped
#            to the purchase-only code and the order-default warehouse '03' (inactive in SAP).
# Prints the report and exits with the audit's status (1: blocking findings).
# Usage: scripts/audit-demo.sh [--format json]   (B1BRIDGE_BIN=path skips the build)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/ensure-postgres.sh
. scripts/ensure-postgres.sh
bin=${B1BRIDGE_BIN:-}
if [ -z "$bin" ]; then cargo build -q; bin=target/debug/b1bridge; fi
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

python3 - "$work" <<'PY'
import json, sys, os
work = sys.argv[1]
sap = json.load(open("src/sim/sap_b1/default_seed.json"))
sap["tax_codes"].append({"Code": "US-USE", "Name": "Use tax (purchases)", "Rate": 8.25, "ValidForAR": "tNO"})
bp = dict(sap["business_partners"][2]); bp.update({"CardCode": "W1001", "CardName": "Wholesale account", "EmailAddress": None})
sap["business_partners"].append(bp)
sap["numbering"]["credit_notes"] = {"next_doc_entry": 211, "next_doc_num": 50112, "locked": True}
sap["approval_procedures"] = [{"name": "Orders of 10,000 and more", "min_doc_total": 10000}]
import datetime
today = datetime.date.today()
sap["posting_periods"] = [
    {"code": "open", "from": "2000-01-01", "to": str(today - datetime.timedelta(days=2)), "status": "unlocked"},
    {"code": "closed", "from": str(today - datetime.timedelta(days=1)), "to": str(today + datetime.timedelta(days=30)), "status": "locked"},
]
json.dump(sap, open(os.path.join(work, "sap.json"), "w"))
mag = json.load(open("src/sim/magento/default_seed.json"))
mag["products"].append({"id": 900, "sku": "WT09-XS-White", "name": "Frozen in SAP"})
mag["products"].append({"id": 901, "sku": "MS10-XL-Black", "name": "Inactive in SAP"})
mag["tax_rates"] = [{"id": 1, "tax_country_id": "US", "tax_region_id": 33, "tax_postcode": "*", "rate": 8.25, "code": "US-MI-*-Rate 1"},
                    {"id": 2, "tax_country_id": "US", "tax_region_id": 43, "tax_postcode": "*", "rate": 8.875, "code": "US-NY-*-Rate 1"}]
orders = []
for f in ["rest-order-registered-discount-multiitem-tax-histories.json", "rest-order-guest-configurable.json"]:
    o = json.load(open(os.path.join("tests/fixtures/magento", f)))
    orders.append(o["items"][0] if "total_count" in o else o)
mag["orders"] = orders
for si in mag["source_items"]:
    si["quantity"] = max(si.get("quantity", 0), 100)
json.dump(mag, open(os.path.join(work, "magento.json"), "w"))
PY

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
sap_port=$(free_port); magento_port=$(free_port)
"$bin" sim sap-b1 --listen "127.0.0.1:$sap_port" --seed "$work/sap.json" >"$work/sap.log" 2>&1 & pids+=($!)
MAGENTO_TOKEN=demo-token "$bin" sim magento --listen "127.0.0.1:$magento_port" --seed "$work/magento.json" >"$work/magento.log" 2>&1 & pids+=($!)

db="b1bridge_audit_demo_$$"
admin_url=${DATABASE_URL%/*}
psql "$admin_url/postgres" -qc "CREATE DATABASE $db" >/dev/null
export DATABASE_URL="$admin_url/$db"
trap 'cleanup; psql "$admin_url/postgres" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true' EXIT
"$bin" migrate >/dev/null
# The mappings an admin would have set (run.sh's for the simulator), then the deliberate mistakes.
while IFS=$'\t' read -r kind key value; do
  [ -n "$kind" ] || continue
  psql "$DATABASE_URL" -qc "INSERT INTO mappings (kind, key, value, updated_by) VALUES ('$kind', '$key', '$value'::jsonb, 'audit-demo') ON CONFLICT (kind, key) DO UPDATE SET value = EXCLUDED.value" >/dev/null
done < <(cat src/sim/sap_b1/default_seed_mappings.tsv; printf 'tax-codes\tUS-NY-*-Rate 1\t{"sap_tax_code": "US-USE"}\nwarehouses\t03\t{"magento_source_code": "outlet", "include_in_stock": true, "order_default": false}\n')

for _ in $(seq 50); do
  curl -fs "http://127.0.0.1:$magento_port/rest/default/V1/products" -H 'Authorization: Bearer demo-token' >/dev/null 2>&1 && break
  sleep 0.1
done
SAP_B1_URL="http://127.0.0.1:$sap_port/b1s/v1" SAP_B1_COMPANY_DB=SBODEMOGB SAP_B1_USERNAME=manager SAP_B1_PASSWORD=1234 \
MAGENTO_URL="http://127.0.0.1:$magento_port/rest/default" MAGENTO_TOKEN=demo-token \
  "$bin" audit "$@"
