//! Magento's `searchCriteria` query parameters and search results (`docs/magento-rest.md`,
//! "Searching"). Filters inside one group are OR-ed, groups are AND-ed. Parameters are spelt
//! in snake_case, as Magento's own documentation writes them (Magento accepts both).
use serde::Deserialize;

/// A comparison Magento knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    Eq,
    Neq,
    Gt,
    Gteq,
    Lt,
    Lteq,
    In,
    Nin,
    Like,
    Null,
    NotNull,
}

impl Condition {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Neq => "neq",
            Self::Gt => "gt",
            Self::Gteq => "gteq",
            Self::Lt => "lt",
            Self::Lteq => "lteq",
            Self::In => "in",
            Self::Nin => "nin",
            Self::Like => "like",
            Self::Null => "null",
            Self::NotNull => "notnull",
        }
    }
}

/// One filter: `field condition value` (`in`/`nin` take a comma-separated list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub field: String,
    pub value: String,
    pub condition: Condition,
}

impl Filter {
    pub fn new(field: impl Into<String>, condition: Condition, value: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            value: value.into(),
            condition,
        }
    }
}

/// A search: AND of groups, each an OR of filters; sort, page size and page (from 1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchCriteria {
    pub groups: Vec<Vec<Filter>>,
    pub sort: Vec<(String, bool)>,
    pub page_size: Option<u32>,
    pub current_page: Option<u32>,
}

impl SearchCriteria {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a group with one filter (AND with the others).
    pub fn and(mut self, filter: Filter) -> Self {
        self.groups.push(vec![filter]);
        self
    }

    /// Adds a group of alternatives (OR among them, AND with the others).
    pub fn and_any(mut self, filters: Vec<Filter>) -> Self {
        self.groups.push(filters);
        self
    }

    pub fn sort_asc(mut self, field: impl Into<String>) -> Self {
        self.sort.push((field.into(), true));
        self
    }

    pub fn sort_desc(mut self, field: impl Into<String>) -> Self {
        self.sort.push((field.into(), false));
        self
    }

    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self
    }

    pub fn page(mut self, page: u32) -> Self {
        self.current_page = Some(page);
        self
    }

    /// The query pairs. An empty criteria still says `searchCriteria` (Magento requires the
    /// parameter on search endpoints, even with nothing in it).
    pub fn to_query(&self) -> Vec<(String, String)> {
        let mut q = Vec::new();
        for (g, group) in self.groups.iter().enumerate() {
            for (f, filter) in group.iter().enumerate() {
                let key = |part: &str| {
                    format!("searchCriteria[filter_groups][{g}][filters][{f}][{part}]")
                };
                q.push((key("field"), filter.field.clone()));
                q.push((key("value"), filter.value.clone()));
                q.push((key("condition_type"), filter.condition.as_str().to_owned()));
            }
        }
        for (i, (field, asc)) in self.sort.iter().enumerate() {
            q.push((
                format!("searchCriteria[sortOrders][{i}][field]"),
                field.clone(),
            ));
            q.push((
                format!("searchCriteria[sortOrders][{i}][direction]"),
                if *asc { "ASC" } else { "DESC" }.to_owned(),
            ));
        }
        if let Some(size) = self.page_size {
            q.push(("searchCriteria[pageSize]".into(), size.to_string()));
        }
        if let Some(page) = self.current_page {
            q.push(("searchCriteria[currentPage]".into(), page.to_string()));
        }
        if q.is_empty() {
            q.push(("searchCriteria".into(), String::new()));
        }
        q
    }
}

/// A search answer: `{items, search_criteria, total_count}`.
#[derive(Debug, Clone, Deserialize)]
pub struct SearchResult<T> {
    #[serde(default = "Vec::new")]
    pub items: Vec<T>,
    #[serde(default)]
    pub total_count: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criteria_become_magentos_bracketed_parameters() {
        let q = SearchCriteria::new()
            .and(Filter::new(
                "updated_at",
                Condition::Gteq,
                "2026-01-01 00:00:00",
            ))
            .sort_asc("updated_at")
            .page_size(100)
            .page(2)
            .to_query();
        assert!(q.contains(&(
            "searchCriteria[filter_groups][0][filters][0][condition_type]".into(),
            "gteq".into()
        )));
        assert!(q.contains(&("searchCriteria[currentPage]".into(), "2".into())));
        assert_eq!(
            SearchCriteria::new().to_query(),
            vec![("searchCriteria".into(), String::new())]
        );
    }
}
