//! Remembered results of paged collection reads, so that following `odata.nextLink` through a
//! large collection costs each page its own rows only.
//!
//! A paged read filters and sorts the whole entity set; done again for every `$skip`, reading
//! 100,000 items in pages of 500 filtered and sorted 200 times (minutes of CPU). The first
//! page's read remembers the keys of every matching row in order; the following pages, asking
//! the same query at a later `$skip`, take their keys from that list and build only their own
//! rows from the current data. The list is valid for exactly one generation of the company
//! data: any access that may change it (an order posted, a stock receipt, a session's
//! write) moves the generation, and the next page is computed afresh. So every page answers
//! what re-running the query would answer at that moment, as the Service Layer does when it
//! re-executes a `$skip` query against the database.
use std::sync::{Arc, Mutex, PoisonError};

use super::resource_path::{EntitySet, Key};

/// One query's result: the keys of its rows, in the order of its answer.
#[derive(Clone)]
struct Remembered {
    generation: u64,
    query: QueryIdentity,
    keys: Arc<Vec<Key>>,
}

/// What makes two requests the same query, whatever their `$skip`/`$top`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryIdentity {
    pub set: EntitySet,
    /// The other query options as the client encoded them (filter, select, order, count).
    pub options: Vec<String>,
    pub case_insensitive: bool,
}

/// A handful of recent queries (a stock read and an open-orders read may page side by side).
#[derive(Default)]
pub struct PagedResults {
    recent: Mutex<Vec<Remembered>>,
}

/// How many queries are remembered; the oldest is forgotten first.
const REMEMBERED: usize = 4;

impl PagedResults {
    /// The keys remembered for `query` at `generation`, if any.
    pub fn get(&self, query: &QueryIdentity, generation: u64) -> Option<Arc<Vec<Key>>> {
        let recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        recent
            .iter()
            .find(|r| r.generation == generation && &r.query == query)
            .map(|r| Arc::clone(&r.keys))
    }

    /// Remembers the keys of `query`'s answer computed at `generation`.
    pub fn put(&self, query: QueryIdentity, generation: u64, keys: Vec<Key>) {
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        recent.retain(|r| r.query != query && r.generation == generation);
        if recent.len() >= REMEMBERED {
            recent.remove(0);
        }
        recent.push(Remembered {
            generation,
            query,
            keys: Arc::new(keys),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(filter: &str) -> QueryIdentity {
        QueryIdentity {
            set: EntitySet::Items,
            options: vec![filter.to_owned()],
            case_insensitive: false,
        }
    }

    #[test]
    fn keys_are_found_only_for_the_same_query_at_the_same_generation() {
        let results = PagedResults::default();
        results.put(items("a"), 7, vec![Key::Text("X".into())]);
        assert_eq!(
            results.get(&items("a"), 7).as_deref(),
            Some(&vec![Key::Text("X".into())])
        );
        assert!(results.get(&items("a"), 8).is_none(), "data changed since");
        assert!(results.get(&items("b"), 7).is_none(), "another query");
        let mut other_case = items("a");
        other_case.case_insensitive = true;
        assert!(results.get(&other_case, 7).is_none());
    }

    #[test]
    fn a_newer_generation_drops_the_older_ones_and_few_queries_are_kept() {
        let results = PagedResults::default();
        results.put(items("a"), 1, vec![]);
        results.put(items("b"), 2, vec![]);
        assert!(results.get(&items("a"), 1).is_none());
        for (i, q) in ["c", "d", "e", "f", "g"].iter().enumerate() {
            results.put(items(q), 2, vec![Key::Number(i as i64)]);
        }
        assert_eq!(results.recent.lock().unwrap().len(), REMEMBERED);
        assert!(
            results.get(&items("c"), 2).is_none(),
            "the oldest went first"
        );
        assert!(results.get(&items("g"), 2).is_some());
    }
}
