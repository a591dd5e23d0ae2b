//! Fault injection, seeded and deterministic: the same seed and the same sequence of requests
//! give the same faults. Every request rolls the dice the same number of times, whatever it
//! is, so one request's kind cannot shift the faults of the next.
use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Fault settings; rates are probabilities per request in `[0, 1]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Writes answered with 400 -2039 ("another user modified data") and not applied.
    pub lock_error_rate: f64,
    /// Any request answered by the load balancer with 502/503 `{"message":"Service
    /// Unavailable"}` or an empty-body 500.
    pub server_error_rate: f64,
    /// Added to every request before it is handled, outside any lock.
    pub latency_ms: u64,
    /// Added to creates and actions (every POST but `Login` and service calls) after
    /// `latency_ms`: a slow
    /// commit. The Service Layer finishes the work even when the client has given up.
    pub write_latency_ms: u64,
    /// Successful writes (creates, actions such as `Cancel` and `Close`, updates) that are
    /// committed and then lose their response (the connection is dropped).
    pub lost_response_rate: f64,
    /// Seed of the dice; setting faults restarts the sequence.
    pub seed: u64,
}

/// Why fault settings were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} must be between 0 and 1")]
pub struct InvalidFaults(pub &'static str);

impl Faults {
    pub fn validate(&self) -> Result<(), InvalidFaults> {
        for (name, rate) in [
            ("lock_error_rate", self.lock_error_rate),
            ("server_error_rate", self.server_error_rate),
            ("lost_response_rate", self.lost_response_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(InvalidFaults(name));
            }
        }
        Ok(())
    }
}

/// What the dice decided for one request; each handler applies what concerns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultRoll {
    pub latency: Duration,
    pub write_latency: Duration,
    pub server_error: Option<ServerError>,
    pub lock_error: bool,
    pub lost_response: bool,
}

/// The infrastructure failures a Service Layer behind its Apache balancer shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerError {
    BadGateway,
    ServiceUnavailable,
    EmptyInternal,
}

impl ServerError {
    /// The balancer's answer: `{"message":"Service Unavailable"}` (GUIDE p.150) or an empty
    /// 500 (reference §8).
    pub fn response(self) -> Response {
        let (status, body) = match self {
            ServerError::BadGateway => (
                StatusCode::BAD_GATEWAY,
                Some(r#"{"message":"Service Unavailable"}"#),
            ),
            ServerError::ServiceUnavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                Some(r#"{"message":"Service Unavailable"}"#),
            ),
            ServerError::EmptyInternal => (StatusCode::INTERNAL_SERVER_ERROR, None),
        };
        let mut response = Response::new(body.map(Body::from).unwrap_or_else(Body::empty));
        *response.status_mut() = status;
        if body.is_some() {
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        response
    }
}

pub struct FaultDice {
    faults: Faults,
    rng: SmallRng,
}

impl FaultDice {
    pub fn new(faults: Faults) -> Self {
        Self {
            rng: SmallRng::seed_from_u64(faults.seed),
            faults,
        }
    }

    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    pub fn roll(&mut self) -> FaultRoll {
        let server: f64 = self.rng.gen();
        let kind = match self.rng.gen_range(0..3) {
            0 => ServerError::BadGateway,
            1 => ServerError::ServiceUnavailable,
            _ => ServerError::EmptyInternal,
        };
        let lock: f64 = self.rng.gen();
        let lost: f64 = self.rng.gen();
        FaultRoll {
            latency: Duration::from_millis(self.faults.latency_ms),
            write_latency: Duration::from_millis(self.faults.write_latency_ms),
            server_error: (server < self.faults.server_error_rate).then_some(kind),
            lock_error: lock < self.faults.lock_error_rate,
            lost_response: lost < self.faults.lost_response_rate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults(seed: u64) -> Faults {
        Faults {
            lock_error_rate: 0.3,
            server_error_rate: 0.3,
            lost_response_rate: 0.3,
            seed,
            ..Default::default()
        }
    }

    #[test]
    fn same_seed_gives_the_same_faults_and_another_seed_differs() {
        let rolls = |seed| {
            let mut dice = FaultDice::new(faults(seed));
            (0..64).map(|_| dice.roll()).collect::<Vec<_>>()
        };
        assert_eq!(rolls(7), rolls(7));
        assert_ne!(rolls(7), rolls(8));
        assert!(rolls(7).iter().any(|r| r.server_error.is_some()));
        assert!(rolls(7).iter().any(|r| r.server_error.is_none()));
    }

    #[test]
    fn zero_rates_never_fault_and_one_always_does() {
        let mut dice = FaultDice::new(Faults::default());
        assert!((0..100)
            .map(|_| dice.roll())
            .all(|r| r.server_error.is_none() && !r.lock_error && !r.lost_response));
        let mut dice = FaultDice::new(Faults {
            lock_error_rate: 1.0,
            ..Default::default()
        });
        assert!((0..100).all(|_| dice.roll().lock_error));
    }

    #[test]
    fn rates_outside_zero_to_one_are_refused() {
        assert!(Faults {
            server_error_rate: 1.5,
            ..Default::default()
        }
        .validate()
        .is_err());
        assert!(faults(1).validate().is_ok());
    }
}
