//! SKU → ItemCode, and the item-master checks that must pass before a line is posted.
//! All problems of an order are collected, one exception per category naming every SKU, so
//! merchandising fixes the whole order in one pass instead of one SKU per retry.
use serde_json::json;

use super::{order_exception, quoted, SETTINGS_API, SKUS_API};
use crate::domain::exception::{Category, NewException};
use crate::domain::ids::{ItemCode, Sku};
use crate::domain::mappings::Mappings;
use crate::domain::order::{Order, OrderLine};
use crate::domain::sales_order::ItemFacts;
use crate::domain::settings::{SerialBatchPolicy, Settings};

/// An order line that may be posted: its SAP item and what SAP knows about it.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedLine {
    pub line: OrderLine,
    pub item_code: ItemCode,
    pub facts: ItemFacts,
}

/// The ItemCodes the order needs, for the worker to fetch (or refresh) in its item-master
/// cache before calling [`resolve_lines`]. SKUs that cannot be an ItemCode are left out
/// (they surface as `unknown_sku`).
pub fn item_codes_for(order: &Order, mappings: &Mappings) -> Vec<ItemCode> {
    let mut codes: Vec<ItemCode> = order
        .lines
        .iter()
        .filter_map(|l| item_code(&l.sku, mappings))
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

/// The skus mapping, else the SKU itself when it is a valid ItemCode (≤ 50 characters).
fn item_code(sku: &Sku, mappings: &Mappings) -> Option<ItemCode> {
    mappings
        .item_code_for(sku)
        .cloned()
        .or_else(|| ItemCode::parse(sku.as_str()).ok())
}

/// One SKU's problem, as listed in an exception's detail and context.
struct Finding {
    sku: String,
    item_code: Option<String>,
    reasons: Vec<&'static str>,
}

/// Resolves every line or returns every problem. `item_facts` answers from the item-master
/// cache; `None` (or `exists: false`) means SAP has no such item.
pub fn resolve_lines(
    order: &Order,
    mappings: &Mappings,
    settings: &Settings,
    item_facts: impl Fn(&ItemCode) -> Option<ItemFacts>,
) -> Result<Vec<ResolvedLine>, Vec<NewException>> {
    let mut resolved = Vec::new();
    let (mut unknown, mut not_sellable, mut serial_batch) = (Vec::new(), Vec::new(), Vec::new());

    for line in &order.lines {
        let sku = line.sku.to_string();
        let Some(code) = item_code(&line.sku, mappings) else {
            unknown.push(Finding {
                sku,
                item_code: None,
                reasons: vec![
                    "the SKU is longer than an SAP ItemCode (50 characters) and is not mapped",
                ],
            });
            continue;
        };
        let Some(facts) = item_facts(&code).filter(|f| f.exists) else {
            unknown.push(Finding {
                sku,
                item_code: Some(code.to_string()),
                reasons: vec!["no such item in SAP B1"],
            });
            continue;
        };

        let mut blocked = false;
        let reasons: Vec<&'static str> = [
            (!facts.valid, "inactive"),
            (facts.frozen, "frozen"),
            (!facts.sales_item, "not a sales item"),
        ]
        .into_iter()
        .filter_map(|(hit, why)| hit.then_some(why))
        .collect();
        if !reasons.is_empty() {
            blocked = true;
            not_sellable.push(Finding {
                sku: sku.clone(),
                item_code: Some(code.to_string()),
                reasons,
            });
        }
        if settings.serial_batch_policy == SerialBatchPolicy::Hold {
            let reasons: Vec<&'static str> = [
                (facts.serial_managed, "serial-managed"),
                (facts.batch_managed, "batch-managed"),
            ]
            .into_iter()
            .filter_map(|(hit, why)| hit.then_some(why))
            .collect();
            if !reasons.is_empty() {
                blocked = true;
                serial_batch.push(Finding {
                    sku,
                    item_code: Some(code.to_string()),
                    reasons,
                });
            }
        }
        if !blocked {
            resolved.push(ResolvedLine {
                line: line.clone(),
                item_code: code,
                facts,
            });
        }
    }

    let exceptions: Vec<NewException> = [
        (Category::UnknownSku, unknown),
        (Category::ItemNotSellable, not_sellable),
        (Category::SerialBatchRequired, serial_batch),
    ]
    .into_iter()
    .filter(|(_, findings)| !findings.is_empty())
    .map(|(category, findings)| line_exception(order, category, findings))
    .collect();
    if exceptions.is_empty() {
        Ok(resolved)
    } else {
        Err(exceptions)
    }
}

fn line_exception(order: &Order, category: Category, findings: Vec<Finding>) -> NewException {
    let mut skus: Vec<String> = findings.iter().map(|f| f.sku.clone()).collect();
    skus.sort();
    skus.dedup();
    let one = skus.len() == 1;
    let (noun, has, is) = if one {
        ("SKU", "has", "is")
    } else {
        ("SKUs", "have", "are")
    };
    let order_id = &order.increment_id;
    let list = quoted(&skus);
    // The exact endpoint when there is one SKU; the pattern when there are several.
    let sku_path = match skus.as_slice() {
        [sku] => format!("{SKUS_API}/{sku}"),
        _ => format!("{SKUS_API}/{{sku}}"),
    };
    let (title, what_to_do) = match category {
        Category::UnknownSku => (
            format!("{noun} {list} on order {order_id} {has} no SAP B1 item"),
            format!(
                "Add the item to SAP B1 or map the SKU to an existing ItemCode under \
                 {sku_path}, then retry the exception."
            ),
        ),
        Category::ItemNotSellable => (
            format!("{noun} {list} on order {order_id} {is} not sellable in SAP B1"),
            format!(
                "In SAP B1, make the item active, unfreeze it and tick 'Sales Item' (or map the \
                 SKU to another item under {sku_path}), then retry the exception."
            ),
        ),
        _ => (
            format!("{noun} {list} on order {order_id} {is} serial- or batch-managed in SAP B1"),
            format!(
                "The serial/batch policy is 'hold'. Post the order by hand in SAP B1 and resolve \
                 the exception, or set serial_batch_policy to 'post' in {SETTINGS_API} (numbers \
                 are then chosen at delivery) and retry the exception."
            ),
        ),
    };
    let mut detail = String::new();
    for f in &findings {
        let item = f
            .item_code
            .as_deref()
            .map(|c| format!(" (ItemCode '{c}')"))
            .unwrap_or_default();
        detail.push_str(&format!(
            "SKU '{}'{item}: {}. ",
            f.sku,
            f.reasons.join(", ")
        ));
    }
    detail.push_str(&what_to_do);
    let context = json!({
        "lines": findings.iter().map(|f| json!({
            "sku": f.sku, "item_code": f.item_code, "reasons": f.reasons,
        })).collect::<Vec<_>>(),
    });
    order_exception(order, category, skus, title, detail, context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mapping::samples::{self, every_item_sellable, order, sellable};
    use crate::domain::mappings::{MappingValue, SkuMapping};
    use crate::domain::order::LineKind;

    fn skus(lines: &[ResolvedLine]) -> Vec<&str> {
        lines.iter().map(|l| l.line.sku.as_str()).collect()
    }

    /// An item master that knows every code except `missing` and applies `tweak` to `special`.
    fn master(
        missing: &'static [&'static str],
        special: &'static [&'static str],
        tweak: fn(&mut ItemFacts),
    ) -> impl Fn(&ItemCode) -> Option<ItemFacts> {
        move |code| {
            if missing.contains(&code.as_str()) {
                return None;
            }
            let mut f = sellable();
            if special.contains(&code.as_str()) {
                tweak(&mut f);
            }
            Some(f)
        }
    }

    #[test]
    fn a_configurable_order_posts_one_line_per_parent_with_the_simple_sku() {
        let o = order(samples::CONFIGURABLE_TAX);
        let lines = resolve_lines(
            &o,
            &Mappings::default(),
            &Settings::default(),
            every_item_sellable,
        )
        .unwrap();
        assert_eq!(skus(&lines), ["MH09-XS-Blue", "RACER"]);
        assert_eq!(lines[0].line.kind, LineKind::Configurable);
        assert_eq!(lines[0].item_code.as_str(), "MH09-XS-Blue");
        assert_eq!(lines[0].line.qty, rust_decimal_macros::dec!(2));
        assert_eq!(lines[0].line.magento_item_id, Some(16));
    }

    #[test]
    fn a_bundle_order_posts_the_four_components_not_the_bundle() {
        let o = order(samples::BUNDLE);
        let lines = resolve_lines(
            &o,
            &Mappings::default(),
            &Settings::default(),
            every_item_sellable,
        )
        .unwrap();
        assert_eq!(
            skus(&lines),
            [
                "WS12-M-Orange",
                "240-LV08",
                "24-WG082-blue",
                "24-WG084",
                "24-WG086",
                "24-WG088",
                "MH01-S-Gray"
            ]
        );
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.line.kind == LineKind::BundleComponent)
                .count(),
            4
        );
    }

    #[test]
    fn a_sku_mapping_chooses_the_item_code() {
        let o = order(samples::GUEST_CONFIGURABLE);
        let mut m = Mappings::default();
        m.insert(
            "WP13-28-Blue",
            MappingValue::Sku(SkuMapping {
                item_code: ItemCode::parse("WP13-BLUE-28").unwrap(),
            }),
        )
        .unwrap();
        assert_eq!(
            item_codes_for(&o, &m),
            [ItemCode::parse("WP13-BLUE-28").unwrap()]
        );
        let lines = resolve_lines(
            &o,
            &m,
            &Settings::default(),
            master(&["WP13-28-Blue"], &[], |_| {}),
        )
        .unwrap();
        assert_eq!(lines[0].item_code.as_str(), "WP13-BLUE-28");
    }

    #[test]
    fn unknown_skus_become_one_exception_naming_every_sku_and_the_order() {
        let o = order(samples::CONFIGURABLE_TAX);
        let errs = resolve_lines(
            &o,
            &Mappings::default(),
            &Settings::default(),
            master(&["MH09-XS-Blue", "RACER"], &[], |_| {}),
        )
        .unwrap_err();
        assert_eq!(errs.len(), 1);
        let e = &errs[0];
        assert_eq!(e.category, Category::UnknownSku);
        assert_eq!(
            e.title,
            "SKUs 'MH09-XS-Blue', 'RACER' on order 000000013 have no SAP B1 item"
        );
        assert_eq!(e.skus, ["MH09-XS-Blue", "RACER"]);
        assert!(e.detail.contains("/api/v1/mappings/skus/{sku}"));
        assert_eq!(e.dedup_key, "unknown_sku|000000013|MH09-XS-Blue,RACER");
    }

    #[test]
    fn a_negative_cache_entry_counts_as_unknown() {
        let o = order(samples::GUEST_CONFIGURABLE);
        let errs = resolve_lines(&o, &Mappings::default(), &Settings::default(), |_| {
            Some(ItemFacts {
                exists: false,
                ..sellable()
            })
        })
        .unwrap_err();
        assert_eq!(
            errs[0].title,
            "SKU 'WP13-28-Blue' on order 000000019 has no SAP B1 item"
        );
    }

    #[test]
    fn a_sku_too_long_for_an_item_code_is_unknown_unless_mapped() {
        let mut o = order(samples::GUEST_CONFIGURABLE);
        o.lines[0].sku = Sku::parse("X".repeat(60)).unwrap();
        assert!(item_codes_for(&o, &Mappings::default()).is_empty());
        let errs = resolve_lines(
            &o,
            &Mappings::default(),
            &Settings::default(),
            every_item_sellable,
        )
        .unwrap_err();
        assert_eq!(errs[0].category, Category::UnknownSku);
        assert!(errs[0].detail.contains("longer than an SAP ItemCode"));
    }

    #[test]
    fn inactive_frozen_and_non_sales_items_are_not_sellable() {
        let o = order(samples::CONFIGURABLE_TAX);
        let errs = resolve_lines(
            &o,
            &Mappings::default(),
            &Settings::default(),
            master(&[], &["RACER"], |f| {
                f.valid = false;
                f.frozen = true;
                f.sales_item = false;
            }),
        )
        .unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].category, Category::ItemNotSellable);
        assert_eq!(
            errs[0].title,
            "SKU 'RACER' on order 000000013 is not sellable in SAP B1"
        );
        assert!(errs[0].detail.contains("/api/v1/mappings/skus/RACER)"));
        assert!(errs[0]
            .detail
            .contains("inactive, frozen, not a sales item"));
        for reason in ["inactive", "frozen", "not a sales item"] {
            let errs = resolve_lines(
                &o,
                &Mappings::default(),
                &Settings::default(),
                match reason {
                    "inactive" => master(&[], &["RACER"], |f| f.valid = false),
                    "frozen" => master(&[], &["RACER"], |f| f.frozen = true),
                    _ => master(&[], &["RACER"], |f| f.sales_item = false),
                },
            )
            .unwrap_err();
            assert_eq!(errs[0].category, Category::ItemNotSellable, "{reason}");
            assert!(errs[0].detail.contains(reason), "{reason}");
        }
    }

    #[test]
    fn serial_managed_items_hold_under_the_hold_policy() {
        let o = order(samples::CONFIGURABLE_TAX);
        let errs = resolve_lines(
            &o,
            &Mappings::default(),
            &Settings {
                serial_batch_policy: SerialBatchPolicy::Hold,
                ..Settings::default()
            },
            master(&[], &["RACER"], |f| f.serial_managed = true),
        )
        .unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].category, Category::SerialBatchRequired);
        assert_eq!(
            errs[0].title,
            "SKU 'RACER' on order 000000013 is serial- or batch-managed in SAP B1"
        );
        assert!(errs[0].detail.contains("serial-managed"));
    }

    #[test]
    fn serial_and_batch_managed_items_post_under_the_post_policy() {
        let o = order(samples::CONFIGURABLE_TAX);
        // The default: a Sales Order needs no serial or batch numbers.
        let settings = Settings::default();
        assert_eq!(settings.serial_batch_policy, SerialBatchPolicy::Post);
        let lines = resolve_lines(
            &o,
            &Mappings::default(),
            &settings,
            master(&[], &["RACER", "MH09-XS-Blue"], |f| {
                f.serial_managed = true;
                f.batch_managed = true;
            }),
        )
        .unwrap();
        assert_eq!(skus(&lines), ["MH09-XS-Blue", "RACER"]);
        assert!(lines[1].facts.serial_managed);
    }

    #[test]
    fn problems_of_several_kinds_give_one_exception_per_kind() {
        let o = order(samples::BUNDLE);
        let errs = resolve_lines(
            &o,
            &Mappings::default(),
            &Settings {
                serial_batch_policy: SerialBatchPolicy::Hold,
                ..Settings::default()
            },
            |code| match code.as_str() {
                "24-WG084" | "240-LV08" => None,
                "24-WG086" => Some(ItemFacts {
                    frozen: true,
                    ..sellable()
                }),
                "24-WG088" => Some(ItemFacts {
                    frozen: true,
                    batch_managed: true,
                    ..sellable()
                }),
                _ => Some(sellable()),
            },
        )
        .unwrap_err();
        let got: Vec<_> = errs.iter().map(|e| (e.category, e.skus.clone())).collect();
        assert_eq!(
            got,
            [
                (
                    Category::UnknownSku,
                    vec!["24-WG084".to_string(), "240-LV08".to_string()]
                ),
                (
                    Category::ItemNotSellable,
                    vec!["24-WG086".to_string(), "24-WG088".to_string()]
                ),
                (Category::SerialBatchRequired, vec!["24-WG088".to_string()]),
            ]
        );
        assert!(errs
            .iter()
            .all(|e| e.order_increment_id.as_deref() == Some("000000003")));
    }
}
