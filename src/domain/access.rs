//! Who may do what through the operators' API: roles and API token secrets.
//! Pure: randomness comes from the caller, hashing is a computation.
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// A token's role. Ordered: every role may do what the roles below it may.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything.
    Viewer,
    /// Also acts on exceptions and orders (retry, resolve, ignore).
    Operator,
    /// Also changes mappings and settings.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether a caller with this role may do what `required` allows.
    pub fn allows(self, required: Role) -> bool {
        self >= required
    }
}

/// The prefix of minted secrets, so a leaked one is recognisable (e.g. by secret scanners).
pub const SECRET_PREFIX: &str = "b1b_";

/// A fresh token secret: `b1b_` + 32 random bytes in unpadded base64url.
pub fn new_secret(rng: &mut impl rand::RngCore) -> String {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// What is stored and compared instead of a secret: its SHA-256, hex. Secrets are long and
/// random, so a fast hash suffices (no password stretching needed).
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A token name as it appears in the audit log: 1–64 of `A-Z a-z 0-9 . _ - @`.
pub fn valid_token_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn roles_are_ordered_viewer_operator_admin() {
        assert!(Role::Admin.allows(Role::Operator) && Role::Admin.allows(Role::Viewer));
        assert!(Role::Operator.allows(Role::Viewer) && Role::Operator.allows(Role::Operator));
        assert!(!Role::Operator.allows(Role::Admin));
        assert!(!Role::Viewer.allows(Role::Operator));
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn secrets_are_prefixed_random_and_hash_to_hex_sha256() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let a = new_secret(&mut rng);
        let b = new_secret(&mut rng);
        assert_ne!(a, b);
        assert!(a.starts_with("b1b_") && a.len() == 4 + 43, "{a}");
        assert_eq!(
            secret_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn token_names_are_short_and_printable() {
        assert!(valid_token_name("ops-anna@example.com"));
        assert!(!valid_token_name(""));
        assert!(!valid_token_name("a b"));
        assert!(!valid_token_name("x:y"));
        assert!(!valid_token_name(&"a".repeat(65)));
    }
}
