//! [`MagentoClient`]: the typed Magento REST endpoints b1bridge uses, over one
//! [`Transport`](super::transport::Transport) (token, limiter, retries).
use bytes::Bytes;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::MagentoError;
use super::lenient;
use super::search::{SearchCriteria, SearchResult};
use super::transport::{MagentoRequest, Replay, Transport};
use crate::config::MagentoSettings;

/// Path segments keep only unreserved characters: SKUs may hold `/`, spaces or `#`.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

pub(crate) fn segment(raw: &str) -> String {
    utf8_percent_encode(raw, SEGMENT).to_string()
}

/// The Magento REST client. Cheap to share behind an `Arc`; every request passes one
/// limiter of `max_concurrency` permits.
#[derive(Debug)]
pub struct MagentoClient {
    transport: Transport,
}

impl MagentoClient {
    pub fn new(settings: &MagentoSettings) -> Result<Self, MagentoError> {
        Ok(Self {
            transport: Transport::new(settings)?,
        })
    }

    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        path: String,
        query: Vec<(String, String)>,
    ) -> Result<T, MagentoError> {
        let body = self
            .transport
            .send(&MagentoRequest {
                method: Method::GET,
                path,
                query,
                body: None,
                replay: Replay::Safe,
                endpoint,
            })
            .await?;
        decode(endpoint, &body)
    }

    pub(crate) async fn write(
        &self,
        method: Method,
        endpoint: &'static str,
        path: String,
        body: &impl Serialize,
        replay: Replay,
    ) -> Result<Bytes, MagentoError> {
        let body = serde_json::to_vec(body).map_err(|e| MagentoError::Decode {
            endpoint: endpoint.to_owned(),
            reason: format!("request not serialisable: {e}"),
        })?;
        self.transport
            .send(&MagentoRequest {
                method,
                path,
                query: Vec::new(),
                body: Some(Bytes::from(body)),
                replay,
                endpoint,
            })
            .await
    }

    /// One page of a search.
    pub(crate) async fn search<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        path: &str,
        criteria: &SearchCriteria,
    ) -> Result<SearchResult<T>, MagentoError> {
        self.get(endpoint, path.to_owned(), criteria.to_query())
            .await
    }

    /// Every page of a search, `page_size` rows at a time (the criteria's own paging is
    /// replaced). Stops on `total_count`: past the last page Magento answers the last page
    /// again instead of an empty one, so "until empty" would never end.
    pub(crate) async fn search_all<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        path: &str,
        criteria: &SearchCriteria,
        page_size: u32,
    ) -> Result<Vec<T>, MagentoError> {
        let page_size = page_size.max(1);
        let mut all = Vec::new();
        let mut page = 1u32;
        loop {
            let criteria = criteria.clone().page_size(page_size).page(page);
            let result: SearchResult<T> = self.search(endpoint, path, &criteria).await?;
            let got = result.items.len() as u64;
            all.extend(result.items);
            let seen = u64::from(page) * u64::from(page_size);
            if got == 0 || got < u64::from(page_size) || seen >= result.total_count {
                break;
            }
            page += 1;
        }
        Ok(all)
    }
}

pub(crate) fn decode<T: DeserializeOwned>(endpoint: &str, body: &[u8]) -> Result<T, MagentoError> {
    serde_json::from_slice(body).map_err(|e| MagentoError::Decode {
        endpoint: endpoint.to_owned(),
        reason: e.to_string(),
    })
}

pub(crate) fn decode_id(endpoint: &str, body: &[u8]) -> Result<i64, MagentoError> {
    lenient::scalar_id(body).map_err(|reason| MagentoError::Decode {
        endpoint: endpoint.to_owned(),
        reason,
    })
}

pub(crate) fn decode_bool(endpoint: &str, body: &[u8]) -> Result<bool, MagentoError> {
    lenient::scalar_bool(body).map_err(|reason| MagentoError::Decode {
        endpoint: endpoint.to_owned(),
        reason,
    })
}
