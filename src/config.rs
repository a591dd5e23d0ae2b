//! Typed settings, validated once at start-up. Secrets are `SecretString`/`SecretBox`, which
//! refuse to print themselves, and every error names the variable, never its value.
use base64::Engine;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use std::net::SocketAddr;
use std::time::Duration;

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
    pub max_connections: u32,
    /// How long a request waits for a connection before answering 503: short, because the
    /// sender retries and a hung webhook helps nobody.
    pub acquire_timeout: Duration,
}

impl DatabaseSettings {
    pub fn from_raw(url: Option<&SecretString>) -> Result<Self, ConfigError> {
        let url =
            url.filter(|u| !u.expose_secret().trim().is_empty())
                .ok_or(ConfigError::Missing {
                    variable: "DATABASE_URL",
                    hint: " (postgres://user@host:5432/db)",
                })?;
        let parsed = url::Url::parse(url.expose_secret()).map_err(|e| ConfigError::Malformed {
            variable: "DATABASE_URL",
            problem: e.to_string(),
        })?;
        if !matches!(parsed.scheme(), "postgres" | "postgresql") {
            return Err(ConfigError::Malformed {
                variable: "DATABASE_URL",
                problem: format!("scheme must be postgres://, not {}://", parsed.scheme()),
            });
        }
        Ok(Self {
            url: url.clone(),
            max_connections: 20,
            acquire_timeout: Duration::from_secs(3),
        })
    }
}

/// Everything `b1bridge serve` needs.
pub struct ServeSettings {
    pub listen: SocketAddr,
    pub database: DatabaseSettings,
    pub webhook: WebhookSettings,
    pub migrate: bool,
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
}
