//! A document's `Address` (bill-to) and `Address2` (ship-to) blocks. Once `AddressExtension`
//! is set, SAP clears both and rebuilds them from the extension's parts in the country's
//! format (SDK help, `Documents.AddressExtension`); whatever the client sent in
//! `Address`/`Address2` is lost. The format here is one part per line in B1's default
//! order; real country formats differ only in order and separators.
use serde_json::{Map, Value};

/// The block of one side (`ShipTo` or `BillTo`) of the extension, `None` when the extension
/// has no part for it.
pub fn rebuild(extension: &Map<String, Value>, side: &str) -> Option<String> {
    let part = |name: &str| {
        extension
            .get(&format!("{side}{name}"))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let city_line = [part("ZipCode"), part("City"), part("County"), part("State")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let lines: Vec<String> = [
        part("Building"),
        part("Street").map(|street| match part("StreetNo") {
            Some(no) => format!("{street} {no}"),
            None => street,
        }),
        part("Block"),
        part("Address2"),
        part("Address3"),
        (!city_line.is_empty()).then_some(city_line),
        part("Country"),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!lines.is_empty()).then(|| lines.join("\r"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_blocks_are_built_from_the_extension_parts_only() {
        let ext = json!({"ShipToBuilding": "Jane Doe, ACME", "ShipToStreet": "1 High St",
            "ShipToCity": "Leeds", "ShipToZipCode": "LS1 1AA", "ShipToCountry": "GB"});
        let ext = ext.as_object().unwrap();
        assert_eq!(
            rebuild(ext, "ShipTo").as_deref(),
            Some("Jane Doe, ACME\r1 High St\rLS1 1AA Leeds\rGB")
        );
        assert_eq!(rebuild(ext, "BillTo"), None);
    }
}
