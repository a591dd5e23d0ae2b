//! OData v3 system query options the simulator honours: `$filter`, `$select` (`*` and
//! collection properties allowed), `$orderby` (several keys, asc/desc), `$top`, `$skip` (applied
//! before `$top` whatever their order, GUIDE p.32) and `$inlinecount` (`allpages`/`none`, any
//! other value is a 400, GUIDE p.33). Other `$` options are refused rather than ignored.
use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::collections::BTreeSet;

use super::errors::ServiceLayerError;
use super::filter::{self, Expr};
use super::filter_eval;

/// The query options of one request, plus the raw pairs that a next-page link must repeat.
#[derive(Debug, Clone, Default)]
pub struct QueryOptions {
    pub filter: Option<Expr>,
    pub select: Option<Vec<String>>,
    pub order_by: Vec<(String, bool)>,
    pub top: Option<usize>,
    pub skip: usize,
    pub inline_count: bool,
    /// `name=value` pairs other than `$top`/`$skip`, exactly as the client encoded them.
    pub passthrough: Vec<String>,
}

impl QueryOptions {
    /// Parses the raw query string. `+` decodes to a space as in any form-encoded query; the
    /// Service Layer's own handling of `+` was not found, so we accept what HTTP clients send.
    pub fn parse(raw: Option<&str>) -> Result<Self, ServiceLayerError> {
        let mut options = Self::default();
        for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (name, value) = url::form_urlencoded::parse(pair.as_bytes())
                .next()
                .map(|(n, v)| (n.into_owned(), v.into_owned()))
                .unwrap_or_default();
            match name.as_str() {
                "$filter" => {
                    let expr = filter::parse(&value).map_err(|e| {
                        ServiceLayerError::bad_request(format!("Query string error - {e}"))
                    })?;
                    options.filter = Some(expr);
                }
                "$select" => {
                    options.select = Some(
                        value
                            .split(',')
                            .map(|s| s.trim().to_owned())
                            .filter(|s| !s.is_empty())
                            .collect(),
                    )
                }
                "$orderby" => options.order_by = parse_order_by(&value)?,
                "$top" => options.top = Some(count_option("$top", &value)?),
                "$skip" => options.skip = count_option("$skip", &value)?,
                "$inlinecount" => {
                    options.inline_count = match value.as_str() {
                        "allpages" => true,
                        "none" => false,
                        other => {
                            return Err(ServiceLayerError::bad_request(format!(
                                "Invalid value '{other}' for $inlinecount"
                            )))
                        }
                    }
                }
                "$format" => {}
                other if other.starts_with('$') => {
                    return Err(ServiceLayerError::not_simulated(format!(
                        "the query option {other}"
                    )))
                }
                _ => {}
            }
            if name != "$top" && name != "$skip" {
                options.passthrough.push(pair.to_owned());
            }
        }
        Ok(options)
    }

    /// Refuses property names the entity does not have (user fields `U_…` are always allowed).
    pub fn check_properties(&self, known: &BTreeSet<String>) -> Result<(), ServiceLayerError> {
        let filtered = self.filter.iter().flat_map(|f| f.properties());
        let selected = self.select.iter().flatten().map(String::as_str);
        let ordered = self.order_by.iter().map(|(p, _)| p.as_str());
        for name in filtered.chain(selected).chain(ordered) {
            if name != "*" && !name.starts_with("U_") && !known.contains(name) {
                return Err(ServiceLayerError::bad_request(format!(
                    "Property '{name}' is invalid"
                )));
            }
        }
        Ok(())
    }

    /// Keeps the rows that pass `$filter`.
    pub fn filter_rows(
        &self,
        rows: Vec<Map<String, Value>>,
        case_insensitive: bool,
    ) -> Vec<Map<String, Value>> {
        match &self.filter {
            None => rows,
            Some(expr) => rows
                .into_iter()
                .filter(|row| filter_eval::matches(expr, row, case_insensitive))
                .collect(),
        }
    }

    /// Sorts by `$orderby`; rows arrive in key order, which is what SAP uses without one.
    pub fn sort_rows(&self, rows: &mut [Map<String, Value>]) {
        if self.order_by.is_empty() {
            return;
        }
        rows.sort_by(|a, b| {
            for (property, descending) in &self.order_by {
                let o = compare_values(a.get(property), b.get(property));
                let o = if *descending { o.reverse() } else { o };
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        });
    }

    /// Applies `$select` to one entity.
    pub fn project(&self, row: Map<String, Value>) -> Map<String, Value> {
        match &self.select {
            Some(names) if !names.iter().any(|n| n == "*") => {
                let mut row = row;
                names.iter().filter_map(|n| row.remove_entry(n)).collect()
            }
            _ => row,
        }
    }
}

fn count_option(name: &str, value: &str) -> Result<usize, ServiceLayerError> {
    value
        .trim()
        .parse::<usize>()
        .map_err(|_| ServiceLayerError::bad_request(format!("Invalid value '{value}' for {name}")))
}

fn parse_order_by(value: &str) -> Result<Vec<(String, bool)>, ServiceLayerError> {
    value
        .split(',')
        .map(|part| {
            let mut words = part.split_whitespace();
            let property = words.next().ok_or_else(|| {
                ServiceLayerError::bad_request("Empty property in $orderby".to_owned())
            })?;
            let descending = match words.next() {
                None | Some("asc") => false,
                Some("desc") => true,
                Some(other) => {
                    return Err(ServiceLayerError::bad_request(format!(
                        "Invalid sort direction '{other}' in $orderby"
                    )))
                }
            };
            if words.next().is_some() {
                return Err(ServiceLayerError::bad_request(format!(
                    "Invalid $orderby clause '{part}'"
                )));
            }
            Ok((property.to_owned(), descending))
        })
        .collect()
}

/// Nulls first, numbers by value, strings by text.
fn compare_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    use rust_decimal::Decimal;
    use std::str::FromStr;
    let number = |v: &serde_json::Number| Decimal::from_str(&v.to_string()).ok();
    match (a, b) {
        (None | Some(Value::Null), None | Some(Value::Null)) => Ordering::Equal,
        (None | Some(Value::Null), _) => Ordering::Less,
        (_, None | Some(Value::Null)) => Ordering::Greater,
        (Some(Value::Number(x)), Some(Value::Number(y))) => number(x).cmp(&number(y)),
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows() -> Vec<Map<String, Value>> {
        [("B", 2), ("A", 2), ("C", 1)]
            .iter()
            .map(|(code, n)| {
                json!({"Code": code, "N": n, "Name": "x"})
                    .as_object()
                    .unwrap()
                    .clone()
            })
            .collect()
    }

    #[test]
    fn orderby_sorts_by_several_keys_in_both_directions() {
        let q = QueryOptions::parse(Some("$orderby=N%20desc,Code")).unwrap();
        let mut r = rows();
        q.sort_rows(&mut r);
        let codes: Vec<_> = r.iter().map(|r| r["Code"].as_str().unwrap()).collect();
        assert_eq!(codes, ["A", "B", "C"]);
    }

    #[test]
    fn select_keeps_only_named_properties_and_star_keeps_all() {
        let q = QueryOptions::parse(Some("$select=Code,N")).unwrap();
        let row = q.project(rows().remove(0));
        assert_eq!(row.len(), 2);
        let q = QueryOptions::parse(Some("$select=*")).unwrap();
        assert_eq!(q.project(rows().remove(0)).len(), 3);
    }

    #[test]
    fn next_page_links_keep_options_as_encoded_except_top_and_skip() {
        let q =
            QueryOptions::parse(Some("$filter=Code+eq+'A'&$top=5&$skip=2&$select=Code")).unwrap();
        assert_eq!(q.passthrough, ["$filter=Code+eq+'A'", "$select=Code"]);
        assert_eq!((q.top, q.skip), (Some(5), 2));
        assert_eq!(q.filter_rows(rows(), false).len(), 1);
    }

    #[test]
    fn bad_options_are_refused() {
        for bad in [
            "$top=-1",
            "$skip=x",
            "$inlinecount=some",
            "$orderby=Code%20up",
            "$expand=Lines",
            "$filter=Code%20eq",
        ] {
            assert!(QueryOptions::parse(Some(bad)).is_err(), "accepted {bad}");
        }
        let known: BTreeSet<String> = ["Code".to_owned()].into();
        let q = QueryOptions::parse(Some("$select=Code,Nope")).unwrap();
        assert!(q.check_properties(&known).is_err());
        let q = QueryOptions::parse(Some("$select=Code,U_Channel")).unwrap();
        assert!(q.check_properties(&known).is_ok());
    }
}
