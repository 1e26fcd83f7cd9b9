//! The audit log (SPEC §5): every state-changing action and every denied attempt, append-only
//! and hash-chained so that a row altered or removed behind the application's back is detected.
//! The portal's adapters; the rules are `control::audit` and `control::audit_log`.

use leptos::prelude::*;

use crate::error::AppError;

pub use domain::audit::{AuditEntry, AuditFilter, ChainReport, Outcome};

/// How many entries the portal's audit page shows at most.
#[cfg(feature = "ssr")]
const PAGE_LIMIT: u64 = 500;

/// Audit entries, newest first (at most 500), filtered; `subscription_id` empty for the whole log.
#[server(endpoint = "list_audit")]
pub async fn list_audit(
    subscription_id: String,
    from: String,
    to: String,
    user: String,
    action: String,
    outcome: String,
) -> Result<Vec<AuditEntry>, AppError> {
    use crate::authz::ssr::Caller;
    let filter = AuditFilter { from, to, user, action, outcome };
    crate::request::respond(
        async move { control::audit_log::read(&Caller::current().await?.who, &subscription_id, &filter, PAGE_LIMIT).await }.await,
    )
}

/// Walks the audit chain and reports whether it is intact.
#[server(endpoint = "verify_audit_chain")]
pub async fn verify_audit_chain() -> Result<ChainReport, AppError> {
    use crate::authz::ssr::Caller;
    crate::request::respond(async move { control::audit_log::verify_chain(&Caller::current().await?.who).await }.await)
}
