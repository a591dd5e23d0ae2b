//! [`MasterDataCheck`] over the SAP B1 Service Layer client: the admin's codes are looked up
//! in SAP before a mapping or the settings are stored. Items and Business Partners are read by
//! key; warehouses, tax codes and freight codes are short lists, read whole and kept for a
//! minute so that an admin editing many mappings costs SAP one read per list, not one per edit.
//! Every look-up shares the workers' client (one session, one limiter) and is bounded by a
//! timeout: an admin's request never waits on a slow SAP for the client's full request timeout.
use futures::future::BoxFuture;
use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

use super::master_data::{CheckUnavailable, MasterDataCheck};
use crate::domain::ids::{CardCode, ItemCode};
use crate::domain::master_data::MasterDataKind;
use crate::sap::{SapClient, SapError};

/// Checks codes against SAP B1 through the shared [`SapClient`].
pub struct SapMasterData {
    sap: SapClient,
    timeout: Duration,
    list_ttl: Duration,
    warehouses: CodeList,
    tax_codes: CodeList,
    freight: CodeList,
}

impl SapMasterData {
    /// How long one check may take, waiting for a limiter slot included (the workers share
    /// it). Past this SAP counts as unavailable and the change is stored unchecked.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
    /// How long a read list of warehouses, tax codes or freight codes is trusted.
    pub const DEFAULT_LIST_TTL: Duration = Duration::from_secs(60);

    pub fn new(sap: SapClient) -> Self {
        Self::with_timings(sap, Self::DEFAULT_TIMEOUT, Self::DEFAULT_LIST_TTL)
    }

    /// With other timings (tests use a short timeout against a slowed-down simulator).
    pub fn with_timings(sap: SapClient, timeout: Duration, list_ttl: Duration) -> Self {
        Self {
            sap,
            timeout,
            list_ttl,
            warehouses: CodeList::default(),
            tax_codes: CodeList::default(),
            freight: CodeList::default(),
        }
    }

    async fn look_up(&self, kind: MasterDataKind, code: &str) -> Result<bool, CheckUnavailable> {
        let ttl = self.list_ttl;
        let found = match kind {
            // A code the domain refuses cannot exist in SAP either.
            MasterDataKind::Item => match ItemCode::parse(code) {
                Ok(c) => self.sap.get_item(&c).await.map(|i| i.is_some()),
                Err(_) => Ok(false),
            },
            MasterDataKind::BusinessPartner => match CardCode::parse(code) {
                Ok(c) => self.sap.get_business_partner(&c).await.map(|p| p.is_some()),
                Err(_) => Ok(false),
            },
            MasterDataKind::Warehouse => {
                self.warehouses
                    .contains(code, ttl, || async {
                        let list = self.sap.list_warehouses().await?;
                        Ok(list.into_iter().map(|w| w.warehouse_code).collect())
                    })
                    .await
            }
            MasterDataKind::TaxCode => {
                self.tax_codes
                    .contains(code, ttl, || async {
                        // Either localization: sales tax codes (US/Canada) or VAT groups.
                        // A Service Layer without one of the two lists answers a refusal,
                        // which counts as an empty list.
                        let sales = self.sap.list_tax_codes().await.or_else(empty_if_refused)?;
                        let vat = self.sap.list_vat_groups().await.or_else(empty_if_refused)?;
                        Ok(sales
                            .into_iter()
                            .map(|t| t.code)
                            .chain(vat.into_iter().map(|g| g.code))
                            .collect())
                    })
                    .await
            }
            MasterDataKind::Freight => {
                self.freight
                    .contains(code, ttl, || async {
                        let list = self.sap.list_expense_codes().await?;
                        Ok(list
                            .into_iter()
                            .map(|e| e.expens_code.to_string())
                            .collect())
                    })
                    .await
            }
            // The reference does not document `WizardPaymentMethods` and the simulator does not
            // serve it, so there is nothing reliable to ask: the code is stored as given and
            // SAP's refusal of a document names it later.
            MasterDataKind::PaymentMethod => {
                return Err(CheckUnavailable(
                    "payment methods (WizardPaymentMethods) are not checked against SAP B1".into(),
                ))
            }
        };
        // Not found is `Ok(None)` above; any other failure means SAP could not tell us.
        found.map_err(|e| CheckUnavailable(e.to_string()))
    }
}

impl MasterDataCheck for SapMasterData {
    fn exists<'a>(
        &'a self,
        kind: MasterDataKind,
        code: &'a str,
    ) -> BoxFuture<'a, Result<bool, CheckUnavailable>> {
        Box::pin(async move {
            tokio::time::timeout(self.timeout, self.look_up(kind, code))
                .await
                .unwrap_or_else(|_| {
                    Err(CheckUnavailable(format!(
                        "SAP B1 did not answer within {} s",
                        self.timeout.as_secs_f32()
                    )))
                })
        })
    }
}

/// A list SAP refuses to serve (this company's Service Layer lacks it) is an empty list.
fn empty_if_refused<T>(e: SapError) -> Result<Vec<T>, SapError> {
    match e {
        SapError::Permanent { .. } => Ok(Vec::new()),
        other => Err(other),
    }
}

/// One list of codes as last read from SAP. The lock is held while the list is read, so
/// concurrent checks wait for one read instead of each sending their own.
#[derive(Default)]
struct CodeList {
    read: Mutex<Option<(Instant, Arc<HashSet<String>>)>>,
}

impl CodeList {
    /// Whether `code` is in the list (compared exactly: mappings must spell codes as SAP
    /// does, because the worker compares them with SAP's answers). A list younger than `ttl`
    /// answers a known code without SAP; a code missing from it is looked for in a fresh
    /// read, so a code created in SAP a moment ago is never refused because of the cache.
    async fn contains<F, Fut>(&self, code: &str, ttl: Duration, read: F) -> Result<bool, SapError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<HashSet<String>, SapError>>,
    {
        let mut slot = self.read.lock().await;
        if let Some((at, codes)) = slot.as_ref() {
            if at.elapsed() < ttl && codes.contains(code) {
                return Ok(true);
            }
        }
        let codes = Arc::new(read().await?);
        let found = codes.contains(code);
        *slot = Some((Instant::now(), codes));
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn codes(list: &[&str]) -> HashSet<String> {
        list.iter().map(|c| c.to_string()).collect()
    }

    #[tokio::test]
    async fn a_fresh_list_answers_known_codes_and_rereads_for_unknown_ones() {
        let list = CodeList::default();
        let reads = AtomicUsize::new(0);
        let read = |result: Result<HashSet<String>, SapError>| {
            reads.fetch_add(1, Ordering::SeqCst);
            async move { result }
        };
        let ttl = Duration::from_secs(60);
        assert!(list
            .contains("01", ttl, || read(Ok(codes(&["01", "02"]))))
            .await
            .unwrap());
        assert!(list
            .contains("02", ttl, || read(Ok(codes(&[]))))
            .await
            .unwrap());
        assert_eq!(
            reads.load(Ordering::SeqCst),
            1,
            "a known code costs no read"
        );
        // "04" was created in SAP after the list was read: it is looked for afresh.
        assert!(list
            .contains("04", ttl, || read(Ok(codes(&["01", "02", "04"]))))
            .await
            .unwrap());
        assert!(!list
            .contains("99", ttl, || read(Ok(codes(&["01", "02", "04"]))))
            .await
            .unwrap());
        assert!(!list
            .contains("01 ", ttl, || read(Ok(codes(&["01"]))))
            .await
            .unwrap());
        assert_eq!(reads.load(Ordering::SeqCst), 4);
        let down = SapError::Transient {
            status: None,
            reason: "connection refused".into(),
        };
        assert!(list.contains("98", ttl, || read(Err(down))).await.is_err());
        // A failed read keeps the last list.
        assert!(list
            .contains("01", ttl, || read(Ok(codes(&[]))))
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn an_expired_list_is_read_again_even_for_a_known_code() {
        let list = CodeList::default();
        let ttl = Duration::ZERO;
        assert!(list
            .contains("01", ttl, || async { Ok(codes(&["01"])) })
            .await
            .unwrap());
        assert!(!list
            .contains("01", ttl, || async { Ok(codes(&["02"])) })
            .await
            .unwrap());
    }
}
