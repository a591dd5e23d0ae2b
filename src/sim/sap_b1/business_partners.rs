//! Business partners (`BusinessPartners`, OCRD): create with B1's duplicate check and a PATCH
//! of the fields a web shop maintains.
use serde_json::{Map, Value};

use super::company::{Company, Stamp};
use super::entities::{BpAddress, BusinessPartner};
use super::enums::{AddressType, CardType, YesNo};
use super::errors::ServiceLayerError;
use super::json_input::Fields;

pub fn create_business_partner(
    company: &mut Company,
    body: &Map<String, Value>,
    now: &Stamp,
) -> Result<BusinessPartner, ServiceLayerError> {
    let f = Fields::new(body, "BusinessPartner");
    let card_code = f.string("CardCode")?.unwrap_or_default();
    if card_code.trim().is_empty() {
        // The real text was not found (B1 can number BPs by series; the seed has none).
        return Err(ServiceLayerError::business(
            "Enter a business partner code [OCRD.CardCode]",
        ));
    }
    if company.business_partners.contains_key(&card_code) {
        // GUIDE p.23.
        return Err(ServiceLayerError::business(format!(
            "1320000140 - Business partner code '{card_code}' already assigned to a business partner; enter a unique business partner code"
        )));
    }
    let mut bp = BusinessPartner {
        card_code: card_code.clone(),
        card_type: f
            .enumeration("CardType", CardType::parse)?
            .unwrap_or(CardType::Customer),
        group_code: f.integer("GroupCode")?.unwrap_or(100),
        valid: f.enumeration("Valid", YesNo::parse)?.unwrap_or(YesNo::Yes),
        frozen: f.enumeration("Frozen", YesNo::parse)?.unwrap_or(YesNo::No),
        update_date: Some(now.date),
        update_time: Some(now.time.clone()),
        ..Default::default()
    };
    apply_fields(&mut bp, &f, body)?;
    company.business_partners.insert(card_code, bp.clone());
    Ok(bp)
}

/// `PATCH /BusinessPartners('c')`. An address whose (`AddressName`, `AddressType`) already
/// exists is updated, any other is added; rows are never deleted (B1 needs
/// `B1S-ReplaceCollectionsOnPatch` for that, which the simulator does not implement).
pub fn patch_business_partner(
    company: &mut Company,
    card_code: &str,
    body: &Map<String, Value>,
    now: &Stamp,
) -> Result<(), ServiceLayerError> {
    let mut bp = company
        .business_partners
        .get(card_code)
        .cloned()
        .ok_or_else(ServiceLayerError::not_found)?;
    let f = Fields::new(body, "BusinessPartner");
    if let Some(valid) = f.enumeration("Valid", YesNo::parse)? {
        bp.valid = valid;
    }
    if let Some(frozen) = f.enumeration("Frozen", YesNo::parse)? {
        bp.frozen = frozen;
    }
    apply_fields(&mut bp, &f, body)?;
    bp.update_date = Some(now.date);
    bp.update_time = Some(now.time.clone());
    company.business_partners.insert(card_code.to_owned(), bp);
    Ok(())
}

/// The writable text fields and addresses, shared by create and PATCH.
fn apply_fields(
    bp: &mut BusinessPartner,
    f: &Fields<'_>,
    body: &Map<String, Value>,
) -> Result<(), ServiceLayerError> {
    let texts: [(&str, &mut Option<String>); 6] = [
        ("CardName", &mut bp.card_name),
        ("EmailAddress", &mut bp.email_address),
        ("Phone1", &mut bp.phone1),
        ("Currency", &mut bp.currency),
        ("ShipToDefault", &mut bp.ship_to_default),
        ("BilltoDefault", &mut bp.bill_to_default),
    ];
    for (key, field) in texts {
        if body.contains_key(key) {
            *field = f.string(key)?;
        }
    }
    for value in f.array("BPAddresses")? {
        let a = Fields::nested(value, "BPAddress")?;
        let address_name = a.string("AddressName")?.unwrap_or_default();
        let address_type = a
            .enumeration("AddressType", AddressType::parse)?
            .unwrap_or(AddressType::ShipTo);
        let position = bp
            .bp_addresses
            .iter()
            .position(|x| x.address_name == address_name && x.address_type == address_type);
        let row_num = match position {
            Some(i) => bp.bp_addresses[i].row_num,
            None => Some(bp.bp_addresses.len() as i64),
        };
        let address = BpAddress {
            address_name,
            address_type,
            street: a.string("Street")?,
            block: a.string("Block")?,
            city: a.string("City")?,
            zip_code: a.string("ZipCode")?,
            county: a.string("County")?,
            state: a.string("State")?,
            country: a.string("Country")?,
            bp_code: Some(bp.card_code.clone()),
            row_num,
        };
        match position {
            Some(i) => bp.bp_addresses[i] = address,
            None => bp.bp_addresses.push(address),
        }
    }
    Ok(())
}
