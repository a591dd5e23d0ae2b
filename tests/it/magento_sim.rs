//! Contract suite of the Magento REST simulator: raw HTTP against a spawned simulator, one
//! behaviour of the real API per test. No Postgres needed.
mod prices;
mod sales;
mod stock;

use b1bridge::sim::magento::{spawn, MagentoSimConfig, MagentoSimHandle};
use reqwest::StatusCode;
use serde_json::{json, Value};

pub const TOKEN: &str = "sim-integration-token";

/// A simulator plus a raw HTTP client that sends the right token.
pub struct Shop {
    pub sim: MagentoSimHandle,
    pub http: reqwest::Client,
}

#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub json: Value,
}

impl Shop {
    pub async fn start() -> Self {
        Self::with(MagentoSimConfig::new(TOKEN)).await
    }

    pub async fn with(config: MagentoSimConfig) -> Self {
        Self {
            sim: spawn(config).await.expect("simulator starts"),
            http: reqwest::Client::new(),
        }
    }

    async fn read(r: reqwest::Response) -> Answer {
        let status = r.status();
        let text = r.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer { status, json }
    }

    /// `GET {base}/V1/{path}` with the token.
    pub async fn get(&self, path: &str) -> Answer {
        let r = self
            .http
            .get(format!("{}/V1/{path}", self.sim.base_url()))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        Self::read(r).await
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> Answer {
        let r = self
            .http
            .request(method, format!("{}/V1/{path}", self.sim.base_url()))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        Self::read(r).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(reqwest::Method::POST, path, body).await
    }

    /// `POST /sim/control/{path}` (no token).
    pub async fn control(&self, path: &str, body: Value) -> Answer {
        let r = self
            .http
            .post(format!("{}/sim/control/{path}", self.sim.root_url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        Self::read(r).await
    }

    /// Places an order of `(sku, qty)` lines through the control endpoint; its entity id.
    pub async fn place(&self, lines: &[(&str, u32)]) -> i64 {
        let items: Vec<Value> = lines
            .iter()
            .map(|(sku, qty)| json!({"sku": sku, "qty_ordered": qty, "price": 10}))
            .collect();
        let a = self
            .control(
                "orders",
                json!({"items": items, "grand_total": 10 * lines.len()}),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.json);
        a.json["entity_id"].as_i64().unwrap()
    }

    pub async fn salable(&self, sku: &str) -> Value {
        let a = self
            .get(&format!("inventory/get-product-salable-quantity/{sku}/1"))
            .await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
        a.json
    }

    pub async fn set_source(&self, sku: &str, source: &str, qty: i64) {
        let a = self
            .post(
                "inventory/source-items",
                json!({"sourceItems": [{"sku": sku, "source_code": source, "quantity": qty, "status": 1}]}),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
    }
}
