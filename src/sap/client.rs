//! `SapClient`: the shared, cheaply cloned handle every worker uses. It owns the one session,
//! re-logs in transparently when SAP rejects it, and decodes answers into typed values.
use bytes::Bytes;
use http::header::SET_COOKIE;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashSet;
use std::marker::PhantomData;
use std::sync::Arc;
use url::Url;

use super::error::{Effect, SapError};
use super::odata::{self, CollectionBody, NextPage, Page, ReadOptions};
use super::session::{Session, SessionCookies, Sessions};
use super::transport::{SapRequest, SapResponse, Transport};
use crate::config::SapSettings;

/// The Service Layer client. Clone it freely: all clones share one session, one connection
/// pool and one concurrency limit, as SAP recommends (one login per company, reused).
#[derive(Clone)]
pub struct SapClient {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    sessions: Sessions,
    company_db: String,
    username: String,
    password: SecretString,
    page_size: u32,
}

impl std::fmt::Debug for SapClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SapClient")
            .field("root", &self.inner.transport.root().as_str())
            .field("company_db", &self.inner.company_db)
            .finish_non_exhaustive()
    }
}

impl SapClient {
    /// Builds the client without contacting SAP; the first request logs in.
    pub fn new(settings: &SapSettings) -> Result<Self, SapError> {
        Ok(Self {
            inner: Arc::new(Inner {
                transport: Transport::new(settings)?,
                sessions: Sessions::default(),
                company_db: settings.company_db.clone(),
                username: settings.username.clone(),
                password: settings.password.clone(),
                page_size: settings.page_size,
            }),
        })
    }

    /// Logs in now if there is no session yet, so that wrong credentials show at start-up.
    pub async fn ensure_session(&self) -> Result<(), SapError> {
        self.session().await.map(|_| ())
    }

    /// Ends the session (`POST /Logout`) at shutdown so that it does not hold a licence slot
    /// until it times out. Without a session this does nothing.
    pub async fn logout(&self) -> Result<(), SapError> {
        let Some(session) = self.inner.sessions.take().await else {
            return Ok(());
        };
        let req = SapRequest::post(self.url("Logout"), None, Effect::Read);
        match self
            .inner
            .transport
            .send(&req, Some(&session.cookies))
            .await
        {
            // An expired session is as logged out as it gets.
            Ok(_) | Err(SapError::SessionExpired { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub(crate) fn url(&self, relative: &str) -> Url {
        self.inner.transport.url(relative)
    }

    pub(crate) fn root(&self) -> &Url {
        self.inner.transport.root()
    }

    async fn session(&self) -> Result<Session, SapError> {
        self.inner.sessions.current(|| self.login()).await
    }

    async fn login(&self) -> Result<SessionCookies, SapError> {
        let body = serde_json::json!({
            "CompanyDB": self.inner.company_db,
            "UserName": self.inner.username,
            "Password": self.inner.password.expose_secret(),
        });
        let req = SapRequest::post(
            self.url("Login"),
            Some(Bytes::from(body.to_string())),
            // Logging in twice changes nothing in SAP, so a lost answer is merely transient.
            Effect::Read,
        );
        let resp = self
            .inner
            .transport
            .send(&req, None)
            .await
            .map_err(login_error)?;
        let set_cookies = resp
            .headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok());
        let session_id = serde_json::from_slice::<serde_json::Value>(&resp.body)
            .ok()
            .and_then(|v| v.get("SessionId")?.as_str().map(str::to_owned));
        let cookies = SessionCookies::from_login(set_cookies, session_id.as_deref());
        tracing::info!(
            company_db = %self.inner.company_db,
            ok = cookies.is_some(),
            "logged in to SAP Service Layer"
        );
        cookies.ok_or_else(|| SapError::Permanent {
            status: resp.status,
            code: None,
            message: "login answered without a B1SESSION cookie or SessionId; a proxy may \
                      strip cookies"
                .into(),
        })
    }

    /// Sends a request with the shared session. When SAP rejects the session, logs in again
    /// (once, however many callers saw the rejection) and repeats the request once; a rejected
    /// request was not applied, so repeating a create is safe.
    pub(crate) async fn execute(&self, req: SapRequest) -> Result<SapResponse, SapError> {
        let session = self.session().await?;
        match self
            .inner
            .transport
            .send(&req, Some(&session.cookies))
            .await
        {
            Err(SapError::SessionExpired { .. }) => {
                let fresh = self.inner.sessions.renew(&session, || self.login()).await?;
                self.inner.transport.send(&req, Some(&fresh.cookies)).await
            }
            other => other,
        }
    }

    /// GET and decode one JSON entity.
    pub(crate) async fn get_json<T: DeserializeOwned>(&self, url: Url) -> Result<T, SapError> {
        let resp = self
            .execute(SapRequest::get(url, ReadOptions::default()))
            .await?;
        decode(&resp, Effect::Read)
    }

    /// GET by key, with SAP's "not found" turned into `None`.
    pub(crate) async fn get_optional<T: DeserializeOwned>(
        &self,
        url: Url,
    ) -> Result<Option<T>, SapError> {
        match self.get_json(url).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// POST a JSON body (a create) and decode the entity SAP returns. If SAP applied it but
    /// the answer cannot be read, the caller must reconcile, so that is `Ambiguous`.
    /// A POST that reads: a service function such as `OrdersService_Preview` or
    /// `SBOBobService_GetCurrencyRate` computes an answer and stores nothing, so it is
    /// retried like a GET.
    pub(crate) async fn post_read<B: Serialize, T: DeserializeOwned>(
        &self,
        url: Url,
        body: &B,
    ) -> Result<T, SapError> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| SapError::Config(format!("cannot serialise request: {e}")))?;
        let resp = self
            .execute(SapRequest::post(url, Some(bytes.into()), Effect::Read))
            .await?;
        decode(&resp, Effect::Read)
    }

    pub(crate) async fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        url: Url,
        body: &B,
    ) -> Result<T, SapError> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| SapError::Config(format!("cannot serialise request: {e}")))?;
        let resp = self
            .execute(SapRequest::post(url, Some(bytes.into()), Effect::Write))
            .await?;
        decode(&resp, Effect::Write)
    }

    /// PATCH a JSON body (an update; SAP answers 204). On `Ambiguous` the caller reads the
    /// entity to see whether it happened.
    pub(crate) async fn patch_json<B: Serialize>(
        &self,
        url: Url,
        body: &B,
        replace_collections: bool,
    ) -> Result<(), SapError> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| SapError::Config(format!("cannot serialise request: {e}")))?;
        self.execute(SapRequest::patch(url, bytes.into(), replace_collections))
            .await
            .map(|_| ())
    }

    /// POST a bound action without a body (`Orders(22)/Cancel`).
    pub(crate) async fn post_action(&self, url: Url) -> Result<(), SapError> {
        self.execute(SapRequest::post(url, None, Effect::Write))
            .await
            .map(|_| ())
    }

    /// The first page of a collection read, with the configured page size.
    pub(crate) async fn first_page<T: DeserializeOwned>(
        &self,
        url: Url,
        case_insensitive: bool,
    ) -> Result<Page<T>, SapError> {
        let options = ReadOptions {
            page_size: Some(self.inner.page_size),
            case_insensitive,
        };
        self.read_page(url, options).await
    }

    /// The first page of a collection read with its own page size (large pages for bulk
    /// reads such as the stock sync's, where fewer requests matter more than page weight).
    pub(crate) async fn first_page_sized<T: DeserializeOwned>(
        &self,
        url: Url,
        page_size: u32,
    ) -> Result<Page<T>, SapError> {
        let options = ReadOptions {
            page_size: Some(page_size),
            case_insensitive: false,
        };
        self.read_page(url, options).await
    }

    /// Reads the page a previous page pointed to.
    pub async fn next_page<T: DeserializeOwned>(
        &self,
        next: &NextPage<T>,
    ) -> Result<Page<T>, SapError> {
        self.read_page(next.url.clone(), next.options).await
    }

    /// Reads `first` and every following page into one list. A `nextLink` that repeats an
    /// address already read would loop forever, so it is an error.
    pub async fn collect_pages<T: DeserializeOwned>(
        &self,
        first: Page<T>,
    ) -> Result<Vec<T>, SapError> {
        let mut items = first.items;
        let mut next = first.next;
        let mut seen = HashSet::new();
        while let Some(cursor) = next {
            if !seen.insert(cursor.url.clone()) {
                return Err(SapError::Permanent {
                    status: 200,
                    code: None,
                    message: format!("nextLink repeats {}", cursor.url.path()),
                });
            }
            let page = self.next_page(&cursor).await?;
            items.extend(page.items);
            next = page.next;
        }
        Ok(items)
    }

    async fn read_page<T: DeserializeOwned>(
        &self,
        url: Url,
        options: ReadOptions,
    ) -> Result<Page<T>, SapError> {
        let resp = self.execute(SapRequest::get(url, options)).await?;
        let body: CollectionBody<T> = decode(&resp, Effect::Read)?;
        let next = match body.next_link() {
            None => None,
            Some(link) => Some(NextPage {
                url: odata::resolve_next_link(self.root(), link).map_err(|e| {
                    SapError::Permanent {
                        status: resp.status,
                        code: None,
                        message: e.to_string(),
                    }
                })?,
                options,
                _item: PhantomData,
            }),
        };
        Ok(Page {
            items: body.value,
            next,
        })
    }
}

/// A failed login is the configuration's fault unless the network is: a 404 means the URL is
/// wrong, any other refusal means company, user or password. No retry loop either way.
fn login_error(e: SapError) -> SapError {
    match e {
        SapError::Permanent { status: 404, .. } => SapError::Config(
            "POST Login answered 404: SAP_B1_URL must be the Service Layer root, e.g. \
             https://sap:50000/b1s/v1"
                .into(),
        ),
        SapError::Permanent { code, message, .. } => SapError::Auth { code, message },
        SapError::SessionExpired { status } => SapError::Auth {
            code: None,
            message: format!("HTTP {status}"),
        },
        other => other,
    }
}

fn decode<T: DeserializeOwned>(resp: &SapResponse, effect: Effect) -> Result<T, SapError> {
    serde_json::from_slice(&resp.body).map_err(|e| match effect {
        Effect::Write => SapError::Ambiguous {
            reason: format!("SAP accepted the request but its answer is unreadable: {e}"),
        },
        Effect::Read => SapError::Permanent {
            status: resp.status,
            code: None,
            message: format!("unreadable answer: {e}"),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A self-signed CA certificate (public part only) for the CA-loading tests.
    const TEST_CA: &str = "-----BEGIN CERTIFICATE-----
MIIBjTCCATOgAwIBAgIUUXzl94pgHtQJS5RIqkGl5JH/gxswCgYIKoZIzj0EAwIw
GzEZMBcGA1UEAwwQYjFicmlkZ2UgdGVzdCBDQTAgFw0yNjExMjcwODI4MzZaGA8y
MTI2MTEwMzA4MjgzNlowGzEZMBcGA1UEAwwQYjFicmlkZ2UgdGVzdCBDQTBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABBF1Dz+bVHfecHW+kBn3q7lPc6Ka1opYZSc/
ove2v4gFb6UYFeeUBQe5JXPtWEX1JpFjfoCiX0S11GHVbCMGgrSjUzBRMB0GA1Ud
DgQWBBS3TsLRyou4xDTzeMFcjs3B3Ma85TAfBgNVHSMEGDAWgBS3TsLRyou4xDTz
eMFcjs3B3Ma85TAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQDy
ye/oq6zvWdhMdwIkN8tpn5fp+3U6lJVfCjfPlk7QdgIgc5VK1DcQU/91PHkYpBkI
esShnWd+2q6fP7QUdIohHYQ=
-----END CERTIFICATE-----
";

    fn settings(url: &str) -> SapSettings {
        SapSettings::from_raw(
            Some(url),
            Some("SBODEMOGB"),
            Some("manager"),
            Some(&SecretString::from("pw-1234")),
            None,
            None,
        )
        .unwrap()
    }

    fn temp_file(contents: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("b1bridge-ca-{}.pem", uuid::Uuid::new_v4()));
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn an_extra_root_ca_is_loaded_and_bad_ones_are_refused_with_the_variable_name() {
        let mut s = settings("https://sap:50000/b1s/v1");
        let good = temp_file(TEST_CA);
        s.ca_cert = Some(good.clone());
        assert!(SapClient::new(&s).is_ok());
        let not_pem = temp_file("hello");
        let broken_der =
            temp_file("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        for path in [
            std::path::PathBuf::from("/nonexistent/ca.pem"),
            not_pem.clone(),
            broken_der.clone(),
        ] {
            s.ca_cert = Some(path.clone());
            let e = SapClient::new(&s).unwrap_err();
            assert_eq!(e.kind(), "config", "{path:?}: {e}");
            assert!(e.to_string().contains("SAP_B1_CA_CERT"), "{e}");
        }
        for p in [good, not_pem, broken_der] {
            let _ = std::fs::remove_file(p);
        }
    }

    /// Answers each connection with the next canned response (and `Connection: close`) and
    /// hands back the raw requests it received, so tests can assert what went on the wire.
    async fn wire_capture(
        responses: Vec<String>,
    ) -> (String, tokio::task::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let root = format!("http://{}/b1s/v1", listener.local_addr().unwrap());
        let handle = tokio::spawn(async move {
            let mut seen = Vec::new();
            for response in responses {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut raw = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    let n = socket.read(&mut buf).await.unwrap();
                    raw.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&raw).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap())
                            })
                            .unwrap_or(0);
                        if raw.len() >= end + 4 + length || n == 0 {
                            break;
                        }
                    }
                }
                seen.push(String::from_utf8_lossy(&raw).to_string());
                socket.write_all(response.as_bytes()).await.unwrap();
                socket.shutdown().await.unwrap();
            }
            seen
        });
        (root, handle)
    }

    fn http_response(status: &str, headers: &[&str], body: &str) -> String {
        let mut r = format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        for h in headers {
            r.push_str(h);
            r.push_str("\r\n");
        }
        r.push_str("\r\n");
        r.push_str(body);
        r
    }

    #[tokio::test]
    async fn requests_carry_both_session_cookies_and_never_expect_100_continue() {
        let (root, server) = wire_capture(vec![
            http_response(
                "200 OK",
                &[
                    "Set-Cookie: B1SESSION=PTRzIjYK-weN6;HttpOnly;",
                    "Set-Cookie: ROUTEID=.node1; path=/b1s",
                ],
                r#"{"SessionId":"PTRzIjYK-weN6","Version":"1000110","SessionTimeout":30}"#,
            ),
            http_response(
                "200 OK",
                &["Content-Type: application/json"],
                r#"{"value":[{"WarehouseCode":"01","WarehouseName":"General","Inactive":"tNO"}]}"#,
            ),
        ])
        .await;
        let client = SapClient::new(&settings(&root)).unwrap();
        let warehouses = client.list_warehouses().await.unwrap();
        assert_eq!(warehouses[0].warehouse_code, "01");
        let requests = server.await.unwrap();
        let login = requests[0].to_ascii_lowercase();
        assert!(login.starts_with("post /b1s/v1/login http/1.1"), "{login}");
        assert!(!login.contains("\r\nexpect:"), "{login}");
        assert!(login.contains(r#""companydb":"sbodemogb""#), "{login}");
        let read = &requests[1];
        assert!(
            read.starts_with("GET /b1s/v1/Warehouses?$select="),
            "{read}"
        );
        assert!(
            read.contains("\r\ncookie: B1SESSION=PTRzIjYK-weN6; ROUTEID=.node1\r\n"),
            "{read}"
        );
        assert!(
            read.contains("\r\nprefer: odata.maxpagesize=100\r\n"),
            "{read}"
        );
        assert!(!read.to_ascii_lowercase().contains("\r\nexpect:"), "{read}");
    }

    /// Collects everything the fmt subscriber writes.
    #[derive(Clone, Default)]
    struct LogBuffer(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for LogBuffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn logs_carry_path_and_status_but_never_the_password_or_session_id() {
        // A process-wide subscriber: a thread-scoped one races with tests on other threads
        // over tracing's per-callsite interest cache and loses span fields now and then.
        static LOGS: std::sync::OnceLock<LogBuffer> = std::sync::OnceLock::new();
        let logs = LOGS.get_or_init(|| {
            let logs = LogBuffer::default();
            let writer = logs.clone();
            let subscriber = tracing_subscriber::fmt()
                .json()
                .with_max_level(tracing::Level::TRACE)
                .with_current_span(true)
                .with_writer(move || writer.clone())
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("only this test installs one");
            logs
        });
        let (root, server) = wire_capture(vec![
            http_response(
                "200 OK",
                &["Set-Cookie: B1SESSION=SESSION-ID-XYZ;HttpOnly;"],
                r#"{"SessionId":"SESSION-ID-XYZ"}"#,
            ),
            http_response(
                "400 Bad Request",
                &[],
                r#"{"error":{"code":-10,"message":{"lang":"en-us","value":"Item XYZ is inactive"}}}"#,
            ),
        ])
        .await;
        let client = SapClient::new(&settings(&root)).unwrap();
        let e = client.list_warehouses().await.unwrap_err();
        assert_eq!(e.sap_code(), Some(-10));
        server.await.unwrap();
        let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        assert!(
            text.lines()
                .any(|l| l.contains("/b1s/v1/Warehouses") && l.contains(r#""sap_code":-10"#)),
            "{text}"
        );
        assert!(!text.contains("pw-1234"), "{text}");
        assert!(!text.contains("SESSION-ID-XYZ"), "{text}");
    }

    #[test]
    fn debug_output_never_shows_the_password() {
        let client = SapClient::new(&settings("https://sap:50000/b1s/v1")).unwrap();
        let shown = format!("{client:?}");
        assert!(
            shown.contains("SBODEMOGB") && !shown.contains("pw-1234"),
            "{shown}"
        );
    }
}
