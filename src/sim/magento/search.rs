//! `searchCriteria` as Magento reads it from the query string: filter groups (AND) of
//! filters (OR), sort orders, page size and current page; both the documented snake_case
//! (`filter_groups`, `condition_type`) and the schema's camelCase spellings. A `currentPage`
//! past the end answers the last page again (Magento's known quirk), not an empty page.
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::str::FromStr;

use super::errors::MagentoSimError;

#[derive(Debug, Default)]
pub struct Criteria {
    groups: BTreeMap<usize, BTreeMap<usize, Filter>>,
    sort: BTreeMap<usize, (String, bool)>,
    page_size: Option<usize>,
    current_page: Option<usize>,
    /// Whether the request said `searchCriteria` at all (search routes require it).
    present: bool,
}

#[derive(Debug, Default, Clone)]
struct Filter {
    field: String,
    value: String,
    condition: String,
}

impl Criteria {
    pub fn parse(query: &[(String, String)]) -> Result<Self, MagentoSimError> {
        let mut c = Criteria::default();
        for (key, value) in query {
            if !key.starts_with("searchCriteria") {
                continue;
            }
            c.present = true;
            let parts: Vec<&str> = key
                .trim_start_matches("searchCriteria")
                .split(['[', ']'])
                .filter(|s| !s.is_empty())
                .collect();
            let bad = || {
                MagentoSimError::bad_request("Invalid search criteria parameter %1", json!([key]))
            };
            match parts.as_slice() {
                [] => {}
                ["pageSize" | "page_size"] => c.page_size = Some(value.parse().map_err(|_| bad())?),
                ["currentPage" | "current_page"] => {
                    c.current_page = Some(value.parse().map_err(|_| bad())?)
                }
                ["filter_groups" | "filterGroups", g, "filters", f, part] => {
                    let g: usize = g.parse().map_err(|_| bad())?;
                    let f: usize = f.parse().map_err(|_| bad())?;
                    let filter = c.groups.entry(g).or_default().entry(f).or_default();
                    match *part {
                        "field" => filter.field = value.clone(),
                        "value" => filter.value = value.clone(),
                        "condition_type" | "conditionType" => filter.condition = value.clone(),
                        _ => return Err(bad()),
                    }
                }
                ["sortOrders" | "sort_orders", i, part] => {
                    let i: usize = i.parse().map_err(|_| bad())?;
                    let entry = c.sort.entry(i).or_insert_with(|| (String::new(), true));
                    match *part {
                        "field" => entry.0 = value.clone(),
                        "direction" => entry.1 = !value.eq_ignore_ascii_case("DESC"),
                        _ => return Err(bad()),
                    }
                }
                _ => return Err(bad()),
            }
        }
        for group in c.groups.values() {
            for f in group.values() {
                if f.field.is_empty() {
                    return Err(MagentoSimError::required("field"));
                }
                let known = [
                    "", "eq", "neq", "gt", "gteq", "lt", "lteq", "in", "nin", "like", "nlike",
                    "null", "notnull", "from", "to", "moreq",
                ];
                if !known.contains(&f.condition.as_str()) {
                    return Err(MagentoSimError::bad_request(
                        "Invalid condition type: %1",
                        json!([f.condition]),
                    ));
                }
            }
        }
        Ok(c)
    }

    /// The SKUs a search is limited to, when one of its groups is only `sku` `eq`/`in`
    /// filters: the caller may then look those up instead of listing everything (the full
    /// criteria are still applied to what it finds).
    pub fn sku_restriction(&self) -> Option<Vec<String>> {
        self.groups.values().find_map(|group| {
            let mut skus = Vec::new();
            for f in group.values() {
                match (f.field.as_str(), f.condition.as_str()) {
                    ("sku", "" | "eq") => skus.push(f.value.clone()),
                    ("sku", "in") => skus.extend(f.value.split(',').map(|v| v.trim().to_owned())),
                    _ => return None,
                }
            }
            Some(skus)
        })
    }

    /// No filter and no sort: a page can be cut from the rows without looking at them.
    pub fn is_plain(&self) -> bool {
        self.groups.is_empty() && self.sort.is_empty()
    }

    /// The rows of the requested page out of `total`, as `(skip, take)`.
    pub fn page_window(&self, total: usize) -> (usize, usize) {
        match self.page_size.filter(|s| *s > 0) {
            None => (0, total),
            Some(size) => {
                let last_page = total.div_ceil(size).max(1);
                let page = self.current_page.unwrap_or(1).clamp(1, last_page);
                ((page - 1) * size, size)
            }
        }
    }

    /// The answer for rows that are already the page (see [`is_plain`](Self::is_plain)).
    pub fn answer_page(&self, page: Vec<Value>, total: usize) -> Value {
        let mut criteria = json!({"filter_groups": []});
        if let Some(size) = self.page_size {
            criteria["page_size"] = json!(size);
        }
        if let Some(page) = self.current_page {
            criteria["current_page"] = json!(page);
        }
        json!({"items": page, "search_criteria": criteria, "total_count": total})
    }

    pub fn require_present(&self) -> Result<(), MagentoSimError> {
        if self.present {
            Ok(())
        } else {
            Err(MagentoSimError::required("searchCriteria"))
        }
    }

    /// Filters, sorts and pages `items`; answers `{items, search_criteria, total_count}`.
    pub fn apply(&self, mut items: Vec<Value>) -> Value {
        items.retain(|item| {
            self.groups
                .values()
                .all(|group| group.values().any(|f| matches(item, f)))
        });
        if !self.sort.is_empty() {
            items.sort_by(|a, b| {
                for (field, asc) in self.sort.values() {
                    let o = compare(a.get(field), b.get(field));
                    let o = if *asc { o } else { o.reverse() };
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                Ordering::Equal
            });
        }
        let total = items.len();
        let page_items = if self.page_size.is_some() && total > 0 {
            let (skip, take) = self.page_window(total);
            items.into_iter().skip(skip).take(take).collect()
        } else {
            items
        };
        self.answer_page(page_items, total)
    }
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "1" } else { "0" }.into()),
        _ => None,
    }
}

fn compare(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a.filter(|v| !v.is_null()), b.filter(|v| !v.is_null())) {
        (Some(x), Some(y)) => compare_values(x, &as_text(y).unwrap_or_default()),
        (a, b) => a.is_some().cmp(&b.is_some()),
    }
}

/// Compares a stored value with a filter's text the way the database would: numeric
/// columns as numbers, text columns (increment ids like `000000013`, dates as
/// `YYYY-MM-DD hh:mm:ss`, SKUs) as text, so `"13"` does not find `"000000013"`.
fn compare_values(stored: &Value, filter: &str) -> Ordering {
    let text = as_text(stored).unwrap_or_default();
    match (
        stored,
        Decimal::from_str(&text),
        Decimal::from_str(filter.trim()),
    ) {
        (Value::Number(_), Ok(x), Ok(y)) => x.cmp(&y),
        _ => text.as_str().cmp(filter),
    }
}

fn like(value: &str, pattern: &str) -> bool {
    let v = value.to_lowercase();
    let parts: Vec<String> = pattern
        .to_lowercase()
        .split('%')
        .map(str::to_owned)
        .collect();
    if parts.len() == 1 {
        return v == parts[0];
    }
    let mut pos = 0;
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        if i == 0 {
            if !v.starts_with(part.as_str()) {
                return false;
            }
            pos = part.len();
        } else if let Some(found) = v[pos..].find(part.as_str()) {
            pos += found + part.len();
        } else {
            return false;
        }
    }
    parts
        .last()
        .is_none_or(|p| p.is_empty() || v.ends_with(p.as_str()))
}

fn matches(item: &Value, f: &Filter) -> bool {
    let actual = item
        .get(&f.field)
        .filter(|v| !v.is_null() && as_text(v).is_some());
    let list = || {
        f.value
            .split(',')
            .map(str::trim)
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let cmp = |a: &Value, v: &str| compare_values(a, v);
    match (f.condition.as_str(), actual) {
        ("null", a) => a.is_none(),
        ("notnull", a) => a.is_some(),
        (_, None) => false,
        ("" | "eq", Some(a)) => cmp(a, &f.value) == Ordering::Equal,
        ("neq", Some(a)) => cmp(a, &f.value) != Ordering::Equal,
        ("gt", Some(a)) => cmp(a, &f.value) == Ordering::Greater,
        ("gteq" | "from" | "moreq", Some(a)) => cmp(a, &f.value) != Ordering::Less,
        ("lt", Some(a)) => cmp(a, &f.value) == Ordering::Less,
        ("lteq" | "to", Some(a)) => cmp(a, &f.value) != Ordering::Greater,
        ("in", Some(a)) => list().iter().any(|v| cmp(a, v) == Ordering::Equal),
        ("nin", Some(a)) => !list().iter().any(|v| cmp(a, v) == Ordering::Equal),
        ("like", Some(a)) => like(&as_text(a).unwrap_or_default(), &f.value),
        ("nlike", Some(a)) => !like(&as_text(a).unwrap_or_default(), &f.value),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn a_page_past_the_end_repeats_the_last_page() {
        let items: Vec<Value> = (1..=5).map(|i| json!({"entity_id": i})).collect();
        let c = Criteria::parse(&q(&[
            ("searchCriteria[pageSize]", "2"),
            ("searchCriteria[currentPage]", "9"),
        ]))
        .unwrap();
        let page = c.apply(items);
        assert_eq!(page["total_count"], 5);
        assert_eq!(page["items"], json!([{"entity_id": 5}]));
    }

    #[test]
    fn groups_and_filters_combine_and_numbers_compare_as_numbers() {
        let items: Vec<Value> = (1..=12)
            .map(|i| json!({"entity_id": i, "sku": format!("S{i}")}))
            .collect();
        let c = Criteria::parse(&q(&[
            (
                "searchCriteria[filter_groups][0][filters][0][field]",
                "entity_id",
            ),
            ("searchCriteria[filter_groups][0][filters][0][value]", "9"),
            (
                "searchCriteria[filter_groups][0][filters][0][condition_type]",
                "gt",
            ),
            ("searchCriteria[filterGroups][1][filters][0][field]", "sku"),
            ("searchCriteria[filterGroups][1][filters][0][value]", "s1%"),
            (
                "searchCriteria[filterGroups][1][filters][0][conditionType]",
                "like",
            ),
        ]))
        .unwrap();
        assert_eq!(c.apply(items)["total_count"], 3);
    }

    #[test]
    fn text_fields_compare_as_text() {
        let items = vec![
            json!({"increment_id": "000000013"}),
            json!({"increment_id": "13"}),
        ];
        let c = Criteria::parse(&q(&[
            (
                "searchCriteria[filter_groups][0][filters][0][field]",
                "increment_id",
            ),
            ("searchCriteria[filter_groups][0][filters][0][value]", "13"),
        ]))
        .unwrap();
        assert_eq!(c.apply(items)["items"], json!([{"increment_id": "13"}]));
    }
}
