//! Warehouses: every mapped warehouse exists in SAP and is active, exactly one is the order
//! default (else `default_warehouse` of the settings is used, and must exist), and the MSI
//! sources the mappings publish to exist in Magento.
use std::collections::HashMap;

use super::facts::{MagentoSource, SapWarehouse};
use super::{mappings_api, Check, Finding, Severity, SETTINGS_API};
use crate::domain::mappings::Mappings;
use crate::domain::settings::Settings;
use crate::domain::stock::StockMode;

pub fn check(
    mappings: &Mappings,
    settings: &Settings,
    sap: &[SapWarehouse],
    sources: &[MagentoSource],
) -> Vec<Finding> {
    let by_code: HashMap<&str, &SapWarehouse> = sap.iter().map(|w| (w.code.as_str(), w)).collect();
    let mut findings = Vec::new();
    let fix = mappings_api("warehouses");
    let mut codes: Vec<&String> = mappings.warehouses.keys().collect();
    codes.sort();
    for code in &codes {
        let m = &mappings.warehouses[code.as_str()];
        let object = format!("warehouse '{code}'");
        let role = match (m.order_default, m.include_in_stock) {
            (true, _) => "order lines are posted to it",
            (false, true) => "its stock is published to Magento",
            (false, false) => "it is mapped but used for nothing",
        };
        match by_code.get(code.as_str()) {
            None => findings.push(Finding::new(
                Severity::Blocking,
                Check::Warehouses,
                &object,
                format!("SAP B1 has no warehouse '{code}', yet {role}."),
                format!("create it in SAP B1 or delete the mapping: {fix}"),
            )),
            Some(w) if w.inactive => findings.push(Finding::new(
                if m.order_default || m.include_in_stock {
                    Severity::Blocking
                } else {
                    Severity::Warning
                },
                Check::Warehouses,
                &object,
                format!("Warehouse '{code}' is inactive in SAP B1, yet {role}."),
                format!("activate it in SAP B1, or change the mapping: {fix}"),
            )),
            Some(_) => {}
        }
        if settings.stock_mode == StockMode::Msi && m.include_in_stock {
            match m.magento_source_code.as_deref() {
                None => findings.push(Finding::new(
                    Severity::Warning,
                    Check::Warehouses,
                    &object,
                    "Its stock counts for Magento but it names no MSI source, so its quantity \
                     is published nowhere.",
                    format!("set magento_source_code: {fix}"),
                )),
                Some(source) => match sources.iter().find(|s| s.code == source) {
                    None => findings.push(Finding::new(
                        Severity::Blocking,
                        Check::Warehouses,
                        &object,
                        format!(
                            "Its stock is published to Magento source '{source}', which Magento \
                             does not have: every stock push for it would be refused."
                        ),
                        format!("create the source in Magento (Stores › Sources) or correct magento_source_code: {fix}"),
                    )),
                    Some(s) if !s.enabled => findings.push(Finding::new(
                        Severity::Warning,
                        Check::Warehouses,
                        &object,
                        format!("Magento source '{source}' is disabled: what is published to it is not sold."),
                        "enable the source in Magento, or publish to another one",
                    )),
                    Some(_) => {}
                },
            }
        }
    }
    let defaults: Vec<&&String> = codes
        .iter()
        .filter(|c| mappings.warehouses[c.as_str()].order_default)
        .collect();
    match defaults.as_slice() {
        [] => {
            let code = settings.default_warehouse.as_str();
            let state = match by_code.get(code) {
                None => Some("does not exist"),
                Some(w) if w.inactive => Some("is inactive"),
                Some(_) => None,
            };
            match state {
                Some(state) => findings.push(Finding::new(
                    Severity::Blocking,
                    Check::Warehouses,
                    format!("setting default_warehouse '{code}'"),
                    format!(
                        "No warehouse mapping is the order default, so order lines go to \
                         default_warehouse '{code}', which {state} in SAP B1: SAP would refuse \
                         every order."
                    ),
                    format!("mark one warehouse order_default ({fix}) or change default_warehouse ({SETTINGS_API})"),
                )),
                None => findings.push(Finding::new(
                    Severity::Info,
                    Check::Warehouses,
                    format!("setting default_warehouse '{code}'"),
                    format!("No warehouse mapping is the order default; order lines go to '{code}'."),
                    format!("mark one warehouse order_default to make the choice explicit: {fix}"),
                )),
            }
        }
        [_] => {}
        several => {
            let list: Vec<&str> = several.iter().map(|c| c.as_str()).collect();
            findings.push(Finding::new(
                Severity::Warning,
                Check::Warehouses,
                format!("warehouses {}", list.join(", ")),
                format!(
                    "{} warehouses are marked order_default; order lines go to the lowest code, '{}'.",
                    list.len(),
                    list[0]
                ),
                format!("leave order_default on one warehouse only: {fix}"),
            ));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mappings::MappingKind;
    use serde_json::json;

    fn mappings(entries: &[(&str, serde_json::Value)]) -> Mappings {
        let mut m = Mappings::default();
        for (k, v) in entries {
            m.insert(k, MappingKind::Warehouses.parse_value(v).unwrap())
                .unwrap();
        }
        m
    }

    fn wh(code: &str, inactive: bool) -> SapWarehouse {
        SapWarehouse {
            code: code.into(),
            inactive,
        }
    }

    #[test]
    fn missing_inactive_unsourced_and_double_defaults_are_found() {
        let m = mappings(&[
            (
                "01",
                json!({"magento_source_code": "default", "include_in_stock": true, "order_default": true}),
            ),
            (
                "02",
                json!({"magento_source_code": "nowhere", "include_in_stock": true, "order_default": true}),
            ),
            (
                "03",
                json!({"include_in_stock": true, "order_default": false}),
            ),
            (
                "09",
                json!({"include_in_stock": false, "order_default": false}),
            ),
        ]);
        let sap = vec![wh("01", false), wh("02", false), wh("03", true)];
        let sources = vec![MagentoSource {
            code: "default".into(),
            enabled: true,
        }];
        let f = check(&m, &Settings::default(), &sap, &sources);
        let said: Vec<(Severity, &str)> =
            f.iter().map(|x| (x.severity, x.object.as_str())).collect();
        assert_eq!(
            said,
            vec![
                (Severity::Blocking, "warehouse '02'"),
                (Severity::Blocking, "warehouse '03'"),
                (Severity::Warning, "warehouse '03'"),
                (Severity::Blocking, "warehouse '09'"),
                (Severity::Warning, "warehouses 01, 02"),
            ],
            "{f:#?}"
        );
    }

    #[test]
    fn one_existing_default_is_clean_and_a_missing_fallback_blocks() {
        let m = mappings(&[(
            "01",
            json!({"magento_source_code": "default", "include_in_stock": true, "order_default": true}),
        )]);
        let sources = vec![MagentoSource {
            code: "default".into(),
            enabled: true,
        }];
        assert!(check(&m, &Settings::default(), &[wh("01", false)], &sources).is_empty());
        let f = check(
            &Mappings::default(),
            &Settings::default(),
            &[wh("02", false)],
            &[],
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Blocking);
        assert!(f[0].meaning.contains("does not exist"));
    }
}
