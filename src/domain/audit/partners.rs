//! Partners: the shared guest partner exists, is a customer, is active and takes the store's
//! currencies; and the CardCodes b1bridge creates (`{prefix}{customer id}`,
//! `{prefix}G{hash}`) do not collide with partners that already carry the prefix.
use super::facts::SapPartner;
use super::{mappings_api, Check, Finding, Severity, SETTINGS_API};
use crate::domain::mappings::Mappings;
use crate::domain::settings::{GuestPolicy, Settings};

/// SAP's "all currencies" partner currency.
const ALL_CURRENCIES: &str = "##";

pub struct PartnerInput<'a> {
    /// The guest partner as SAP has it; `None`: SAP has none with that code.
    pub guest: Option<&'a SapPartner>,
    pub local_currency: &'a str,
    pub store_currencies: &'a [String],
    /// Partners whose CardCode starts with the settings' prefix.
    pub prefixed: &'a [SapPartner],
}

pub fn check(mappings: &Mappings, settings: &Settings, input: &PartnerInput<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let code = settings.guest_card_code.as_str();
    let object = format!("guest partner '{code}'");
    let fix = format!("correct guest_card_code ({SETTINGS_API}) or the partner in SAP B1");
    let uses_guest = settings.guest_policy == GuestPolicy::SharedGuest;
    let severity = if uses_guest {
        Severity::Blocking
    } else {
        Severity::Info
    };
    let effect = if uses_guest {
        "guest orders (guest_policy = shared_guest) would be refused"
    } else {
        "no order uses it while guest_policy is not shared_guest"
    };
    match input.guest {
        None => findings.push(Finding::new(
            severity,
            Check::Partners,
            &object,
            format!("SAP B1 has no Business Partner '{code}': {effect}."),
            format!("create a customer '{code}' in SAP B1, or {fix}"),
        )),
        Some(bp) => {
            let mut wrong = Vec::new();
            if !bp.customer {
                wrong.push("not a customer".to_string());
            }
            if !bp.active {
                wrong.push("inactive or frozen".to_string());
            }
            for currency in input.store_currencies {
                let fits = match bp.currency.as_deref() {
                    Some(ALL_CURRENCIES) => true,
                    Some(c) => c == currency,
                    None => currency == input.local_currency,
                };
                if !fits {
                    wrong.push(format!(
                        "its currency {} does not take the store's {currency} orders",
                        bp.currency.as_deref().unwrap_or(input.local_currency)
                    ));
                }
            }
            if !wrong.is_empty() {
                findings.push(Finding::new(
                    severity,
                    Check::Partners,
                    &object,
                    format!("'{code}' is {}: {effect}.", wrong.join("; ")),
                    format!(
                        "make it an active customer with currency '##' (all currencies) or the \
                         store's, or {fix}"
                    ),
                ));
            }
        }
    }

    // Partners b1bridge did not create (no customers mapping points at them) that carry the
    // prefix could be taken for, or block, the codes it creates.
    let prefix = settings.card_code_prefix.as_str();
    let mapped: std::collections::HashSet<&str> = mappings
        .customers
        .values()
        .map(|m| m.card_code.as_str())
        .collect();
    let colliding: Vec<&str> = input
        .prefixed
        .iter()
        .map(|p| p.card_code.as_str())
        .filter(|c| !mapped.contains(c) && *c != code)
        .filter(|c| looks_generated(c, prefix))
        .collect();
    if !colliding.is_empty() {
        let n = colliding.len();
        let examples: Vec<&str> = colliding.iter().take(10).copied().collect();
        findings.push(Finding::new(
            Severity::Warning,
            Check::Partners,
            format!("card_code_prefix '{prefix}'"),
            format!(
                "{n} existing partner(s) have codes of the form b1bridge gives new customers \
                 ({prefix}<customer id>, {prefix}G<hash>): {}{}. A new customer whose code is \
                 taken is held as customer_unmapped unless the partner has the same e-mail.",
                examples.join(", "),
                if n > 10 { ", …" } else { "" }
            ),
            format!(
                "choose a card_code_prefix no partner uses ({SETTINGS_API}), or map those \
                 customers explicitly ({})",
                mappings_api("customers")
            ),
        ));
    }
    findings
}

/// `{prefix}{digits}` or `{prefix}G{anything}`: the shapes of the codes b1bridge creates.
fn looks_generated(code: &str, prefix: &str) -> bool {
    let Some(rest) = code.strip_prefix(prefix) else {
        return false;
    };
    (!rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit()))
        || (rest.starts_with('G') && rest.len() > 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bp(code: &str, currency: Option<&str>) -> SapPartner {
        SapPartner {
            card_code: code.into(),
            customer: true,
            active: true,
            currency: currency.map(Into::into),
        }
    }

    #[test]
    fn a_missing_or_wrong_currency_guest_blocks_and_generated_looking_codes_warn() {
        let settings = Settings::default();
        let eur = vec!["GBP".to_string(), "EUR".to_string()];
        let input = |guest, prefixed| PartnerInput {
            guest,
            local_currency: "GBP",
            store_currencies: &eur,
            prefixed,
        };
        let none = check(&Mappings::default(), &settings, &input(None, &[]));
        assert_eq!(none[0].severity, Severity::Blocking);
        let gbp = bp("WEBGUEST", Some("GBP"));
        let wrong = check(&Mappings::default(), &settings, &input(Some(&gbp), &[]));
        assert!(wrong[0].meaning.contains("EUR"), "{wrong:#?}");
        let all = bp("WEBGUEST", Some("##"));
        let taken = [bp("W1001", None), bp("WHOLESALE", None), bp("WG3f2a", None)];
        let f = check(&Mappings::default(), &settings, &input(Some(&all), &taken));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(f[0].meaning.contains("W1001, WG3f2a"));
        assert!(check(&Mappings::default(), &settings, &input(Some(&all), &[])).is_empty());
    }
}
