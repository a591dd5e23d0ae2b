//! Catalogue: every enabled Magento product that can appear on an order line has an SAP item
//! (through the skus mapping, else its own SKU) that is valid, not frozen and a sales item.
//! Inventory and serial/batch management are reported, since they decide what the stock
//! sync publishes and whether orders are held under `serial_batch_policy`.
use std::collections::HashMap;

use super::facts::{Product, SapItem};
use super::{mappings_api, Check, Finding, Severity, SETTINGS_API};
use crate::domain::ids::{ItemCode, Sku};
use crate::domain::mappings::Mappings;
use crate::domain::settings::{SerialBatchPolicy, Settings};

/// Product types that never reach an order line under their own SKU: a configurable product's
/// line carries the chosen simple product's SKU, a grouped product is sold as its members.
const NOT_ON_ORDER_LINES: &[&str] = &["configurable", "grouped"];

/// The ItemCode a SKU posts as, exactly as the pipeline chooses it; `None` when the SKU
/// cannot be an ItemCode and has no mapping.
pub fn item_code_for(sku: &str, mappings: &Mappings) -> Option<ItemCode> {
    let parsed = Sku::parse(sku).ok();
    parsed
        .as_ref()
        .and_then(|s| mappings.item_code_for(s).cloned())
        .or_else(|| ItemCode::parse(sku).ok())
}

/// The products the check covers: enabled and able to appear on an order line.
pub fn sellable_products(products: &[Product]) -> impl Iterator<Item = &Product> {
    products.iter().filter(|p| {
        p.enabled
            && !p
                .type_id
                .as_deref()
                .is_some_and(|t| NOT_ON_ORDER_LINES.contains(&t))
    })
}

pub fn check(
    products: &[Product],
    mappings: &Mappings,
    items: &HashMap<String, SapItem>,
    settings: &Settings,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut non_inventory = Vec::new();
    let fix_mapping = format!("map the SKU to a sellable item: {}", mappings_api("skus"));
    for p in sellable_products(products) {
        let object = format!("SKU '{}'", p.sku);
        let Some(code) = item_code_for(&p.sku, mappings) else {
            findings.push(Finding::new(
                Severity::Blocking,
                Check::Catalogue,
                object,
                "The SKU cannot be an SAP ItemCode (more than 50 characters) and has no skus \
                 mapping: its orders would be held as unknown_sku.",
                fix_mapping.clone(),
            ));
            continue;
        };
        let Some(item) = items.get(code.as_str()) else {
            findings.push(Finding::new(
                Severity::Blocking,
                Check::Catalogue,
                object,
                format!(
                    "SAP B1 has no item '{code}': orders with this SKU would be held as \
                     unknown_sku."
                ),
                format!("create item '{code}' in SAP B1, or {fix_mapping}"),
            ));
            continue;
        };
        let mut reasons = Vec::new();
        if !item.valid {
            reasons.push("inactive (Valid = tNO)");
        }
        if item.frozen {
            reasons.push("frozen");
        }
        if !item.sales_item {
            reasons.push("not a sales item");
        }
        if !reasons.is_empty() {
            findings.push(Finding::new(
                Severity::Blocking,
                Check::Catalogue,
                object,
                format!(
                    "SAP item '{code}' is {}: SAP refuses it on a sales order, so orders with \
                     this SKU would be held as item_not_sellable.",
                    reasons.join(", ")
                ),
                format!(
                    "make item '{code}' active, not frozen and a sales item in SAP B1, or {fix_mapping}"
                ),
            ));
            continue;
        }
        if item.serial_managed || item.batch_managed {
            let what = if item.serial_managed {
                "serial numbers"
            } else {
                "batches"
            };
            let (severity, effect, fix) = match settings.serial_batch_policy {
                SerialBatchPolicy::Hold => (
                    Severity::Warning,
                    "orders with it are held as serial_batch_required (serial_batch_policy = hold)",
                    format!("set serial_batch_policy to 'post' ({SETTINGS_API}) if the numbers may be picked at delivery"),
                ),
                SerialBatchPolicy::Post => (
                    Severity::Info,
                    "orders with it post; its numbers are picked at delivery in SAP B1",
                    String::new(),
                ),
            };
            findings.push(Finding::new(
                severity,
                Check::Catalogue,
                object,
                format!("SAP item '{code}' is managed by {what}: {effect}."),
                fix,
            ));
        }
        if !item.inventory_item {
            non_inventory.push(format!("{} ({code})", p.sku));
        }
    }
    if !non_inventory.is_empty() {
        let n = non_inventory.len();
        non_inventory.truncate(20);
        findings.push(Finding::new(
            Severity::Info,
            Check::Catalogue,
            format!("{n} non-inventory item(s)"),
            format!(
                "These SKUs are sold as SAP items that are not inventory items, so the stock \
                 sync publishes no quantity for them: {}{}.",
                non_inventory.join(", "),
                if n > 20 { ", …" } else { "" }
            ),
            "",
        ));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mappings::{MappingKind, MappingValue};
    use serde_json::json;

    fn product(sku: &str, type_id: &str) -> Product {
        Product {
            sku: sku.into(),
            type_id: Some(type_id.into()),
            enabled: true,
        }
    }

    fn item(code: &str) -> SapItem {
        SapItem {
            item_code: code.into(),
            valid: true,
            frozen: false,
            sales_item: true,
            inventory_item: true,
            serial_managed: false,
            batch_managed: false,
        }
    }

    #[test]
    fn unknown_frozen_and_unmappable_skus_block_and_configurables_are_skipped() {
        let mut mappings = Mappings::default();
        let v: MappingValue = MappingKind::Skus
            .parse_value(&json!({"item_code": "MH01-S-GRY"}))
            .unwrap();
        mappings.insert("MH01-S-Gray", v).unwrap();
        let products = vec![
            product("MH01-S-Gray", "simple"),
            product("GONE", "simple"),
            product("ICE", "simple"),
            product("MH01", "configurable"),
            product(&"X".repeat(60), "simple"),
            Product {
                sku: "OFF".into(),
                type_id: None,
                enabled: false,
            },
        ];
        let mut frozen = item("ICE");
        frozen.frozen = true;
        let items: HashMap<String, SapItem> = [item("MH01-S-GRY"), frozen]
            .into_iter()
            .map(|i| (i.item_code.clone(), i))
            .collect();
        let findings = check(&products, &mappings, &items, &Settings::default());
        let objects: Vec<&str> = findings.iter().map(|f| f.object.as_str()).collect();
        assert_eq!(objects.len(), 3, "{findings:#?}");
        assert!(findings.iter().all(|f| f.severity == Severity::Blocking));
        assert!(findings[0].meaning.contains("no item 'GONE'"));
        assert!(findings[1].meaning.contains("frozen"));
        assert!(findings[2].meaning.contains("cannot be an SAP ItemCode"));
    }

    #[test]
    fn serial_items_are_reported_and_warned_about_under_the_hold_policy() {
        let mut serial = item("SER");
        serial.serial_managed = true;
        let items: HashMap<_, _> = [("SER".to_string(), serial)].into_iter().collect();
        let products = vec![product("SER", "simple")];
        let post = check(
            &products,
            &Mappings::default(),
            &items,
            &Settings::default(),
        );
        assert_eq!(post[0].severity, Severity::Info);
        let hold = Settings {
            serial_batch_policy: SerialBatchPolicy::Hold,
            ..Settings::default()
        };
        let held = check(&products, &Mappings::default(), &items, &hold);
        assert_eq!(held[0].severity, Severity::Warning);
        assert!(held[0].meaning.contains("serial_batch_required"));
    }
}
