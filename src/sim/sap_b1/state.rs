//! The simulator's shared state and its in-process API (used by tests and the demo through
//! [`SapSimHandle`](super::SapSimHandle), which dereferences to it).
use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::approvals::{self, Decision};
use super::company::{Company, Stamp};
use super::documents::Document;
use super::entities::{BusinessPartner, Item};
use super::errors::ServiceLayerError;
use super::faults::{FaultDice, FaultRoll, Faults, InvalidFaults};
use super::pacing::Pacing;
use super::paged_results::PagedResults;
use super::seed::Seed;
use super::session::Sessions;
use super::stats::{SapSimStats, Traffic};
use super::targets::{self, DeliveryRequest, InvoiceBase};
use super::tls::TlsIdentity;
use super::{order_actions, orders};

/// How a simulator starts. `Default` is the contract's login (`SBODEMOGB`/`manager`/`1234`),
/// the SAP default 30-minute session, the bundled seed, no faults, 20 rows per page and plain
/// HTTP.
#[derive(Debug, Clone)]
pub struct SapSimConfig {
    pub company_db: String,
    pub username: String,
    pub password: SecretString,
    /// Idle time after which a session is refused (sliding).
    pub session_timeout: Duration,
    pub seed: Seed,
    pub faults: Faults,
    /// Rows per collection page (b1s.conf `PageSize`); 0 disables paging.
    pub page_size: usize,
    /// Serve HTTPS with this certificate, as a real Service Layer does ([`serve`](super::serve)
    /// and [`spawn`](super::spawn); [`router`](super::router) alone stays plain HTTP).
    pub tls: Option<TlsIdentity>,
}

impl Default for SapSimConfig {
    fn default() -> Self {
        Self {
            company_db: "SBODEMOGB".into(),
            username: "manager".into(),
            password: SecretString::from("1234"),
            session_timeout: Duration::from_secs(30 * 60),
            seed: Seed::default_seed(),
            faults: Faults::default(),
            page_size: 20,
            tls: None,
        }
    }
}

/// Shared by every request; cheap to clone.
#[derive(Clone)]
pub struct SapSimState {
    inner: Arc<Shared>,
}

struct Shared {
    company_db: String,
    username: String,
    password: SecretString,
    page_size: usize,
    tls: Option<TlsIdentity>,
    sessions: Mutex<Sessions>,
    dice: Mutex<FaultDice>,
    traffic: Arc<Traffic>,
    company: Mutex<Company>,
    paged_results: PagedResults,
    pacing: Pacing,
}

/// A poisoned lock only means a handler panicked; the data is still consistent enough for a
/// simulator, and refusing every later request would hide the first failure.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SapSimState {
    pub fn new(config: SapSimConfig) -> Result<Self, InvalidFaults> {
        config.faults.validate()?;
        Ok(Self {
            inner: Arc::new(Shared {
                company_db: config.company_db,
                username: config.username,
                password: config.password,
                page_size: config.page_size,
                tls: config.tls,
                sessions: Mutex::new(Sessions::new(config.session_timeout)),
                dice: Mutex::new(FaultDice::new(config.faults)),
                traffic: Arc::new(Traffic::default()),
                company: Mutex::new(Company::from_seed(config.seed, &Stamp::now())),
                paged_results: PagedResults::default(),
                pacing: Pacing::default(),
            }),
        })
    }

    /// Runs `f` on the company data under its lock (never held across an await). Any such
    /// access counts as a change: it moves the data's generation, which drops remembered
    /// paged results (`paged_results`).
    pub(super) fn with_company<R>(&self, f: impl FnOnce(&mut Company) -> R) -> R {
        let mut company = lock(&self.inner.company);
        company.touch();
        f(&mut company)
    }

    /// Runs `f` on the company data under its lock, for reading only (the generation stays).
    pub(super) fn read_company<R>(&self, f: impl FnOnce(&Company) -> R) -> R {
        f(&lock(&self.inner.company))
    }

    /// The remembered key lists of paged collection reads.
    pub(super) fn paged_results(&self) -> &PagedResults {
        &self.inner.paged_results
    }

    pub(super) fn with_sessions<R>(&self, f: impl FnOnce(&mut Sessions) -> R) -> R {
        f(&mut lock(&self.inner.sessions))
    }

    pub(super) fn roll(&self) -> FaultRoll {
        lock(&self.inner.dice).roll()
    }

    /// When to answer: the injected latency counts the simulator's own work.
    pub(super) fn pacing(&self) -> &Pacing {
        &self.inner.pacing
    }

    pub(super) fn traffic(&self) -> &Arc<Traffic> {
        &self.inner.traffic
    }

    pub(super) fn page_size(&self) -> usize {
        self.inner.page_size
    }

    /// The identity to serve HTTPS with; `None` serves plain HTTP.
    pub(super) fn tls(&self) -> Option<&TlsIdentity> {
        self.inner.tls.as_ref()
    }

    /// `https` when served with a TLS identity, else `http`: how clients reach this simulator.
    pub fn scheme(&self) -> &'static str {
        if self.inner.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// Compares all three login values; the password in constant time.
    pub(super) fn credentials_match(
        &self,
        company_db: &str,
        username: &str,
        password: &str,
    ) -> bool {
        use subtle::ConstantTimeEq;
        let password_ok: bool = password
            .as_bytes()
            .ct_eq(self.inner.password.expose_secret().as_bytes())
            .into();
        company_db == self.inner.company_db && username == self.inner.username && password_ok
    }

    /// Replaces the fault settings and restarts the dice from their seed.
    pub fn set_faults(&self, faults: Faults) -> Result<(), InvalidFaults> {
        faults.validate()?;
        *lock(&self.inner.dice) = FaultDice::new(faults);
        Ok(())
    }

    pub fn faults(&self) -> Faults {
        lock(&self.inner.dice).faults().clone()
    }

    /// Every session dies, as after a Service Layer restart: the next request gets 401/301.
    pub fn expire_all_sessions(&self) {
        self.with_sessions(Sessions::expire_all);
    }

    /// The peak of concurrent requests starts again from what is in flight now, so that a test
    /// can bound one phase of a run (one client process) on its own.
    pub fn reset_concurrency_peak(&self) {
        self.inner.traffic.reset_peak();
    }

    pub fn stats(&self) -> SapSimStats {
        let counts = self.read_company(|c| c.num_at_card_counts());
        let live = self.with_sessions(|s| s.live_count());
        self.inner.traffic.snapshot(live, counts)
    }

    /// Every item, sorted by code (stock and price checks of a whole run).
    pub fn items(&self) -> Vec<Item> {
        self.read_company(|c| c.items.values().cloned().collect())
    }

    /// Sets an item's price in a list with its own prices, as in the B1 client (the control
    /// endpoint `POST /sim/control/prices`); factor lists based on it follow.
    pub fn set_item_price(
        &self,
        item_code: &str,
        price_list: i64,
        price: Decimal,
    ) -> Result<(), ServiceLayerError> {
        self.with_company(|c| c.set_item_price(item_code, price_list, price))
    }

    /// How many orders carry this `NumAtCard` (the exactly-once check of the pipeline).
    pub fn orders_by_num_at_card(&self, num_at_card: &str) -> usize {
        self.read_company(|c| c.orders_with_num_at_card(num_at_card).len())
    }

    /// Ships (part of) an order, as a warehouse would in the B1 client.
    pub fn create_delivery(
        &self,
        request: &DeliveryRequest,
    ) -> Result<Document, ServiceLayerError> {
        let now = Stamp::now();
        self.with_company(|c| targets::create_delivery(c, request, &now))
    }

    /// Invoices the open rest of an order or a whole delivery.
    pub fn create_invoice(&self, base: InvoiceBase) -> Result<Document, ServiceLayerError> {
        let now = Stamp::now();
        self.with_company(|c| targets::create_invoice(c, base, &now))
    }

    /// Sets `InStock` of an item in a warehouse, as a goods receipt or stock count would.
    /// Like a stock movement in B1, it does not change the item's `UpdateDate`: whether real
    /// stock movements touch OITM.UpdateDate was not found, and the pessimistic choice makes a
    /// stock sync that relies on it fail here rather than in production.
    pub fn set_stock(
        &self,
        item_code: &str,
        warehouse_code: &str,
        in_stock: Decimal,
    ) -> Result<(), ServiceLayerError> {
        if in_stock < Decimal::ZERO {
            return Err(ServiceLayerError::bad_request("Stock cannot be negative"));
        }
        self.with_company(|c| {
            if !c.warehouses.contains_key(warehouse_code) {
                return Err(ServiceLayerError::business(format!(
                    "Invalid warehouse code '{warehouse_code}'"
                )));
            }
            let item = c
                .items
                .get_mut(item_code)
                .ok_or_else(ServiceLayerError::not_found)?;
            item.warehouse_mut(warehouse_code).in_stock = in_stock;
            item.recompute_totals();
            Ok(())
        })
    }

    /// An approver's decision on a draft, as made in the B1 client: approving adds the
    /// Sales Order (returned), rejecting leaves the draft open.
    pub fn decide_draft(
        &self,
        draft_entry: i64,
        decision: Decision,
    ) -> Result<Option<Document>, ServiceLayerError> {
        let now = Stamp::now();
        self.with_company(|c| approvals::decide(c, draft_entry, decision, &now))
    }

    /// Keys in a Sales Order as a person would in the B1 client (one line of `quantity` ×
    /// `item_code` for `card_code`, reference `num_at_card`), validated and totalled like any
    /// other; an approval procedure applies to it too (then `None`: a draft was stored).
    pub fn key_in_order(
        &self,
        card_code: &str,
        num_at_card: &str,
        item_code: &str,
        quantity: Decimal,
    ) -> Result<Option<Document>, ServiceLayerError> {
        let body = serde_json::json!({
            "CardCode": card_code,
            "NumAtCard": num_at_card,
            "DocumentLines": [{"ItemCode": item_code, "Quantity": quantity.to_string()}],
        });
        let serde_json::Value::Object(body) = body else {
            unreachable!("an object literal")
        };
        let now = Stamp::now();
        self.with_company(|c| match orders::create_order(c, &body, &now)? {
            orders::Added::Order(o) => Ok(Some(*o)),
            orders::Added::Draft => Ok(None),
        })
    }

    /// Cancels an order as a person would in the B1 client.
    pub fn cancel_order(&self, doc_entry: i64) -> Result<(), ServiceLayerError> {
        let now = Stamp::now();
        self.with_company(|c| order_actions::cancel_order(c, doc_entry, &now))
    }

    /// All drafts, by `DocEntry`.
    pub fn drafts(&self) -> Vec<Document> {
        self.with_company(|c| c.drafts.values().cloned().collect())
    }

    /// Books a Sales Order from a `POST /Orders` body without HTTP: the same validation and
    /// arithmetic, for tests that post thousands of generated orders.
    pub fn post_order(&self, body: &serde_json::Value) -> Result<Document, ServiceLayerError> {
        let object = body.as_object().ok_or_else(|| {
            ServiceLayerError::bad_request("The request body must be a JSON object")
        })?;
        let now = Stamp::now();
        self.with_company(|c| match super::orders::create_order(c, object, &now)? {
            super::orders::Added::Order(o) => Ok(*o),
            // The Service Layer answers a draft with -2028 (see `approvals`).
            super::orders::Added::Draft => Err(ServiceLayerError::not_found()),
        })
    }

    pub fn order(&self, doc_entry: i64) -> Option<Document> {
        self.with_company(|c| c.orders.get(&doc_entry).cloned())
    }

    /// All orders, by `DocEntry`.
    pub fn orders(&self) -> Vec<Document> {
        self.with_company(|c| c.orders.values().cloned().collect())
    }

    pub fn delivery_notes(&self) -> Vec<Document> {
        self.with_company(|c| c.delivery_notes.values().cloned().collect())
    }

    pub fn invoices(&self) -> Vec<Document> {
        self.with_company(|c| c.invoices.values().cloned().collect())
    }

    /// All A/R credit memos, by `DocEntry`.
    pub fn credit_notes(&self) -> Vec<Document> {
        self.with_company(|c| c.credit_notes.values().cloned().collect())
    }

    /// All outgoing payments (`VendorPayments`), by `DocEntry`.
    pub fn vendor_payments(&self) -> Vec<super::vendor_payments::Payment> {
        self.with_company(|c| c.vendor_payments.values().cloned().collect())
    }

    pub fn item(&self, item_code: &str) -> Option<Item> {
        self.with_company(|c| c.items.get(item_code).cloned())
    }

    pub fn business_partner(&self, card_code: &str) -> Option<BusinessPartner> {
        self.with_company(|c| c.business_partners.get(card_code).cloned())
    }
}
