//! Fault injection, seeded and deterministic: the same seed and the same sequence of requests
//! give the same faults; every request rolls the dice the same number of times. A `script`
//! of statuses answers the next requests in order (exact sequences for tests), and `down`
//! answers every request 503 until it is lifted.
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::time::Duration;

/// Fault settings; rates are probabilities per request in `[0, 1]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MagentoFaults {
    /// Answered 500 with Magento's "Internal Error" body (a PHP exception; nothing applied).
    pub server_error_rate: f64,
    /// Answered 429 with `Retry-After: 1` (nothing applied).
    pub rate_limit_rate: f64,
    /// Held for `timeout_ms` and then handled (the client's timeout fires first): a write
    /// whose answer was lost is still applied, as on a slow real store.
    pub timeout_rate: f64,
    pub timeout_ms: u64,
    /// Added to every request before it is handled.
    pub latency_ms: u64,
    /// Every request answered 503 (maintenance mode) while set.
    pub down: bool,
    /// Statuses for the next requests, in order (e.g. `[503, 429]`); `0` holds the request
    /// for `timeout_ms`. Consumed before the dice are looked at.
    pub script: Vec<u16>,
    /// Seed of the dice; setting faults restarts the sequence.
    pub seed: u64,
}

impl Default for MagentoFaults {
    fn default() -> Self {
        Self {
            server_error_rate: 0.0,
            rate_limit_rate: 0.0,
            timeout_rate: 0.0,
            timeout_ms: 30_000,
            latency_ms: 0,
            down: false,
            script: Vec::new(),
            seed: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidMagentoFaults(pub String);

impl MagentoFaults {
    pub fn validate(&self) -> Result<(), InvalidMagentoFaults> {
        for (name, rate) in [
            ("server_error_rate", self.server_error_rate),
            ("rate_limit_rate", self.rate_limit_rate),
            ("timeout_rate", self.timeout_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(InvalidMagentoFaults(format!(
                    "{name} must be between 0 and 1"
                )));
            }
        }
        if let Some(bad) = self
            .script
            .iter()
            .find(|s| **s != 0 && !(400..=599).contains(*s))
        {
            return Err(InvalidMagentoFaults(format!(
                "script status {bad} is neither 0 (timeout) nor 400-599"
            )));
        }
        Ok(())
    }
}

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    Status(u16),
    Timeout(Duration),
}

pub struct FaultDice {
    faults: MagentoFaults,
    script: VecDeque<u16>,
    rng: SmallRng,
}

impl FaultDice {
    pub fn new(faults: MagentoFaults) -> Self {
        Self {
            rng: SmallRng::seed_from_u64(faults.seed),
            script: faults.script.iter().copied().collect(),
            faults,
        }
    }

    pub fn faults(&self) -> MagentoFaults {
        MagentoFaults {
            script: self.script.iter().copied().collect(),
            ..self.faults.clone()
        }
    }

    pub fn latency(&self) -> Duration {
        Duration::from_millis(self.faults.latency_ms)
    }

    pub fn roll(&mut self) -> Fault {
        let (server, limit, timeout): (f64, f64, f64) =
            (self.rng.gen(), self.rng.gen(), self.rng.gen());
        let hold = Duration::from_millis(self.faults.timeout_ms);
        if self.faults.down {
            return Fault::Status(503);
        }
        if let Some(status) = self.script.pop_front() {
            return if status == 0 {
                Fault::Timeout(hold)
            } else {
                Fault::Status(status)
            };
        }
        if server < self.faults.server_error_rate {
            Fault::Status(500)
        } else if limit < self.faults.rate_limit_rate {
            Fault::Status(429)
        } else if timeout < self.faults.timeout_rate {
            Fault::Timeout(hold)
        } else {
            Fault::None
        }
    }
}

/// The answer an injected status gets, shaped as the real thing.
pub fn fault_response(status: u16) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match status {
        429 => {
            let mut r = (
                code,
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"message":"Too many requests"}"#,
            )
                .into_response();
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            r
        }
        // Maintenance mode and proxies answer HTML, not JSON.
        502..=504 => (
            code,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body><h1>Service Unavailable</h1></body></html>",
        )
            .into_response(),
        _ => (
            code,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"message":"Internal Error. Details are available in Magento log file. Report ID: webapi-sim"}"#,
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_faults_script_first_down_always() {
        let faults = MagentoFaults {
            server_error_rate: 0.3,
            rate_limit_rate: 0.3,
            seed: 5,
            ..Default::default()
        };
        let rolls = |f: &MagentoFaults| {
            let mut d = FaultDice::new(f.clone());
            (0..50).map(|_| d.roll()).collect::<Vec<_>>()
        };
        assert_eq!(rolls(&faults), rolls(&faults));
        assert!(rolls(&faults).contains(&Fault::None));
        let mut d = FaultDice::new(MagentoFaults {
            script: vec![503, 429],
            ..Default::default()
        });
        assert_eq!(
            [d.roll(), d.roll(), d.roll()],
            [Fault::Status(503), Fault::Status(429), Fault::None]
        );
        let mut d = FaultDice::new(MagentoFaults {
            down: true,
            ..Default::default()
        });
        assert!((0..10).all(|_| d.roll() == Fault::Status(503)));
        assert!(MagentoFaults {
            script: vec![200],
            ..Default::default()
        }
        .validate()
        .is_err());
    }
}
