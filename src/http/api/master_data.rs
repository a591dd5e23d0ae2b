//! The seam through which admin changes are checked against SAP B1 master data.
//! [`super::sap_master_data::SapMasterData`] implements [`MasterDataCheck`] over the SAP client;
//! without SAP configured, no check runs and the change is stored as given (the worker
//! reports any bad code as an exception later).
use futures::future::BoxFuture;

use crate::domain::master_data::{describe, MasterDataKind, MasterDataRef};
use crate::domain::validation::FieldError;

/// SAP could not be asked just now (down, timing out, login refused).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SAP B1 master data cannot be checked now: {0}")]
pub struct CheckUnavailable(pub String);

/// Answers whether SAP B1 knows a code.
pub trait MasterDataCheck: Send + Sync {
    /// `Ok(true)` when the code exists in SAP, `Ok(false)` when SAP says it does not.
    fn exists<'a>(
        &'a self,
        kind: MasterDataKind,
        code: &'a str,
    ) -> BoxFuture<'a, Result<bool, CheckUnavailable>>;
}

/// Checks every reference and returns a field error for each code SAP does not know. When SAP
/// cannot be asked, the check is skipped (logged): an admin must be able to fix a mapping
/// while SAP is down, and the worker will still refuse what SAP refuses.
pub async fn unknown_codes(
    check: Option<&dyn MasterDataCheck>,
    refs: &[MasterDataRef],
) -> Vec<FieldError> {
    let Some(check) = check else {
        return vec![];
    };
    let mut errors = vec![];
    for r in refs {
        match check.exists(r.kind, &r.code).await {
            Ok(true) => {}
            Ok(false) => errors.push(FieldError::new(
                r.field.clone(),
                format!("SAP B1 has no {} '{}'", describe(r.kind), r.code),
            )),
            Err(e) => {
                tracing::warn!(error = %e, "master data check skipped");
                return errors;
            }
        }
    }
    errors
}
