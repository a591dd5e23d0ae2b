//! Stock endpoints: MSI source items and sources, the salable quantity, and the legacy
//! (single-source) stock item.
use reqwest::Method;
use rust_decimal::Decimal;

use super::client::{decode, decode_id, segment, MagentoClient};
use super::error::MagentoError;
use super::message::MagentoMessage;
use super::search::{Condition, Filter, SearchCriteria};
use super::transport::Replay;
use super::types::{Source, SourceItem, StockItem, StockItemUpdate};

/// What happened to one row of [`MagentoClient::save_source_items_isolating`].
#[derive(Debug, Clone, PartialEq)]
pub enum RowOutcome {
    /// Saved in Magento.
    Saved,
    /// Magento refused this row (unknown SKU, bad source…); the others were not held back.
    Refused(MagentoError),
    /// Not saved because Magento was unavailable (or refused the token): try again later.
    NotSaved(MagentoError),
}

impl MagentoClient {
    /// `POST /V1/inventory/source-items`: sets the quantity and status of each (SKU, source).
    /// Magento validates the whole batch first and saves none of it when a row is refused.
    pub async fn save_source_items(&self, items: &[SourceItem]) -> Result<(), MagentoError> {
        const EP: &str = "POST V1/inventory/source-items";
        self.write(
            Method::POST,
            EP,
            "V1/inventory/source-items".into(),
            &serde_json::json!({ "sourceItems": items }),
            Replay::Safe,
        )
        .await?;
        Ok(())
    }

    /// `GET /V1/inventory/source-items` with any criteria (one page).
    pub async fn search_source_items(
        &self,
        criteria: &SearchCriteria,
    ) -> Result<super::search::SearchResult<SourceItem>, MagentoError> {
        self.search(
            "GET V1/inventory/source-items",
            "V1/inventory/source-items",
            criteria,
        )
        .await
    }

    /// The source items of the given SKUs (all sources), every page. SKUs are asked for with
    /// `in` lists kept short enough for any web server's URL limit; a SKU containing a comma
    /// (which `in` would split) is asked for on its own with `eq`.
    pub async fn source_items_for_skus(
        &self,
        skus: &[String],
        page_size: u32,
    ) -> Result<Vec<SourceItem>, MagentoError> {
        const MAX_LIST_CHARS: usize = 2000;
        let (odd, plain): (Vec<&String>, Vec<&String>) = skus.iter().partition(|s| s.contains(','));
        let mut lists: Vec<Filter> = Vec::new();
        let mut current = String::new();
        for sku in plain {
            if !current.is_empty() && current.len() + sku.len() + 1 > MAX_LIST_CHARS {
                lists.push(Filter::new(
                    "sku",
                    Condition::In,
                    std::mem::take(&mut current),
                ));
            }
            if !current.is_empty() {
                current.push(',');
            }
            current.push_str(sku);
        }
        if !current.is_empty() {
            lists.push(Filter::new("sku", Condition::In, current));
        }
        lists.extend(
            odd.into_iter()
                .map(|s| Filter::new("sku", Condition::Eq, s.clone())),
        );
        let mut all = Vec::new();
        for filter in lists {
            let criteria = SearchCriteria::new().and(filter);
            all.extend(
                self.search_all::<SourceItem>(
                    "GET V1/inventory/source-items",
                    "V1/inventory/source-items",
                    &criteria,
                    page_size,
                )
                .await?,
            );
        }
        Ok(all)
    }

    /// `GET /V1/inventory/sources`: every source.
    pub async fn sources(&self) -> Result<Vec<Source>, MagentoError> {
        let result: super::search::SearchResult<Source> = self
            .search(
                "GET V1/inventory/sources",
                "V1/inventory/sources",
                &SearchCriteria::new(),
            )
            .await?;
        Ok(result.items)
    }

    /// `GET /V1/inventory/get-product-salable-quantity/{sku}/{stockId}`: what the shop can
    /// still sell (source quantities minus reservations of unshipped orders).
    pub async fn salable_quantity(
        &self,
        sku: &str,
        stock_id: i64,
    ) -> Result<Decimal, MagentoError> {
        const EP: &str = "GET V1/inventory/get-product-salable-quantity/{sku}/{stockId}";
        let body: serde_json::Value = self
            .get(
                EP,
                format!(
                    "V1/inventory/get-product-salable-quantity/{}/{stock_id}",
                    segment(sku)
                ),
                Vec::new(),
            )
            .await?;
        super::lenient::decimal_from_value(&body).map_err(|reason| MagentoError::Decode {
            endpoint: EP.into(),
            reason,
        })
    }

    /// `GET /V1/stockItems/{sku}`: the legacy stock item (its `item_id` is needed to update it).
    pub async fn stock_item(&self, sku: &str) -> Result<StockItem, MagentoError> {
        const EP: &str = "GET V1/stockItems/{sku}";
        let body: serde_json::Value = self
            .get(EP, format!("V1/stockItems/{}", segment(sku)), Vec::new())
            .await?;
        decode(EP, body.to_string().as_bytes())
    }

    /// `PUT /V1/products/{sku}/stockItems/{itemId}`; answers the stock item's id.
    pub async fn update_stock_item(
        &self,
        sku: &str,
        item_id: i64,
        update: &StockItemUpdate,
    ) -> Result<i64, MagentoError> {
        const EP: &str = "PUT V1/products/{sku}/stockItems/{itemId}";
        let body = self
            .write(
                Method::PUT,
                EP,
                format!("V1/products/{}/stockItems/{item_id}", segment(sku)),
                &serde_json::json!({ "stockItem": update }),
                Replay::Safe,
            )
            .await?;
        decode_id(EP, &body)
    }

    /// Saves `items` in one request and, when Magento refuses the batch because of some rows
    /// (it validates the whole batch and saves none of it), saves the rest without them: the
    /// rows its `errors[]` name by SKU are set aside first, otherwise the batch is halved until
    /// the refused rows are alone. One answer per input row, in order. When Magento becomes
    /// unavailable midway, every row not yet saved is [`RowOutcome::NotSaved`].
    pub async fn save_source_items_isolating(&self, items: &[SourceItem]) -> Vec<RowOutcome> {
        let mut outcome: Vec<Option<RowOutcome>> = vec![None; items.len()];
        let mut queue: Vec<Vec<usize>> = vec![(0..items.len()).collect()];
        while let Some(group) = queue.pop() {
            if group.is_empty() {
                continue;
            }
            let rows: Vec<SourceItem> = group.iter().map(|&i| items[i].clone()).collect();
            match self.save_source_items(&rows).await {
                Ok(()) => group
                    .iter()
                    .for_each(|&i| outcome[i] = Some(RowOutcome::Saved)),
                Err(e @ MagentoError::Rejected { .. }) if group.len() == 1 => {
                    outcome[group[0]] = Some(RowOutcome::Refused(e));
                }
                Err(MagentoError::Rejected {
                    endpoint,
                    status,
                    detail,
                    ..
                }) => {
                    let (named, rest): (Vec<usize>, Vec<usize>) = group
                        .iter()
                        .partition(|&&i| detail.errors.iter().any(|e| names_sku(e, &items[i].sku)));
                    if named.is_empty() || rest.is_empty() {
                        let (a, b) = group.split_at(group.len() / 2);
                        queue.push(b.to_vec());
                        queue.push(a.to_vec());
                        continue;
                    }
                    for i in named {
                        let own: Vec<&MagentoMessage> = detail
                            .errors
                            .iter()
                            .filter(|e| names_sku(e, &items[i].sku))
                            .collect();
                        let message = own
                            .iter()
                            .map(|e| e.render())
                            .collect::<Vec<_>>()
                            .join("; ");
                        outcome[i] = Some(RowOutcome::Refused(MagentoError::Rejected {
                            endpoint: endpoint.clone(),
                            status,
                            message,
                            detail: Box::new(MagentoMessage {
                                errors: own.into_iter().cloned().collect(),
                                ..(*detail).clone()
                            }),
                        }));
                    }
                    queue.push(rest);
                }
                Err(e) => {
                    for i in group.into_iter().chain(queue.drain(..).flatten()) {
                        outcome[i] = Some(RowOutcome::NotSaved(e.clone()));
                    }
                }
            }
        }
        outcome
            .into_iter()
            .map(|o| o.expect("every row is decided"))
            .collect()
    }
}

/// Whether a validation message names `sku` (Magento compares SKUs case-insensitively).
fn names_sku(message: &MagentoMessage, sku: &str) -> bool {
    let is = |v: &serde_json::Value| v.as_str().is_some_and(|s| s.eq_ignore_ascii_case(sku));
    match &message.parameters {
        serde_json::Value::Object(map) => map.get("sku").is_some_and(is),
        serde_json::Value::Array(list) => list.iter().any(is),
        _ => false,
    }
}
