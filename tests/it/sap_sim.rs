//! Contract suite of the SAP B1 Service Layer simulator: raw HTTP (reqwest, no cookie jar)
//! against a spawned simulator, one guarantee of the reference per test. No Postgres needed.
mod documents;
mod faults;
mod money;
mod orders;
mod queries;
mod services;
mod sessions;

use b1bridge::sim::sap_b1::{spawn, SapSimConfig, SapSimHandle};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::Value;

/// A simulator plus a logged-in raw HTTP client.
pub struct Sl {
    pub sim: SapSimHandle,
    pub http: reqwest::Client,
    /// `B1SESSION=…; ROUTEID=.node1`, as a client sends it back.
    pub cookie: String,
}

/// One HTTP answer, read completely.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// `(code, message)` of a v1 error body, checking its exact shape on the way.
    pub fn error(&self) -> (i64, String) {
        let body = self.json();
        let error = &body["error"];
        assert_eq!(error["message"]["lang"], "en-us", "{body}");
        let code = error["code"]
            .as_i64()
            .unwrap_or_else(|| panic!("code is not a number: {body}"));
        (code, error["message"]["value"].as_str().unwrap().to_owned())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub async fn read(response: reqwest::Response) -> Answer {
    Answer {
        status: response.status(),
        headers: response.headers().clone(),
        text: response.text().await.expect("response body"),
    }
}

/// The login body for the simulator's configured credentials.
pub fn credentials() -> Value {
    serde_json::json!({"CompanyDB": "SBODEMOGB", "UserName": "manager", "Password": "1234"})
}

/// Logs in and returns the cookie header a client sends back.
pub async fn login(http: &reqwest::Client, sim: &SapSimHandle) -> String {
    login_at(http, &sim.base_url()).await
}

/// The same against a simulator at `base_url` (`…/b1s/v1`), e.g. one another process runs.
pub async fn login_at(http: &reqwest::Client, base_url: &str) -> String {
    let answer = read(
        http.post(format!("{base_url}/Login"))
            .json(&credentials())
            .send()
            .await
            .expect("login request"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let session = answer.json()["SessionId"].as_str().unwrap().to_owned();
    format!("B1SESSION={session}; ROUTEID=.node1")
}

impl Sl {
    pub async fn start() -> Self {
        Self::start_with(SapSimConfig::default()).await
    }

    pub async fn start_with(config: SapSimConfig) -> Self {
        let sim = spawn(config).await.expect("simulator starts");
        let http = reqwest::Client::new();
        let cookie = login(&http, &sim).await;
        Self { sim, http, cookie }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.sim.base_url())
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        read(
            request
                .header("Cookie", &self.cookie)
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(self.http.get(self.url(path))).await
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = self.http.get(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.send(self.http.post(self.url(path)).json(body)).await
    }

    pub async fn post_empty(&self, path: &str) -> Answer {
        self.send(self.http.post(self.url(path))).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Answer {
        self.send(self.http.patch(self.url(path)).json(body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.send(self.http.delete(self.url(path))).await
    }

    /// `POST /sim/control/<path>` (no session needed).
    pub async fn control(&self, path: &str, body: &Value) -> Answer {
        let url = format!("{}/sim/control/{path}", self.sim.root_url());
        read(
            self.http
                .post(url)
                .json(body)
                .send()
                .await
                .expect("control request"),
        )
        .await
    }

    /// Creates an order and returns its entity, failing the test if SAP refused it.
    pub async fn create_order(&self, body: &Value) -> Value {
        let answer = self.post("Orders", body).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
        answer.json()
    }

    /// `InStock` and `Committed` of an item in a warehouse, read over HTTP.
    pub async fn stock(&self, item: &str, warehouse: &str) -> (Value, Value) {
        let item = self
            .get(&format!(
                "Items('{item}')?$select=ItemWarehouseInfoCollection"
            ))
            .await
            .json();
        let row = item["ItemWarehouseInfoCollection"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["WarehouseCode"] == warehouse)
            .cloned()
            .expect("warehouse row");
        (row["InStock"].clone(), row["Committed"].clone())
    }
}

/// A one-line order for a customer, item and quantity.
pub fn order(card_code: &str, num_at_card: &str, item: &str, quantity: u32) -> Value {
    serde_json::json!({
        "CardCode": card_code,
        "NumAtCard": num_at_card,
        "DocumentLines": [{"ItemCode": item, "Quantity": quantity, "UnitPrice": 10, "TaxCode": "EX"}]
    })
}

/// JSON numbers compare by value (`5` equals `5.00`).
pub fn num(v: &Value) -> rust_decimal::Decimal {
    v.to_string()
        .trim_matches('"')
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {v}"))
}
