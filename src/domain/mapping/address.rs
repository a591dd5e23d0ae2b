//! Magento addresses in SAP's address columns, cut to SAP's lengths (OCRD/CRD1 and the
//! document address columns: street and city 100, zip 20, state 3, country 3).
use super::truncate;
use crate::domain::order::Address;
use crate::domain::sales_order::DocumentAddress;

pub(super) fn document_address(a: &Address) -> DocumentAddress {
    let clean = |s: &Option<String>, max: usize| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| truncate(s, max))
    };
    let street = a
        .street
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    DocumentAddress {
        name: person_and_company(a).map(|n| truncate(&n, 100)),
        street: (!street.is_empty()).then(|| truncate(&street, 100)),
        city: clean(&a.city, 100),
        zip_code: clean(&a.postcode, 20),
        // SAP's State column holds a state *code* (OCST, 3 characters); a longer Magento
        // region has no safe code, so it is left out rather than cut into a wrong one.
        state: a
            .region_code
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty() && c.chars().count() <= 3)
            .map(str::to_owned),
        country: clean(&a.country_id, 3).map(|c| c.to_uppercase()),
        telephone: clean(&a.telephone, 20),
    }
}

/// "First Last, Company" from whichever parts Magento sent.
pub(super) fn person_and_company(a: &Address) -> Option<String> {
    let person = [&a.firstname, &a.lastname]
        .into_iter()
        .flatten()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let parts: Vec<&str> = [Some(person.as_str()), a.company.as_deref().map(str::trim)]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_joined_and_cut_to_sap_column_lengths() {
        let a = Address {
            firstname: Some("Veronica".into()),
            lastname: Some("Costello".into()),
            company: Some("ACME".into()),
            street: vec![
                "6146 Honey Bluff Parkway".into(),
                " ".into(),
                "Apt 2".into(),
            ],
            city: Some("Calder".into()),
            region: Some("Michigan".into()),
            region_code: Some("MI".into()),
            postcode: Some("49628-7978".into()),
            country_id: Some("us".into()),
            telephone: Some("(555) 229-3326".into()),
            email: None,
            vat_id: None,
        };
        let d = document_address(&a);
        assert_eq!(d.name.as_deref(), Some("Veronica Costello, ACME"));
        assert_eq!(d.street.as_deref(), Some("6146 Honey Bluff Parkway, Apt 2"));
        assert_eq!(d.state.as_deref(), Some("MI"));
        assert_eq!(d.country.as_deref(), Some("US"));

        let long = Address {
            street: vec!["x".repeat(150)],
            region_code: Some("Lower Saxony".into()),
            ..a
        };
        let d = document_address(&long);
        assert_eq!(d.street.unwrap().chars().count(), 100);
        assert_eq!(d.state, None);
    }
}
