//! The simulated company database: master data, documents and numbering. Plain data behind
//! the simulator's mutex; every method is synchronous so the lock is never held across an await.
use chrono::{NaiveDate, Utc};
use std::collections::{BTreeMap, HashMap};

use super::approvals::ApprovalProcedure;
use super::datetime::format_time;
use super::documents::{DocKind, Document};
use super::entities::{
    AdditionalExpense, BusinessPartner, Item, PriceList, SalesTaxCode, SpecialPrice, VatGroup,
    Warehouse,
};
use super::seed::{ExchangeRate, Localization, Numbering, PostingPeriod, Seed, Series};

/// The moment a change happens, as B1 stamps `UpdateDate`/`UpdateTime`. The simulator uses
/// UTC; a real server stamps its own local time.
#[derive(Debug, Clone)]
pub struct Stamp {
    pub date: NaiveDate,
    pub time: String,
}

impl Stamp {
    pub fn now() -> Self {
        let now = Utc::now().naive_utc();
        Self {
            date: now.date(),
            time: format_time(now.time()),
        }
    }
}

pub struct Company {
    pub local_currency: String,
    pub localization: Localization,
    pub vat_groups: BTreeMap<String, VatGroup>,
    pub exchange_rates: Vec<ExchangeRate>,
    pub posting_periods: Vec<PostingPeriod>,
    pub default_warehouse: String,
    pub items: BTreeMap<String, Item>,
    pub price_lists: BTreeMap<i64, PriceList>,
    pub special_prices: Vec<SpecialPrice>,
    pub warehouses: BTreeMap<String, Warehouse>,
    pub business_partners: BTreeMap<String, BusinessPartner>,
    pub tax_codes: BTreeMap<String, SalesTaxCode>,
    pub expense_codes: BTreeMap<i64, AdditionalExpense>,
    pub orders: BTreeMap<i64, Document>,
    pub delivery_notes: BTreeMap<i64, Document>,
    pub invoices: BTreeMap<i64, Document>,
    pub credit_notes: BTreeMap<i64, Document>,
    /// Documents stored as drafts by an approval procedure (`Drafts`, ODRF).
    pub drafts: BTreeMap<i64, Document>,
    /// Outgoing payments (`VendorPayments`, OVPM), numbered from 1.
    pub vendor_payments: BTreeMap<i64, super::vendor_payments::Payment>,
    pub approval_procedures: Vec<ApprovalProcedure>,
    numbering: Numbering,
    /// `NumAtCard` → order `DocEntry`s: the pipeline's exactly-once look-up must stay cheap
    /// when a benchmark has created thousands of orders.
    orders_by_num_at_card: HashMap<String, Vec<i64>>,
    /// Counts the times the data was handed out for change (see `SapSimState::with_company`):
    /// a paged read's remembered result is valid only while this has not moved.
    generation: u64,
}

impl Company {
    pub fn from_seed(seed: Seed, now: &Stamp) -> Self {
        let price_lists = super::price_lists::index(seed.price_lists);
        let items = seed
            .items
            .into_iter()
            .map(|mut item| {
                item.update_date.get_or_insert(now.date);
                item.update_time.get_or_insert_with(|| now.time.clone());
                item.recompute_totals();
                super::price_lists::settle_item(&mut item, &price_lists);
                (item.item_code.clone(), item)
            })
            .collect();
        let business_partners = seed
            .business_partners
            .into_iter()
            .map(|mut bp| {
                bp.update_date.get_or_insert(now.date);
                bp.update_time.get_or_insert_with(|| now.time.clone());
                (bp.card_code.clone(), bp)
            })
            .collect();
        Self {
            local_currency: seed.local_currency,
            localization: seed.localization,
            vat_groups: by_key(seed.vat_groups, |g| g.code.clone()),
            exchange_rates: seed.exchange_rates,
            posting_periods: seed.posting_periods,
            default_warehouse: seed.default_warehouse,
            items,
            price_lists,
            special_prices: seed.special_prices,
            warehouses: by_key(seed.warehouses, |w| w.warehouse_code.clone()),
            business_partners,
            tax_codes: by_key(seed.tax_codes, |t| t.code.clone()),
            expense_codes: by_key(seed.expense_codes, |e| e.expens_code),
            orders: BTreeMap::new(),
            delivery_notes: BTreeMap::new(),
            invoices: BTreeMap::new(),
            credit_notes: BTreeMap::new(),
            drafts: BTreeMap::new(),
            vendor_payments: BTreeMap::new(),
            approval_procedures: seed.approval_procedures,
            numbering: seed.numbering,
            orders_by_num_at_card: HashMap::new(),
            generation: 0,
        }
    }

    /// The numbering series, as `SeriesService_GetDocumentSeries` answers them.
    pub fn numbering(&self) -> &Numbering {
        &self.numbering
    }

    /// Which version of the data this is: it moves on every access that may change it.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Marks the data as possibly changed (called before every mutable access).
    pub(super) fn touch(&mut self) {
        self.generation += 1;
    }

    /// Takes the next `DocEntry` and `DocNum` of a document type.
    pub fn next_numbers(&mut self, kind: DocKind) -> (i64, i64) {
        let series: &mut Series = match kind {
            DocKind::Order => &mut self.numbering.orders,
            DocKind::DeliveryNote => &mut self.numbering.delivery_notes,
            DocKind::Invoice => &mut self.numbering.invoices,
            DocKind::CreditNote => &mut self.numbering.credit_notes,
            DocKind::Draft => &mut self.numbering.drafts,
        };
        let numbers = (series.next_doc_entry, series.next_doc_num);
        series.next_doc_entry += 1;
        series.next_doc_num += 1;
        numbers
    }

    pub fn documents(&self, kind: DocKind) -> &BTreeMap<i64, Document> {
        match kind {
            DocKind::Order => &self.orders,
            DocKind::DeliveryNote => &self.delivery_notes,
            DocKind::Invoice => &self.invoices,
            DocKind::CreditNote => &self.credit_notes,
            DocKind::Draft => &self.drafts,
        }
    }

    /// Stores a new or changed order and keeps the `NumAtCard` index in step.
    pub fn put_order(&mut self, order: Document) {
        if let Some(old) = self.orders.get(&order.doc_entry) {
            if let Some(n) = old.num_at_card.clone() {
                if let Some(entries) = self.orders_by_num_at_card.get_mut(&n) {
                    entries.retain(|e| *e != order.doc_entry);
                }
            }
        }
        if let Some(n) = &order.num_at_card {
            self.orders_by_num_at_card
                .entry(n.clone())
                .or_default()
                .push(order.doc_entry);
        }
        self.orders.insert(order.doc_entry, order);
    }

    /// The orders whose `NumAtCard` is exactly `num_at_card`.
    pub fn orders_with_num_at_card(&self, num_at_card: &str) -> Vec<&Document> {
        self.orders_by_num_at_card
            .get(num_at_card)
            .into_iter()
            .flatten()
            .filter_map(|e| self.orders.get(e))
            .collect()
    }

    /// How many orders carry each `NumAtCard` (duplicates show up as counts above 1).
    pub fn num_at_card_counts(&self) -> BTreeMap<String, usize> {
        self.orders_by_num_at_card
            .iter()
            .filter(|(_, entries)| !entries.is_empty())
            .map(|(n, entries)| (n.clone(), entries.len()))
            .collect()
    }
}

fn by_key<K: Ord, V>(values: Vec<V>, key: impl Fn(&V) -> K) -> BTreeMap<K, V> {
    values.into_iter().map(|v| (key(&v), v)).collect()
}
