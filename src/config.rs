//! Typed settings, validated once at start-up. Secrets are `SecretString`/`SecretBox`, which
//! refuse to print themselves, and every error names the variable, never its value.
use base64::Engine;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::domain::access::{self, Role};

/// A start-up configuration problem. The message names the variable and what is wrong with
/// it, and never echoes a secret.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{variable} is required{hint}")]
    Missing {
        variable: &'static str,
        hint: &'static str,
    },
    #[error("{variable} is malformed: {problem}")]
    Malformed {
        variable: &'static str,
        problem: String,
    },
}

/// One Standard Webhooks signing key (the base64-decoded bytes after `whsec_`).
pub struct WebhookKey(SecretBox<Vec<u8>>);

impl WebhookKey {
    /// Parses `whsec_<base64>`; the prefix is optional and padding may be missing, as in the
    /// reference libraries.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let b64 = raw.trim();
        let b64 = b64.strip_prefix("whsec_").unwrap_or(b64);
        if b64.is_empty() {
            return Err("a secret is empty".into());
        }
        let engine = base64::engine::GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            base64::engine::GeneralPurposeConfig::new()
                .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
        );
        let bytes = engine
            .decode(b64)
            .map_err(|_| "a secret is not base64 after the `whsec_` prefix".to_string())?;
        if bytes.len() < 16 {
            return Err(format!(
                "a secret decodes to {} bytes; at least 16 are needed",
                bytes.len()
            ));
        }
        Ok(Self(SecretBox::new(Box::new(bytes))))
    }

    pub fn bytes(&self) -> &[u8] {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for WebhookKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookKey([REDACTED])")
    }
}

/// Webhook intake settings.
#[derive(Debug)]
pub struct WebhookSettings {
    /// Every key is accepted, so a secret can be rotated without dropping events.
    pub keys: Vec<WebhookKey>,
    pub tolerance: Duration,
    pub max_body_bytes: usize,
}

impl WebhookSettings {
    pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

    pub fn from_raw(
        secrets: Option<&SecretString>,
        tolerance_secs: u64,
    ) -> Result<Self, ConfigError> {
        const VAR: &str = "B1BRIDGE_WEBHOOK_SECRETS";
        let raw = secrets
            .map(|s| s.expose_secret().trim())
            .filter(|s| !s.is_empty())
            .ok_or(ConfigError::Missing {
                variable: VAR,
                hint: " (comma-separated whsec_… secrets shared with Magento)",
            })?;
        let keys = raw
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(WebhookKey::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|problem| ConfigError::Malformed {
                variable: VAR,
                problem,
            })?;
        if tolerance_secs == 0 {
            return Err(ConfigError::Malformed {
                variable: "B1BRIDGE_WEBHOOK_TOLERANCE_SECS",
                problem: "must be at least 1 second".into(),
            });
        }
        Ok(Self {
            keys,
            tolerance: Duration::from_secs(tolerance_secs),
            max_body_bytes: Self::DEFAULT_MAX_BODY,
        })
    }
}

/// Postgres connection settings.
pub struct DatabaseSettings {
    pub url: SecretString,
    /// `B1BRIDGE_DIRECT_DATABASE_URL`: Postgres itself (or a session-mode pool), for what a
    /// transaction-mode pooler on `url` cannot carry: the workers' LISTEN connection and the
    /// migrations' session advisory lock. `None`: `url` is used for everything.
    pub direct_url: Option<SecretString>,
    pub max_connections: u32,
    /// How long a request waits for a connection before answering 503: short, because the
    /// sender retries and a hung webhook helps nobody.
    pub acquire_timeout: Duration,
}

impl DatabaseSettings {
    /// Connections per pool unless `B1BRIDGE_DB_MAX_CONNECTIONS` says otherwise.
    pub const DEFAULT_MAX_CONNECTIONS: u32 = 20;

    pub fn from_raw(url: Option<&SecretString>) -> Result<Self, ConfigError> {
        let url =
            url.filter(|u| !u.expose_secret().trim().is_empty())
                .ok_or(ConfigError::Missing {
                    variable: "DATABASE_URL",
                    hint: " (postgres://user@host:5432/db)",
                })?;
        Ok(Self {
            url: postgres_url("DATABASE_URL", url)?,
            direct_url: None,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            acquire_timeout: Duration::from_secs(3),
        })
    }

    /// The URL for sessions that must bypass a transaction-mode pooler.
    pub fn session_url(&self) -> &SecretString {
        self.direct_url.as_ref().unwrap_or(&self.url)
    }
}

/// Checks that `url` (the value of `variable`) is a Postgres URL.
pub fn postgres_url(
    variable: &'static str,
    url: &SecretString,
) -> Result<SecretString, ConfigError> {
    let parsed = url::Url::parse(url.expose_secret()).map_err(|e| ConfigError::Malformed {
        variable,
        problem: e.to_string(),
    })?;
    if !matches!(parsed.scheme(), "postgres" | "postgresql") {
        return Err(ConfigError::Malformed {
            variable,
            problem: format!("scheme must be postgres://, not {}://", parsed.scheme()),
        });
    }
    Ok(url.clone())
}

/// Everything `b1bridge serve` needs.
pub struct ServeSettings {
    pub listen: SocketAddr,
    pub database: DatabaseSettings,
    pub webhook: WebhookSettings,
    /// From `B1BRIDGE_API_TOKENS`; minted tokens live in the database.
    pub api_tokens: Vec<BootstrapToken>,
    pub migrate: bool,
}

/// SAP B1 Service Layer connection settings (contract §1, `SAP_B1_*`).
pub struct SapSettings {
    /// The Service Layer root, normalised to end in `/` (e.g. `https://sap:50000/b1s/v1/`).
    pub url: url::Url,
    pub company_db: String,
    pub username: String,
    pub password: SecretString,
    /// An extra PEM root CA to trust; TLS verification itself is never switched off.
    pub ca_cert: Option<PathBuf>,
    /// Upper bound of parallel Service Layer requests, login included.
    pub max_concurrency: usize,
    /// Whole-request timeout. Not in the contract; long enough for an order with many lines.
    pub request_timeout: Duration,
    /// Rows per page asked for with `Prefer: odata.maxpagesize` (SAP's default is 20).
    pub page_size: u32,
}

impl SapSettings {
    pub const DEFAULT_MAX_CONCURRENCY: usize = 4;
    /// SAP measured its throughput limit at about 40 concurrent requests; more than this is
    /// a typo, not a tuning choice.
    pub const MAX_CONCURRENCY_LIMIT: usize = 64;
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
    pub const DEFAULT_PAGE_SIZE: u32 = 100;

    /// Validates the raw `SAP_B1_*` values. `max_concurrency` is the raw text so that a typo
    /// is reported with the variable's name.
    pub fn from_raw(
        url: Option<&str>,
        company_db: Option<&str>,
        username: Option<&str>,
        password: Option<&SecretString>,
        ca_cert: Option<&Path>,
        max_concurrency: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let url = parse_sap_url(required(
            "SAP_B1_URL",
            url,
            " (e.g. https://sap:50000/b1s/v1)",
        )?)?;
        let company_db = required("SAP_B1_COMPANY_DB", company_db, " (e.g. SBODEMOGB)")?;
        let username = required("SAP_B1_USERNAME", username, "")?;
        let password = password
            .filter(|p| !p.expose_secret().is_empty())
            .cloned()
            .ok_or(ConfigError::Missing {
                variable: "SAP_B1_PASSWORD",
                hint: "",
            })?;
        let ca_cert = ca_cert
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf);
        let max_concurrency = match max_concurrency.map(str::trim).filter(|s| !s.is_empty()) {
            None => Self::DEFAULT_MAX_CONCURRENCY,
            Some(raw) => raw
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=Self::MAX_CONCURRENCY_LIMIT).contains(n))
                .ok_or_else(|| ConfigError::Malformed {
                    variable: "SAP_B1_MAX_CONCURRENCY",
                    problem: format!(
                        "'{raw}' is not a whole number from 1 to {}",
                        Self::MAX_CONCURRENCY_LIMIT
                    ),
                })?,
        };
        Ok(Self {
            url,
            company_db: company_db.to_owned(),
            username: username.to_owned(),
            password,
            ca_cert,
            max_concurrency,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            page_size: Self::DEFAULT_PAGE_SIZE,
        })
    }
}

impl std::fmt::Debug for SapSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SapSettings")
            .field("url", &self.url.as_str())
            .field("company_db", &self.company_db)
            .field("username", &self.username)
            .field("password", &"[REDACTED]")
            .field("ca_cert", &self.ca_cert)
            .field("max_concurrency", &self.max_concurrency)
            .field("request_timeout", &self.request_timeout)
            .field("page_size", &self.page_size)
            .finish()
    }
}

fn required<'a>(
    variable: &'static str,
    raw: Option<&'a str>,
    hint: &'static str,
) -> Result<&'a str, ConfigError> {
    raw.map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(ConfigError::Missing { variable, hint })
}

/// The Service Layer root must be http(s), carry no credentials, query or fragment, and end
/// in `/` so that entity paths join beneath it rather than replacing its last segment.
fn parse_sap_url(raw: &str) -> Result<url::Url, ConfigError> {
    let malformed = |problem: String| ConfigError::Malformed {
        variable: "SAP_B1_URL",
        problem,
    };
    let mut url = url::Url::parse(raw).map_err(|e| malformed(format!("'{raw}': {e}")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(malformed(format!(
            "scheme must be https:// (or http:// for a local simulator), not {}://",
            url.scheme()
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(malformed(
            "must not contain credentials; use SAP_B1_USERNAME and SAP_B1_PASSWORD".into(),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(malformed(format!(
            "'{}' must not have a query or fragment",
            url.path()
        )));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// Magento REST connection settings (`MAGENTO_URL`, `MAGENTO_TOKEN`).
pub struct MagentoSettings {
    /// The REST root including the store code, normalised to end in `/`
    /// (e.g. `https://shop.example/rest/default/`); `V1/…` paths are joined beneath it.
    pub url: url::Url,
    /// The integration's bearer token; never logged.
    pub token: SecretString,
    /// Most Magento requests at once, per process. Not in the contract: PHP-FPM pools are
    /// small, and a sync must not crowd out shoppers.
    pub max_concurrency: usize,
    /// Whole-request timeout; a bulk price or stock call on a busy store can take seconds.
    pub request_timeout: Duration,
    /// Attempts per request when Magento answers 5xx/429 or times out (first try included).
    pub max_attempts: u32,
    /// First backoff; doubles per attempt up to `backoff_cap`. `Retry-After` wins when given
    /// (up to `backoff_cap`).
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
}

impl MagentoSettings {
    pub const DEFAULT_MAX_CONCURRENCY: usize = 4;
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 4;
    pub const DEFAULT_BACKOFF_BASE: Duration = Duration::from_millis(500);
    pub const DEFAULT_BACKOFF_CAP: Duration = Duration::from_secs(30);

    /// Validates `MAGENTO_URL` and `MAGENTO_TOKEN`. Both or neither: `Ok(None)` when neither
    /// is set (the Magento side is optional), an error naming the missing one otherwise.
    pub fn from_env_values(
        url: Option<&str>,
        token: Option<&SecretString>,
    ) -> Result<Option<Self>, ConfigError> {
        let url_set = url.is_some_and(|u| !u.trim().is_empty());
        let token_set = token.is_some_and(|t| !t.expose_secret().trim().is_empty());
        if !url_set && !token_set {
            return Ok(None);
        }
        Self::from_raw(url, token).map(Some)
    }

    /// Validates both values; each is required.
    pub fn from_raw(url: Option<&str>, token: Option<&SecretString>) -> Result<Self, ConfigError> {
        let raw = required(
            "MAGENTO_URL",
            url,
            " (the REST root, e.g. https://shop.example/rest/default)",
        )?;
        let url = parse_root_url("MAGENTO_URL", raw, "MAGENTO_TOKEN")?;
        let token = token
            .filter(|t| !t.expose_secret().trim().is_empty())
            .map(|t| SecretString::from(t.expose_secret().trim().to_owned()))
            .ok_or(ConfigError::Missing {
                variable: "MAGENTO_TOKEN",
                hint: " (the integration's access token) when MAGENTO_URL is set",
            })?;
        Ok(Self {
            url,
            token,
            max_concurrency: Self::DEFAULT_MAX_CONCURRENCY,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            max_attempts: Self::DEFAULT_MAX_ATTEMPTS,
            backoff_base: Self::DEFAULT_BACKOFF_BASE,
            backoff_cap: Self::DEFAULT_BACKOFF_CAP,
        })
    }
}

impl std::fmt::Debug for MagentoSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MagentoSettings")
            .field("url", &self.url.as_str())
            .field("token", &"[REDACTED]")
            .field("max_concurrency", &self.max_concurrency)
            .field("request_timeout", &self.request_timeout)
            .field("max_attempts", &self.max_attempts)
            .finish()
    }
}

/// A REST root must be http(s), carry no credentials, query or fragment, and end in `/` so
/// that paths join beneath it rather than replacing its last segment.
fn parse_root_url(
    variable: &'static str,
    raw: &str,
    credentials_hint: &str,
) -> Result<url::Url, ConfigError> {
    let malformed = |problem: String| ConfigError::Malformed { variable, problem };
    let mut url = url::Url::parse(raw).map_err(|e| malformed(format!("'{raw}': {e}")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(malformed(format!(
            "scheme must be https:// (or http:// for a local simulator), not {}://",
            url.scheme()
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(malformed(format!(
            "must not contain credentials; use {credentials_hint}"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(malformed(format!(
            "'{}' must not have a query or fragment",
            url.path()
        )));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// A token configured in `B1BRIDGE_API_TOKENS`, so a fresh deployment (or a script) has
/// access before anyone ran `b1bridge token create`. Held hashed, like minted tokens.
#[derive(Clone)]
pub struct BootstrapToken {
    pub name: String,
    pub role: Role,
    pub secret_sha256: String,
}

impl std::fmt::Debug for BootstrapToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BootstrapToken({}, {})", self.name, self.role.as_str())
    }
}

/// Parses `name:role:secret,…` (the secret may itself contain `:`). Entries are named by
/// position in errors, because an entry without separators might be a bare secret.
pub fn parse_api_tokens(raw: Option<&SecretString>) -> Result<Vec<BootstrapToken>, ConfigError> {
    const VAR: &str = "B1BRIDGE_API_TOKENS";
    let malformed = |problem: String| ConfigError::Malformed {
        variable: VAR,
        problem,
    };
    let Some(raw) = raw
        .map(|s| s.expose_secret().trim())
        .filter(|s| !s.is_empty())
    else {
        return Ok(vec![]);
    };
    let mut tokens: Vec<BootstrapToken> = vec![];
    let entries = raw.split(',').map(str::trim).filter(|e| !e.is_empty());
    for (i, entry) in entries.enumerate() {
        let n = i + 1;
        let mut parts = entry.splitn(3, ':');
        let (Some(name), Some(role), Some(secret)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed(format!("entry {n} is not name:role:secret")));
        };
        if !access::valid_token_name(name) {
            return Err(malformed(format!(
                "entry {n}: the name must be 1-64 of A-Z a-z 0-9 . _ - @"
            )));
        }
        let role = Role::parse(role).ok_or_else(|| {
            malformed(format!(
                "entry {n} ({name}): role '{role}' is not viewer, operator or admin"
            ))
        })?;
        if secret.len() < 16 {
            return Err(malformed(format!(
                "entry {n} ({name}): the secret must be at least 16 characters"
            )));
        }
        if tokens.iter().any(|t| t.name == name) {
            return Err(malformed(format!(
                "entry {n}: the name {name} is used twice"
            )));
        }
        tokens.push(BootstrapToken {
            name: name.to_owned(),
            role,
            secret_sha256: access::secret_hash(secret),
        });
    }
    Ok(tokens)
}

/// Parses a listen address, naming the variable on error.
pub fn parse_listen(raw: &str) -> Result<SocketAddr, ConfigError> {
    raw.trim().parse().map_err(|_| ConfigError::Malformed {
        variable: "B1BRIDGE_LISTEN",
        problem: format!("'{raw}' is not host:port (e.g. 127.0.0.1:8080)"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_accept_prefix_rotation_and_unpadded_base64() {
        let s = SecretString::from(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        );
        let w = WebhookSettings::from_raw(Some(&s), 300).unwrap();
        assert_eq!(w.keys.len(), 2);
        assert_eq!(w.keys[0].bytes().len(), 24);
        // Unpadded: 22 chars of base64 for 16 bytes.
        assert!(WebhookKey::parse("whsec_AAAAAAAAAAAAAAAAAAAAAA").is_ok());
    }

    fn sap(
        url: &str,
        password: &str,
        concurrency: Option<&str>,
    ) -> Result<SapSettings, ConfigError> {
        SapSettings::from_raw(
            Some(url),
            Some("SBODEMOGB"),
            Some("manager"),
            Some(&SecretString::from(password.to_owned())),
            None,
            concurrency,
        )
    }

    #[test]
    fn sap_settings_normalise_the_root_and_default_the_concurrency() {
        let s = sap("https://sap:50000/b1s/v1", "1234", None).unwrap();
        assert_eq!(s.url.as_str(), "https://sap:50000/b1s/v1/");
        assert_eq!(s.max_concurrency, SapSettings::DEFAULT_MAX_CONCURRENCY);
        assert_eq!(s.url.join("Orders").unwrap().path(), "/b1s/v1/Orders");
        let s = sap("http://127.0.0.1:5000/b1s/v1/", "1234", Some(" 3 ")).unwrap();
        assert_eq!(s.url.as_str(), "http://127.0.0.1:5000/b1s/v1/");
        assert_eq!(s.max_concurrency, 3);
        assert!(!format!("{s:?}").contains("1234"));
    }

    #[test]
    fn sap_settings_errors_name_the_variable_and_never_the_password() {
        let secret = "hunter2-secret";
        let cases = [
            (sap("ftp://sap/b1s/v1", secret, None), "SAP_B1_URL"),
            (
                sap("https://manager:hunter2-secret@sap/b1s/v1", secret, None),
                "SAP_B1_URL",
            ),
            (
                sap("https://sap/b1s/v1", secret, Some("0")),
                "SAP_B1_MAX_CONCURRENCY",
            ),
            (
                sap("https://sap/b1s/v1", secret, Some("four")),
                "SAP_B1_MAX_CONCURRENCY",
            ),
            (sap("https://sap/b1s/v1", "", None), "SAP_B1_PASSWORD"),
        ];
        for (result, variable) in cases {
            let e = result.expect_err(variable).to_string();
            assert!(e.contains(variable), "{e}");
            assert!(!e.contains(secret), "{e}");
        }
        let e = SapSettings::from_raw(None, None, None, None, None, None)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("SAP_B1_URL is required"), "{e}");
        let e = SapSettings::from_raw(
            Some("https://sap/b1s/v1"),
            Some(" "),
            None,
            None,
            None,
            None,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("SAP_B1_COMPANY_DB is required"), "{e}");
    }

    #[test]
    fn magento_settings_need_both_values_and_normalise_the_root() {
        let token = SecretString::from("tok-secret-value".to_owned());
        assert!(MagentoSettings::from_env_values(None, None)
            .unwrap()
            .is_none());
        let s = MagentoSettings::from_env_values(
            Some("https://shop.example/rest/default"),
            Some(&token),
        )
        .unwrap()
        .unwrap();
        assert_eq!(s.url.as_str(), "https://shop.example/rest/default/");
        assert!(!format!("{s:?}").contains("tok-secret-value"));
        let e = MagentoSettings::from_env_values(Some("https://shop.example/rest/default"), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("MAGENTO_TOKEN"), "{e}");
        let e = MagentoSettings::from_env_values(None, Some(&token))
            .unwrap_err()
            .to_string();
        assert!(e.contains("MAGENTO_URL"), "{e}");
        let e = MagentoSettings::from_raw(Some("ftp://shop"), Some(&token))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("MAGENTO_URL") && !e.contains("tok-secret"),
            "{e}"
        );
    }

    #[test]
    fn errors_name_the_variable_and_never_echo_the_secret() {
        let bad = SecretString::from("whsec_not*base64*at*all-supersecret");
        let e = WebhookSettings::from_raw(Some(&bad), 300)
            .unwrap_err()
            .to_string();
        assert!(e.contains("B1BRIDGE_WEBHOOK_SECRETS"), "{e}");
        assert!(!e.contains("supersecret"), "{e}");
        let e = WebhookSettings::from_raw(None, 300)
            .unwrap_err()
            .to_string();
        assert!(e.contains("B1BRIDGE_WEBHOOK_SECRETS is required"), "{e}");
        let e = DatabaseSettings::from_raw(Some(&SecretString::from("mysql://x:pw@h/db")))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("DATABASE_URL") && !e.contains("pw"), "{e}");
        assert!(format!(
            "{:?}",
            WebhookKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap()
        )
        .contains("REDACTED"));
    }

    #[test]
    fn api_tokens_parse_with_colons_in_secrets_and_are_held_hashed() {
        let raw = SecretString::from(
            "ci:admin:s3cret:with:colons-0123456789, anna:viewer:abcdefghijklmnop,",
        );
        let t = parse_api_tokens(Some(&raw)).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!((t[0].name.as_str(), t[0].role), ("ci", Role::Admin));
        assert_eq!(
            t[0].secret_sha256,
            access::secret_hash("s3cret:with:colons-0123456789")
        );
        assert_eq!((t[1].name.as_str(), t[1].role), ("anna", Role::Viewer));
        assert!(!format!("{t:?}").contains("abcdefghijklmnop"));
        assert!(parse_api_tokens(None).unwrap().is_empty());
    }

    #[test]
    fn api_token_errors_name_the_variable_and_never_the_secret() {
        for (raw, expected) in [
            ("topsecretvalue-12345", "entry 1 is not name:role:secret"),
            ("a:root:topsecretvalue-12345", "role 'root'"),
            ("a:viewer:short", "at least 16"),
            ("a b:viewer:topsecretvalue-12345", "entry 1: the name"),
            (
                "a:viewer:topsecretvalue-12345,a:admin:topsecretvalue-12345",
                "used twice",
            ),
        ] {
            let e = parse_api_tokens(Some(&SecretString::from(raw)))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("B1BRIDGE_API_TOKENS") && e.contains(expected),
                "{e}"
            );
            assert!(!e.contains("topsecret") && !e.contains("short"), "{e}");
        }
    }
}
