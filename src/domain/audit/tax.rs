//! Tax: every Magento tax rate maps to an SAP code of the right kind for the company's
//! localization — an output VAT group, or a sales tax code valid for A/R — that is active and
//! has the same percentage; so do the exempt code, the shipping methods' tax codes, and their
//! freight codes exist. A purchase (input) VAT group is what SAP refuses with "Invalid VAT
//! Group" (KBA 2693418).
use rust_decimal::Decimal;
use std::collections::{HashMap, HashSet};

use super::facts::{MagentoRate, SapTaxCode};
use super::{mappings_api, Check, Finding, Severity, SETTINGS_API};
use crate::domain::company::TaxLocalization;
use crate::domain::mappings::Mappings;
use crate::domain::settings::Settings;

/// What the tax check reads.
pub struct TaxInput<'a> {
    pub localization: TaxLocalization,
    pub magento_rates: &'a [MagentoRate],
    /// Every tax code of both localizations that SAP serves.
    pub sap_codes: &'a [SapTaxCode],
    /// Freight codes (`AdditionalExpenses.ExpensCode`).
    pub expense_codes: &'a HashSet<i64>,
    /// Shipping and payment methods the recent orders used.
    pub shipping_methods_used: &'a [String],
    pub payment_methods_used: &'a [String],
}

/// Why an SAP code cannot carry a given tax, or `None` when it can.
fn unusable(code: &str, sap: &HashMap<&str, &SapTaxCode>, loc: TaxLocalization) -> Option<String> {
    let field = loc.line_field();
    let Some(c) = sap.get(code) else {
        return Some(format!(
            "SAP B1 has no {} '{code}'",
            match loc {
                TaxLocalization::Vat => "VAT group",
                TaxLocalization::SalesTax => "sales tax code",
            }
        ));
    };
    if c.localization != loc {
        return Some(format!(
            "'{code}' is a {} code, but this company's documents carry {field}",
            match c.localization {
                TaxLocalization::Vat => "VAT group",
                TaxLocalization::SalesTax => "sales tax",
            }
        ));
    }
    if !c.for_sales {
        return Some(match loc {
            TaxLocalization::Vat => format!(
                "'{code}' is a purchase (input) VAT group: SAP refuses it on a sales order \
                 (\"Invalid VAT Group\")"
            ),
            TaxLocalization::SalesTax => format!(
                "'{code}' is not valid for A/R (sales) documents: SAP refuses it (\"Specify \
                 valid tax code\")"
            ),
        });
    }
    if c.inactive {
        return Some(format!("'{code}' is inactive in SAP B1"));
    }
    if c.percent.is_none() {
        return Some(format!("'{code}' has no rate in force today"));
    }
    None
}

pub fn check(mappings: &Mappings, settings: &Settings, input: &TaxInput<'_>) -> Vec<Finding> {
    let loc = input.localization;
    let sap: HashMap<&str, &SapTaxCode> = input
        .sap_codes
        .iter()
        .filter(|c| c.localization == loc)
        .chain(input.sap_codes.iter().filter(|c| c.localization != loc))
        .map(|c| (c.code.as_str(), c))
        .fold(HashMap::new(), |mut m, (k, v)| {
            m.entry(k).or_insert(v);
            m
        });
    let percent_of = |code: &str| sap.get(code).and_then(|c| c.percent);
    let mut findings = Vec::new();
    let fix_tax = mappings_api("tax-codes");
    let rates: HashMap<&str, Decimal> = input
        .magento_rates
        .iter()
        .map(|r| (r.code.as_str(), r.percent))
        .collect();

    for rate in input.magento_rates {
        let object = format!(
            "Magento tax rate '{}' ({} %)",
            rate.code,
            rate.percent.normalize()
        );
        let Some(code) = mappings.tax_code_for_rate(&rate.code) else {
            findings.push(Finding::new(
                Severity::Blocking,
                Check::Tax,
                object,
                "The rate has no tax-codes mapping: orders taxed at it would be held as \
                 total_mismatch (SAP's tax cannot be known).",
                format!(
                    "map it to the SAP {} with {} %: {fix_tax}",
                    loc.line_field(),
                    rate.percent.normalize()
                ),
            ));
            continue;
        };
        if let Some(why) = unusable(code.as_str(), &sap, loc) {
            findings.push(Finding::new(
                Severity::Blocking,
                Check::Tax,
                object,
                format!("It maps to '{code}', but {why}: orders taxed at it cannot post."),
                format!(
                    "map it to an active {} for sales with {} %: {fix_tax}",
                    loc.line_field(),
                    rate.percent.normalize()
                ),
            ));
            continue;
        }
        let sap_percent = percent_of(code.as_str()).unwrap_or_default();
        if sap_percent != rate.percent {
            findings.push(Finding::new(
                Severity::Blocking,
                Check::Tax,
                object,
                format!(
                    "It maps to '{code}', whose rate today is {} % in SAP B1: SAP would book \
                     other tax than Magento charged, and the orders would be held as \
                     total_mismatch.",
                    sap_percent.normalize()
                ),
                format!("map it to a code with {} %, or correct the rate in SAP B1 or Magento: {fix_tax}", rate.percent.normalize()),
            ));
        }
    }

    // Combinations of stacked rates (a state plus a county rate) map to one SAP code whose
    // rate must be their sum.
    let mut combos: Vec<(&String, _)> = mappings
        .tax_codes
        .iter()
        .filter(|(k, _)| k.contains(" + "))
        .collect();
    combos.sort_by_key(|(k, _)| k.as_str());
    for (key, m) in combos {
        let object = format!("stacked rates '{key}'");
        let code = m.sap_tax_code.as_str();
        if let Some(why) = unusable(code, &sap, loc) {
            findings.push(Finding::new(
                Severity::Blocking,
                Check::Tax,
                object,
                format!("They map to '{code}', but {why}."),
                format!(
                    "map them to an active {} for sales: {fix_tax}",
                    loc.line_field()
                ),
            ));
            continue;
        }
        let parts: Option<Decimal> = key.split(" + ").map(|p| rates.get(p.trim()).copied()).sum();
        if let (Some(sum), Some(sap_percent)) = (parts, percent_of(code)) {
            if sum != sap_percent {
                findings.push(Finding::new(
                    Severity::Blocking,
                    Check::Tax,
                    object,
                    format!(
                        "Magento charges {} % in total, '{code}' is {} % in SAP B1.",
                        sum.normalize(),
                        sap_percent.normalize()
                    ),
                    format!("map them to a code with {} %: {fix_tax}", sum.normalize()),
                ));
            }
        }
    }

    let exempt = settings.tax_exempt_code.as_str();
    let exempt_problem = unusable(exempt, &sap, loc).or_else(|| {
        percent_of(exempt)
            .filter(|p| !p.is_zero())
            .map(|p| format!("'{exempt}' is {} %, not 0 %", p.normalize()))
    });
    if let Some(why) = exempt_problem {
        findings.push(Finding::new(
            Severity::Blocking,
            Check::Tax,
            format!("setting tax_exempt_code '{exempt}'"),
            format!("Untaxed lines and shipping post with it, but {why}."),
            format!(
                "set tax_exempt_code to an active 0 % {} ({SETTINGS_API})",
                loc.line_field()
            ),
        ));
    }

    let fix_ship = mappings_api("shipping-methods");
    let mut methods: Vec<(&String, _)> = mappings.shipping_methods.iter().collect();
    methods.sort_by_key(|(k, _)| k.as_str());
    for (method, m) in methods {
        let object = format!("shipping method '{method}'");
        if !input.expense_codes.contains(&i64::from(m.expense_code)) {
            findings.push(Finding::new(
                Severity::Blocking,
                Check::Tax,
                &object,
                format!(
                    "It maps to freight {}, which SAP B1 does not have: orders shipped this way \
                     would be refused.",
                    m.expense_code
                ),
                format!("map it to an existing freight code: {fix_ship}"),
            ));
        }
        if let Some(code) = &m.tax_code {
            if let Some(why) = unusable(code.as_str(), &sap, loc) {
                findings.push(Finding::new(
                    Severity::Blocking,
                    Check::Tax,
                    &object,
                    format!("Its shipping tax code is '{code}', but {why}."),
                    format!("set an active {} for sales: {fix_ship}", loc.line_field()),
                ));
            }
        }
    }
    if !input
        .expense_codes
        .contains(&i64::from(settings.default_freight_expense_code))
    {
        findings.push(Finding::new(
            Severity::Blocking,
            Check::Tax,
            format!(
                "setting default_freight_expense_code {}",
                settings.default_freight_expense_code
            ),
            "Shipping methods without a mapping post as this freight, which SAP B1 does not have.",
            format!("set an existing freight code ({SETTINGS_API})"),
        ));
    }
    for method in input.shipping_methods_used {
        if mappings.shipping_method(method).is_none() {
            findings.push(Finding::new(
                Severity::Info,
                Check::Tax,
                format!("shipping method '{method}'"),
                format!(
                    "Recent orders ship this way without a mapping: their shipping posts as \
                     freight {} (default_freight_expense_code).",
                    settings.default_freight_expense_code
                ),
                format!("map it if it needs its own freight code: {fix_ship}"),
            ));
        }
    }

    let fix_pay = mappings_api("payment-methods");
    let mut payments: Vec<(&String, _)> = mappings.payment_methods.iter().collect();
    payments.sort_by_key(|(k, _)| k.as_str());
    for (method, m) in payments {
        if let Some(code) = &m.sap_payment_method {
            findings.push(Finding::new(
                Severity::Info,
                Check::Tax,
                format!("payment method '{method}'"),
                format!(
                    "It maps to SAP payment method '{code}', which the audit cannot verify: the \
                     Service Layer reference documents no list of payment methods."
                ),
                "check in SAP B1 (Banking › Payment Methods) that the code exists",
            ));
        }
    }
    // Money out: online refunds are paid back from the method's `refund_account`.
    if settings.refunds.outgoing_payment {
        for method in input.payment_methods_used {
            if mappings
                .payment_method(method)
                .and_then(|m| m.refund_account.as_ref())
                .is_none()
            {
                findings.push(Finding::new(
                    Severity::Warning,
                    Check::Tax,
                    format!("payment method '{method}'"),
                    "Recent orders were paid this way, and refunds.outgoing_payment is on, but \
                     no refund_account is mapped: an online refund of such an order gets its \
                     credit memo but no outgoing payment (payment_unlinked for finance).",
                    format!("map its refund_account (an SAP G/L account): {fix_pay}"),
                ));
            }
        }
    }
    for method in input.payment_methods_used {
        if mappings.payment_method(method).is_none() {
            findings.push(Finding::new(
                Severity::Info,
                Check::Tax,
                format!("payment method '{method}'"),
                "Recent orders were paid this way without a mapping: their documents carry no \
                 payment method or remark.",
                format!("map it if SAP should know how the order was paid: {fix_pay}"),
            ));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mappings::MappingKind;
    use rust_decimal_macros::dec;
    use serde_json::json;

    fn vat(code: &str, for_sales: bool, percent: Decimal) -> SapTaxCode {
        SapTaxCode {
            code: code.into(),
            localization: TaxLocalization::Vat,
            for_sales,
            inactive: false,
            percent: Some(percent),
        }
    }

    fn map(entries: &[(&str, &str, serde_json::Value)]) -> Mappings {
        let mut m = Mappings::default();
        for (kind, k, v) in entries {
            let kind = MappingKind::parse(kind).unwrap();
            m.insert(k, kind.parse_value(v).unwrap()).unwrap();
        }
        m
    }

    #[test]
    fn a_purchase_vat_group_an_unmapped_rate_and_a_wrong_percentage_block() {
        let mappings = map(&[
            ("tax-codes", "UK-Standard", json!({"sap_tax_code": "I1"})),
            ("tax-codes", "UK-Reduced", json!({"sap_tax_code": "O1"})),
            ("tax-codes", "UK-Zero", json!({"sap_tax_code": "EX"})),
            (
                "shipping-methods",
                "flatrate_flatrate",
                json!({"expense_code": 7}),
            ),
        ]);
        let rates = vec![
            MagentoRate {
                code: "UK-Standard".into(),
                percent: dec!(20),
            },
            MagentoRate {
                code: "UK-Reduced".into(),
                percent: dec!(5),
            },
            MagentoRate {
                code: "UK-Zero".into(),
                percent: dec!(0),
            },
            MagentoRate {
                code: "IE".into(),
                percent: dec!(23),
            },
        ];
        let sap = vec![
            vat("I1", false, dec!(20)),
            vat("O1", true, dec!(20)),
            vat("EX", true, dec!(0)),
        ];
        let freight: HashSet<i64> = [1].into_iter().collect();
        let settings = Settings::default();
        let f = check(
            &mappings,
            &settings,
            &TaxInput {
                localization: TaxLocalization::Vat,
                magento_rates: &rates,
                sap_codes: &sap,
                expense_codes: &freight,
                shipping_methods_used: &["tablerate_bestway".into()],
                payment_methods_used: &[],
            },
        );
        let blocking: Vec<&str> = f
            .iter()
            .filter(|x| x.severity == Severity::Blocking)
            .map(|x| x.meaning.as_str())
            .collect();
        assert_eq!(blocking.len(), 4, "{f:#?}");
        assert!(blocking[0].contains("purchase (input) VAT group"));
        assert!(
            blocking[1].contains("5 % ") || blocking[1].contains("20 %"),
            "{}",
            blocking[1]
        );
        assert!(blocking[2].contains("no tax-codes mapping"));
        assert!(blocking[3].contains("freight 7"));
        assert!(f
            .iter()
            .any(|x| x.severity == Severity::Info && x.object.contains("tablerate_bestway")));
    }

    #[test]
    fn a_sales_tax_code_not_valid_for_ar_blocks_and_a_good_one_is_clean() {
        let mappings = map(&[(
            "tax-codes",
            "US-MI-*-Rate 1",
            json!({"sap_tax_code": "US-MI"}),
        )]);
        let rates = vec![MagentoRate {
            code: "US-MI-*-Rate 1".into(),
            percent: dec!(8.25),
        }];
        let code = |ar: bool| SapTaxCode {
            code: "US-MI".into(),
            localization: TaxLocalization::SalesTax,
            for_sales: ar,
            inactive: false,
            percent: Some(dec!(8.25)),
        };
        let exempt = SapTaxCode {
            code: "EX".into(),
            localization: TaxLocalization::SalesTax,
            for_sales: true,
            inactive: false,
            percent: Some(dec!(0)),
        };
        let freight: HashSet<i64> = [1].into_iter().collect();
        let run = |ar: bool| {
            let sap = vec![code(ar), exempt.clone()];
            check(
                &mappings,
                &Settings::default(),
                &TaxInput {
                    localization: TaxLocalization::SalesTax,
                    magento_rates: &rates,
                    sap_codes: &sap,
                    expense_codes: &freight,
                    shipping_methods_used: &[],
                    payment_methods_used: &[],
                },
            )
        };
        assert!(run(true).is_empty(), "{:#?}", run(true));
        let bad = run(false);
        assert_eq!(bad.len(), 1);
        assert!(bad[0].meaning.contains("not valid for A/R"));
    }

    #[test]
    fn paying_refunds_back_needs_a_refund_account_for_every_payment_method_used() {
        let mappings = map(&[
            (
                "payment-methods",
                "checkmo",
                json!({"refund_account": "_SYS00000000010"}),
            ),
            (
                "payment-methods",
                "banktransfer",
                json!({"comment": "prepaid"}),
            ),
        ]);
        let mut settings = Settings::default();
        let used = ["checkmo".to_owned(), "banktransfer".to_owned()];
        let run = |settings: &Settings| {
            check(
                &mappings,
                settings,
                &TaxInput {
                    localization: TaxLocalization::Vat,
                    magento_rates: &[],
                    sap_codes: &[vat("EX", true, dec!(0))],
                    expense_codes: &HashSet::new(),
                    shipping_methods_used: &[],
                    payment_methods_used: &used,
                },
            )
        };
        let about_refunds = |settings: &Settings| -> Vec<Finding> {
            run(settings)
                .into_iter()
                .filter(|f| f.meaning.contains("refund_account"))
                .collect()
        };
        assert!(about_refunds(&settings).is_empty(), "off: nothing to say");
        settings.refunds.outgoing_payment = true;
        let f = about_refunds(&settings);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(f[0].object.contains("banktransfer"));
    }
}
