//! The mappings an operator configures so that the Magento sample orders post against the
//! simulator's default seed: the Luma sample tax rate, the sample carriers (freight 1) and
//! warehouse `01` as order default. b1bridge never seeds them itself; tests, the benchmark and
//! `scripts/run.sh` put them in place visibly (run.sh through the API, with a message), from
//! the one list in `default_seed_mappings.tsv` (kind, key, value JSON; tab-separated).
use crate::domain::mappings::{MappingEntry, MappingKind};

const DEFAULT_SEED_MAPPINGS: &str = include_str!("default_seed_mappings.tsv");

/// The rows as written: (kind, key, value), for the API (`PUT /api/v1/mappings/{kind}/{key}`).
pub fn default_seed_mapping_rows() -> Vec<(&'static str, &'static str, serde_json::Value)> {
    DEFAULT_SEED_MAPPINGS
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut fields = line.splitn(3, '\t');
            let (kind, key, value) = (
                fields.next().expect("kind"),
                fields.next().expect("key"),
                fields.next().expect("value"),
            );
            (kind, key, serde_json::from_str(value).expect("value JSON"))
        })
        .collect()
}

/// The entries, keys normalised, ready for `store::mappings::upsert`.
pub fn default_seed_mappings() -> Vec<MappingEntry> {
    default_seed_mapping_rows()
        .into_iter()
        .map(|(kind, key, json)| {
            let kind = MappingKind::parse(kind).expect("a mapping kind");
            MappingEntry {
                key: kind.normalise_key(key).expect("a valid key"),
                value: kind.parse_value(&json).expect("a valid value"),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mappings::Mappings;

    #[test]
    fn the_list_parses_and_has_one_order_default_warehouse() {
        let entries = default_seed_mappings();
        assert_eq!(entries.len(), 5);
        for e in &entries {
            assert_eq!(e.value.validate(), Ok(()), "{}", e.key);
        }
        let m = Mappings::from_entries(entries).unwrap();
        assert_eq!(
            m.tax_code_for_rate("US-MI-*-Rate 1").unwrap().as_str(),
            "US-MI"
        );
        assert_eq!(m.order_default_warehouse().unwrap().as_str(), "01");
    }
}
