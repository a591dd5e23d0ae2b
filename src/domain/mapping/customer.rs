//! Which Business Partner an order is posted on. Order of precedence: a customers mapping
//! (by Magento customer id, then by e-mail); for registered customers, an SAP Business
//! Partner with the same e-mail, else a new one `{prefix}{id}`; for guests, the guest
//! policy (shared guest BP, a BP per e-mail, or hold).
use serde_json::json;

use super::address::{document_address, person_and_company};
use super::{order_exception, truncate, CUSTOMERS_API, SETTINGS_API};
use crate::domain::exception::{Category, NewException};
use crate::domain::ids::CardCode;
use crate::domain::mappings::Mappings;
use crate::domain::order::Order;
use crate::domain::sales_order::NewBusinessPartner;
use crate::domain::settings::{GuestPolicy, Settings};

/// What the worker must do to get the order's CardCode. (Built once per order attempt, so
/// the size difference between variants does not matter; boxing would only add noise.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum CustomerPlan {
    /// Post on this Business Partner.
    Use(CardCode),
    /// Look up `GET /BusinessPartners?$filter=EmailAddress eq '<email>'` (case-insensitive);
    /// use the match, else create `create`. Either way the worker may record the result in
    /// the customers mapping so the next order skips the look-up.
    FindByEmail {
        email: String,
        create: NewBusinessPartner,
    },
    /// Do not post: the order waits on a `customer_unmapped` exception.
    Hold(NewException),
}

pub fn customer_plan(order: &Order, mappings: &Mappings, settings: &Settings) -> CustomerPlan {
    let customer = &order.customer;
    let email = customer.email.trim().to_lowercase();
    // A customer id only counts for a registered customer (Magento keeps it on guest orders
    // of a since-registered shopper, but that order was not placed on the account).
    let registered_id = customer.magento_customer_id.filter(|_| !customer.is_guest);

    if let Some(card) = registered_id.and_then(|id| mappings.card_code_for_customer_id(id)) {
        return CustomerPlan::Use(card.clone());
    }
    if let Some(card) = mappings.card_code_for_email(&email) {
        return CustomerPlan::Use(card.clone());
    }

    match registered_id {
        Some(id) => match settings.card_code_for_customer(id) {
            Some(card_code) => find_or_create(order, email, card_code),
            None => CustomerPlan::Hold(unmapped(
                order,
                &email,
                format!(
                    "Magento customer {id} would get a CardCode longer than 15 characters with \
                     card_code_prefix '{}'. Map the customer under {CUSTOMERS_API}/{id} or \
                     shorten card_code_prefix in {SETTINGS_API}, then retry the exception.",
                    settings.card_code_prefix
                ),
            )),
        },
        None => match settings.guest_policy {
            GuestPolicy::SharedGuest => CustomerPlan::Use(settings.guest_card_code.clone()),
            GuestPolicy::PerEmail => match settings.card_code_for_guest_email(&email) {
                Some(card_code) => find_or_create(order, email, card_code),
                None => CustomerPlan::Hold(unmapped(
                    order,
                    &email,
                    format!(
                        "No guest CardCode fits 15 characters with card_code_prefix '{}'. \
                         Map the e-mail under {CUSTOMERS_API}/{email} or shorten the prefix in \
                         {SETTINGS_API}, then retry the exception.",
                        settings.card_code_prefix
                    ),
                )),
            },
            GuestPolicy::Hold => CustomerPlan::Hold(unmapped(
                order,
                &email,
                format!(
                    "The guest policy is 'hold'. Create or choose a Business Partner in SAP B1 \
                     and map the e-mail under {CUSTOMERS_API}/{email} (or change guest_policy \
                     in {SETTINGS_API}), then retry the exception."
                ),
            )),
        },
    }
}

fn find_or_create(order: &Order, email: String, card_code: CardCode) -> CustomerPlan {
    let c = &order.customer;
    let customer_name = [&c.firstname, &c.lastname]
        .into_iter()
        .flatten()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let card_name = Some(customer_name)
        .filter(|n| !n.is_empty())
        .or_else(|| order.billing_address.as_ref().and_then(person_and_company))
        .unwrap_or_else(|| email.clone());
    let create = NewBusinessPartner {
        card_code,
        card_name: truncate(&card_name, 100),
        email: email.clone(),
        phone: order
            .billing_address
            .as_ref()
            .and_then(|a| a.telephone.as_deref())
            .map(|t| truncate(t.trim(), 20))
            .filter(|t| !t.is_empty()),
        bill_to: order.billing_address.as_ref().map(document_address),
        ship_to: order.shipping_address.as_ref().map(document_address),
    };
    CustomerPlan::FindByEmail { email, create }
}

fn unmapped(order: &Order, email: &str, what_to_do: String) -> NewException {
    let who = if order.customer.is_guest {
        "Guest order"
    } else {
        "Order"
    };
    order_exception(
        order,
        Category::CustomerUnmapped,
        Vec::new(),
        format!(
            "{who} {} ({email}) has no SAP B1 Business Partner",
            order.increment_id
        ),
        what_to_do,
        json!({
            "email": email,
            "magento_customer_id": order.customer.magento_customer_id,
            "is_guest": order.customer.is_guest,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mapping::samples::{self, order};
    use crate::domain::mappings::{CustomerMapping, MappingValue};

    fn card(s: &str) -> CardCode {
        CardCode::parse(s).unwrap()
    }

    fn with_customer(key: &str, card_code: &str) -> Mappings {
        let mut m = Mappings::default();
        m.insert(
            key,
            MappingValue::Customer(CustomerMapping {
                card_code: card(card_code),
            }),
        )
        .unwrap();
        m
    }

    fn policy(p: GuestPolicy) -> Settings {
        Settings {
            guest_policy: p,
            ..Settings::default()
        }
    }

    #[test]
    fn a_mapped_customer_id_decides_the_business_partner() {
        let o = order(samples::CONFIGURABLE_TAX);
        let plan = customer_plan(&o, &with_customer("1", "C20000"), &Settings::default());
        assert_eq!(plan, CustomerPlan::Use(card("C20000")));
    }

    #[test]
    fn an_email_mapping_matches_case_insensitively_and_overrides_the_guest_policy() {
        let o = order(samples::GUEST_CONFIGURABLE);
        let m = with_customer("Guest@Guest.COM", "C30000");
        assert_eq!(
            customer_plan(&o, &m, &policy(GuestPolicy::Hold)),
            CustomerPlan::Use(card("C30000"))
        );
    }

    #[test]
    fn an_unmapped_registered_customer_is_found_by_email_or_created_as_prefix_and_id() {
        let o = order(samples::CONFIGURABLE_TAX);
        let CustomerPlan::FindByEmail { email, create } =
            customer_plan(&o, &Mappings::default(), &Settings::default())
        else {
            panic!("expected a look-up by e-mail");
        };
        assert_eq!(email, "roni_cost@example.com");
        assert_eq!(create.card_code.as_str(), "W1");
        assert_eq!(create.card_name, "Veronica Costello");
        assert_eq!(create.email, "roni_cost@example.com");
        let bill_to = create.bill_to.expect("billing address");
        assert_eq!(bill_to.city.as_deref(), Some("Calder"));
        assert!(create.ship_to.is_some());
    }

    #[test]
    fn the_shared_guest_policy_posts_guests_on_the_guest_business_partner() {
        let o = order(samples::GUEST_CONFIGURABLE);
        assert_eq!(
            customer_plan(&o, &Mappings::default(), &Settings::default()),
            CustomerPlan::Use(card("WEBGUEST"))
        );
    }

    #[test]
    fn the_per_email_policy_finds_or_creates_one_business_partner_per_guest_email() {
        let o = order(samples::GUEST_CONFIGURABLE);
        let settings = policy(GuestPolicy::PerEmail);
        let CustomerPlan::FindByEmail { email, create } =
            customer_plan(&o, &Mappings::default(), &settings)
        else {
            panic!("expected a look-up by e-mail");
        };
        assert_eq!(email, "guest@guest.com");
        assert_eq!(
            Some(create.card_code),
            settings.card_code_for_guest_email("guest@guest.com")
        );
        assert!(create.bill_to.is_some() && create.ship_to.is_some());
    }

    #[test]
    fn the_hold_policy_raises_customer_unmapped_naming_the_order_and_email() {
        let o = order(samples::GUEST_CONFIGURABLE);
        let CustomerPlan::Hold(e) =
            customer_plan(&o, &Mappings::default(), &policy(GuestPolicy::Hold))
        else {
            panic!("expected a hold");
        };
        assert_eq!(e.category, Category::CustomerUnmapped);
        assert_eq!(
            e.title,
            "Guest order 000000019 (guest@guest.com) has no SAP B1 Business Partner"
        );
        assert!(e
            .detail
            .contains("/api/v1/mappings/customers/guest@guest.com"));
        assert_eq!(e.order_increment_id.as_deref(), Some("000000019"));
        assert_eq!(e.dedup_key, "customer_unmapped|000000019|");
    }

    #[test]
    fn a_card_code_that_cannot_fit_holds_the_order_instead_of_truncating() {
        let mut o = order(samples::CONFIGURABLE_TAX);
        o.customer.magento_customer_id = Some(4_294_967_295);
        let settings = Settings {
            card_code_prefix: "WEBSHOP".into(),
            ..Settings::default()
        };
        let plan = customer_plan(&o, &Mappings::default(), &settings);
        assert!(matches!(plan, CustomerPlan::Hold(e) if e.category == Category::CustomerUnmapped));
    }
}
