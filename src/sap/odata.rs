//! OData v3/v4 details of the Service Layer: literals, `$filter` expressions, query strings,
//! key segments, and following `nextLink` pages (reference §3, §5, §10).
use chrono::{NaiveDate, NaiveTime};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Deserialize;
use std::marker::PhantomData;
use url::Url;

/// Everything but RFC 3986 unreserved characters is percent-encoded in query values and key
/// segments, so `&`, `+`, `#`, `'` and spaces in user data cannot change the request's meaning
/// (spaces become `%20`, never `+`, which OData does not read as a space).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Key literals keep their quotes readable (`Items('i1')`, as in SAP's examples); the quote is
/// legal in a path, and every other unsafe character is still encoded.
const KEY: &AsciiSet = &COMPONENT.remove(b'\'');

fn encode(raw: &str) -> String {
    utf8_percent_encode(raw, COMPONENT).to_string()
}

/// An OData string literal: single-quoted, an embedded `'` doubled (`O'Brien` → `'O''Brien'`).
pub fn string_literal(raw: &str) -> String {
    format!("'{}'", raw.replace('\'', "''"))
}

/// A typed value on the right-hand side of a `$filter` comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    Str(String),
    Int(i64),
    /// Rendered `'YYYY-MM-DD'`, which SAP compares ignoring any time part.
    Date(NaiveDate),
    /// Rendered `'HH:MM:SS'` (e.g. `UpdateTime`), compared ignoring any date part.
    Time(NaiveTime),
}

impl Literal {
    fn render(&self) -> String {
        match self {
            Self::Str(s) => string_literal(s),
            Self::Int(i) => i.to_string(),
            Self::Date(d) => format!("'{}'", d.format("%Y-%m-%d")),
            Self::Time(t) => format!("'{}'", t.format("%H:%M:%S")),
        }
    }
}

impl From<&str> for Literal {
    fn from(s: &str) -> Self {
        Self::Str(s.to_owned())
    }
}
impl From<String> for Literal {
    fn from(s: String) -> Self {
        Self::Str(s)
    }
}
impl From<i64> for Literal {
    fn from(i: i64) -> Self {
        Self::Int(i)
    }
}
impl From<NaiveDate> for Literal {
    fn from(d: NaiveDate) -> Self {
        Self::Date(d)
    }
}
impl From<NaiveTime> for Literal {
    fn from(t: NaiveTime) -> Self {
        Self::Time(t)
    }
}

/// A `$filter` expression built only from field names known at compile time and quoted
/// literals, so user data can never inject filter syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter(String);

impl Filter {
    fn compare(field: &'static str, op: &str, value: Literal) -> Self {
        Self(format!("{field} {op} {}", value.render()))
    }

    /// `field eq value`.
    pub fn equals(field: &'static str, value: impl Into<Literal>) -> Self {
        Self::compare(field, "eq", value.into())
    }

    /// `field gt value`.
    pub fn greater_than(field: &'static str, value: impl Into<Literal>) -> Self {
        Self::compare(field, "gt", value.into())
    }

    /// `field ge value`.
    pub fn at_least(field: &'static str, value: impl Into<Literal>) -> Self {
        Self::compare(field, "ge", value.into())
    }

    /// `startswith(field, 'value')`: codes beginning with a prefix (GUIDE p.32).
    pub fn starts_with(field: &'static str, value: &str) -> Self {
        Self(format!("startswith({field}, {})", string_literal(value)))
    }

    /// `(self) and (other)`.
    pub fn and(self, other: Filter) -> Self {
        Self(format!("({}) and ({})", self.0, other.0))
    }

    /// `(self) or (other)`.
    pub fn or(self, other: Filter) -> Self {
        Self(format!("({}) or ({})", self.0, other.0))
    }

    /// The expression as sent in `$filter`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The query options of one collection read.
#[derive(Debug, Clone, Default)]
pub(crate) struct Query<'a> {
    pub filter: Option<&'a Filter>,
    pub select: &'a [&'static str],
    pub order_by: Option<&'static str>,
}

/// `root` + `entity_set` + the encoded query options.
pub(crate) fn collection_url(root: &Url, entity_set: &str, query: &Query<'_>) -> Url {
    let mut parts = Vec::new();
    if let Some(f) = query.filter {
        parts.push(format!("$filter={}", encode(f.as_str())));
    }
    if !query.select.is_empty() {
        parts.push(format!("$select={}", encode(&query.select.join(","))));
    }
    if let Some(o) = query.order_by {
        parts.push(format!("$orderby={}", encode(o)));
    }
    let mut url = root
        .join(entity_set)
        .expect("entity set names are valid paths");
    if !parts.is_empty() {
        url.set_query(Some(&parts.join("&")));
    }
    url
}

/// `Entity('key')` with the key quoted and percent-encoded, e.g. `Items('A%20B')`.
pub(crate) fn string_key_segment(entity_set: &str, key: &str) -> String {
    let literal = string_literal(key);
    format!("{entity_set}({})", utf8_percent_encode(&literal, KEY))
}

/// Characters that some Service Layer front ends (Apache with its default
/// `AllowEncodedSlashes Off`) refuse even when encoded in a path; keys containing them are
/// looked up with `$filter` instead. The exact behaviour of SL is not in the reference.
pub(crate) fn key_is_path_safe(key: &str) -> bool {
    !key.contains(['/', '\\'])
}

/// Why a `nextLink` could not be followed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot follow nextLink '{link}': {problem}")]
pub struct NextLinkError {
    pub link: String,
    pub problem: &'static str,
}

/// Resolves a `nextLink` against the configured Service Layer root. SAP sends it as an
/// absolute path (`/b1s/v1/Orders?$skip=20`), relative to the root (`Orders?$skip=20`,
/// `SQLQueries('x')/List?&$skip=5`) or as an absolute URL naming SAP's own idea of its host.
/// The result always keeps the configured scheme, host and port: the session cookie goes
/// only where it was issued, and a reverse-proxy prefix in the root is preserved.
pub fn resolve_next_link(root: &Url, link: &str) -> Result<Url, NextLinkError> {
    let fail = |problem| NextLinkError {
        link: link.to_owned(),
        problem,
    };
    let link = link.trim();
    if link.is_empty() {
        return Err(fail("it is empty"));
    }
    let path_and_query = match Url::parse(link) {
        Ok(abs) => match abs.query() {
            Some(q) => format!("{}?{q}", abs.path()),
            None => abs.path().to_owned(),
        },
        Err(_) => link.to_owned(),
    };
    let relative = if let Some(abs_path) = path_and_query.strip_prefix('/') {
        relative_to_root(root, abs_path)
            .ok_or_else(|| fail("it is outside the Service Layer root"))?
    } else {
        path_and_query
    };
    root.join(&relative)
        .map_err(|_| fail("it is not a valid path"))
}

/// Strips the service root (`b1s/v1/`, possibly behind a proxy prefix) from an absolute path.
fn relative_to_root(root: &Url, abs_path: &str) -> Option<String> {
    let root_path = root.path().trim_start_matches('/');
    if let Some(rest) = abs_path.strip_prefix(root_path) {
        return Some(rest.to_owned());
    }
    // SAP does not know about a proxy prefix: match on the root's last two segments
    // (`b1s/v1/`) instead.
    let segments: Vec<&str> = root_path.trim_end_matches('/').split('/').collect();
    let tail = segments[segments.len().saturating_sub(2)..].join("/") + "/";
    let at = abs_path
        .find(&tail)
        .filter(|&i| i == 0 || abs_path.as_bytes()[i - 1] == b'/')?;
    Some(abs_path[at + tail.len()..].to_owned())
}

/// A collection answer in either OData version.
#[derive(Debug, Deserialize)]
pub(crate) struct CollectionBody<T> {
    pub value: Vec<T>,
    #[serde(rename = "odata.nextLink", default)]
    pub next_v3: Option<String>,
    #[serde(rename = "@odata.nextLink", default)]
    pub next_v4: Option<String>,
}

impl<T> CollectionBody<T> {
    pub fn next_link(&self) -> Option<&str> {
        self.next_v3
            .as_deref()
            .or(self.next_v4.as_deref())
            .filter(|l| !l.trim().is_empty())
    }
}

/// One page of a collection and how to get the next one.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<NextPage<T>>,
}

/// An opaque cursor to the following page, typed by the element it yields. It carries the
/// headers of the first request (page size, case-insensitivity) so every page is read alike.
#[derive(Debug)]
pub struct NextPage<T> {
    pub(crate) url: Url,
    pub(crate) options: ReadOptions,
    pub(crate) _item: PhantomData<fn() -> T>,
}

impl<T> Clone for NextPage<T> {
    fn clone(&self) -> Self {
        Self {
            url: self.url.clone(),
            options: self.options,
            _item: PhantomData,
        }
    }
}

impl<T> NextPage<T> {
    /// The resolved address of the next page (for logs and tests).
    pub fn url(&self) -> &Url {
        &self.url
    }
}

/// Per-request Service Layer options sent as headers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ReadOptions {
    /// `Prefer: odata.maxpagesize=N`.
    pub page_size: Option<u32>,
    /// `B1S-CaseInsensitive: true`, for string comparisons on HANA.
    pub case_insensitive: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> Url {
        Url::parse("https://sap:50000/b1s/v1/").unwrap()
    }

    #[test]
    fn string_literals_double_embedded_quotes() {
        assert_eq!(string_literal("O'Brien"), "'O''Brien'");
        assert_eq!(string_literal("''"), "''''''");
        assert_eq!(
            Filter::equals("NumAtCard", "x' or 1 eq 1 or 'a").as_str(),
            "NumAtCard eq 'x'' or 1 eq 1 or ''a'"
        );
    }

    #[test]
    fn filters_combine_typed_literals() {
        let d = NaiveDate::from_ymd_opt(2014, 4, 23).unwrap();
        let t = NaiveTime::from_hms_opt(18, 38, 0).unwrap();
        let f = Filter::greater_than("UpdateDate", d)
            .or(Filter::equals("UpdateDate", d).and(Filter::at_least("UpdateTime", t)));
        assert_eq!(
            f.as_str(),
            "(UpdateDate gt '2014-04-23') or ((UpdateDate eq '2014-04-23') and (UpdateTime ge '18:38:00'))"
        );
        assert_eq!(Filter::equals("DocEntry", 22).as_str(), "DocEntry eq 22");
    }

    #[test]
    fn query_values_are_percent_encoded_so_user_data_cannot_split_the_query() {
        let f = Filter::equals("NumAtCard", "A&B+C #1");
        let url = collection_url(
            &root(),
            "Orders",
            &Query {
                filter: Some(&f),
                select: &["DocEntry", "DocNum"],
                order_by: Some("DocEntry"),
            },
        );
        assert_eq!(
            url.as_str(),
            "https://sap:50000/b1s/v1/Orders?$filter=NumAtCard%20eq%20%27A%26B%2BC%20%231%27&$select=DocEntry%2CDocNum&$orderby=DocEntry"
        );
        assert_eq!(
            collection_url(&root(), "Warehouses", &Query::default()).as_str(),
            "https://sap:50000/b1s/v1/Warehouses"
        );
    }

    #[test]
    fn key_segments_are_quoted_and_encoded() {
        assert_eq!(string_key_segment("Items", "i1"), "Items('i1')");
        assert_eq!(
            string_key_segment("Items", "O'B 1#?%"),
            "Items('O''B%201%23%3F%25')"
        );
        assert!(key_is_path_safe("MH01-S-Gray"));
        assert!(!key_is_path_safe("A/B"));
    }

    #[test]
    fn next_links_resolve_in_every_form_sap_sends() {
        let cases = [
            (
                "/b1s/v1/Orders?$skip=20",
                "https://sap:50000/b1s/v1/Orders?$skip=20",
            ),
            (
                "Orders?$skip=20",
                "https://sap:50000/b1s/v1/Orders?$skip=20",
            ),
            (
                "SQLQueries('x')/List?&$skip=5",
                "https://sap:50000/b1s/v1/SQLQueries('x')/List?&$skip=5",
            ),
            (
                "https://databaseserver:50000/b1s/v1/Items?$skip=40",
                "https://sap:50000/b1s/v1/Items?$skip=40",
            ),
            (
                "Orders?$filter=NumAtCard eq 'x'&$skip=20",
                "https://sap:50000/b1s/v1/Orders?$filter=NumAtCard%20eq%20%27x%27&$skip=20",
            ),
        ];
        for (link, want) in cases {
            assert_eq!(
                resolve_next_link(&root(), link).unwrap().as_str(),
                want,
                "{link}"
            );
        }
    }

    #[test]
    fn next_links_keep_a_reverse_proxy_prefix_and_refuse_foreign_paths() {
        let proxied = Url::parse("https://gw.example/sap/b1s/v2/").unwrap();
        assert_eq!(
            resolve_next_link(&proxied, "/b1s/v2/Items?$skip=20")
                .unwrap()
                .as_str(),
            "https://gw.example/sap/b1s/v2/Items?$skip=20"
        );
        assert_eq!(
            resolve_next_link(&proxied, "/sap/b1s/v2/Items?$skip=20")
                .unwrap()
                .as_str(),
            "https://gw.example/sap/b1s/v2/Items?$skip=20"
        );
        assert!(resolve_next_link(&root(), "/etc/passwd").is_err());
        assert!(resolve_next_link(&root(), "/xb1s/v1/Orders").is_err());
        assert!(resolve_next_link(&root(), "  ").is_err());
    }

    #[test]
    fn collection_bodies_read_both_next_link_spellings() {
        let v3: CollectionBody<i64> =
            serde_json::from_str(r#"{"value":[1],"odata.nextLink":"Orders?$skip=1"}"#).unwrap();
        let v4: CollectionBody<i64> = serde_json::from_str(
            r#"{"@odata.context":"c","value":[1],"@odata.nextLink":"/b1s/v2/Orders?$skip=1"}"#,
        )
        .unwrap();
        let last: CollectionBody<i64> = serde_json::from_str(r#"{"value":[]}"#).unwrap();
        assert_eq!(v3.next_link(), Some("Orders?$skip=1"));
        assert_eq!(v4.next_link(), Some("/b1s/v2/Orders?$skip=1"));
        assert_eq!(last.next_link(), None);
    }
}
