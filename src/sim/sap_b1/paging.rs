//! Server-driven paging (GUIDE p.34-35): a collection answers at most `PageSize` rows (default
//! 20) and an `odata.nextLink` of the form `/b1s/v1/Orders?…&$skip=20` that repeats the other
//! query options. `Prefer: odata.maxpagesize=N` (echoed in `Preference-Applied`) or
//! `B1S-PageSize: N` overrides it per request; 0 disables paging.
use axum::http::HeaderMap;

/// The page size that applies to a request and the `Preference-Applied` value to echo.
pub fn page_size(headers: &HeaderMap, default: usize) -> (usize, Option<String>) {
    let prefer = headers
        .get_all("Prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| {
            p.trim()
                .strip_prefix("odata.maxpagesize=")
                .and_then(|n| n.trim().parse::<usize>().ok())
        });
    if let Some(n) = prefer {
        return (n, Some(format!("odata.maxpagesize={n}")));
    }
    let configured = headers
        .get("B1S-PageSize")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    (configured.unwrap_or(default), None)
}

/// Which rows of a filtered, sorted collection one response carries.
#[derive(Debug, PartialEq, Eq)]
pub struct Page {
    pub start: usize,
    pub end: usize,
    /// `$skip` and `$top` of the next request, when more rows remain.
    pub next: Option<(usize, Option<usize>)>,
}

/// Cuts the page out of `total` rows for `$skip`, `$top` and the page size.
pub fn cut(total: usize, skip: usize, top: Option<usize>, page_size: usize) -> Page {
    let start = skip.min(total);
    let wanted_end = match top {
        Some(t) => start.saturating_add(t).min(total),
        None => total,
    };
    let end = if page_size == 0 {
        wanted_end
    } else {
        wanted_end.min(start + page_size)
    };
    let next = (end < wanted_end).then(|| (end, top.map(|t| t - (end - start))));
    Page { start, end, next }
}

/// The `odata.nextLink` for `entity_set`, keeping the other options as the client sent them.
pub fn next_link(
    entity_set: &str,
    passthrough: &[String],
    skip: usize,
    top: Option<usize>,
) -> String {
    let mut params: Vec<String> = passthrough.to_vec();
    if let Some(t) = top {
        params.push(format!("$top={t}"));
    }
    params.push(format!("$skip={skip}"));
    format!("/b1s/v1/{entity_set}?{}", params.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn default_page_is_the_configured_size_with_a_link_to_the_rest() {
        assert_eq!(
            cut(45, 0, None, 20),
            Page {
                start: 0,
                end: 20,
                next: Some((20, None))
            }
        );
        assert_eq!(
            cut(45, 40, None, 20),
            Page {
                start: 40,
                end: 45,
                next: None
            }
        );
        assert_eq!(
            cut(45, 0, None, 0),
            Page {
                start: 0,
                end: 45,
                next: None
            }
        );
        assert_eq!(
            cut(5, 9, None, 20),
            Page {
                start: 5,
                end: 5,
                next: None
            }
        );
    }

    #[test]
    fn top_larger_than_a_page_carries_the_remainder_into_the_next_link() {
        assert_eq!(
            cut(100, 10, Some(50), 20),
            Page {
                start: 10,
                end: 30,
                next: Some((30, Some(30)))
            }
        );
        assert_eq!(
            cut(100, 0, Some(15), 20),
            Page {
                start: 0,
                end: 15,
                next: None
            }
        );
    }

    #[test]
    fn prefer_header_wins_and_is_echoed() {
        let mut h = HeaderMap::new();
        h.insert("B1S-PageSize", HeaderValue::from_static("100"));
        assert_eq!(page_size(&h, 20), (100, None));
        h.insert("Prefer", HeaderValue::from_static("odata.maxpagesize=50"));
        assert_eq!(page_size(&h, 20), (50, Some("odata.maxpagesize=50".into())));
        assert_eq!(page_size(&HeaderMap::new(), 20), (20, None));
    }

    #[test]
    fn next_link_repeats_other_options() {
        assert_eq!(
            next_link("Items", &["$select=ItemCode".into()], 20, None),
            "/b1s/v1/Items?$select=ItemCode&$skip=20"
        );
        assert_eq!(
            next_link("Orders", &[], 40, Some(3)),
            "/b1s/v1/Orders?$top=3&$skip=40"
        );
    }
}
