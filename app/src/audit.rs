//! The audit log (SPEC §5): every state-changing action and every denied attempt, append-only
//! and hash-chained so that a row altered or removed behind the application's back is detected.

use leptos::prelude::*;

use crate::error::AppError;

pub use domain::audit::{AuditEntry, AuditFilter, ChainReport, Outcome};

#[cfg(feature = "ssr")]
pub use control::audit_bursts::Bursts;

#[cfg(feature = "ssr")]
pub mod ssr {
    use control::audit::{query, verify};

    use super::{AuditEntry, AuditFilter, ChainReport};
    use crate::authz::ssr::Caller;
    use crate::domain::rbac::{Scope, actions};
    use crate::error::AppError;

    /// The scope whose `auditLog/read` is needed, and the scope prefix to filter entries by.
    fn audit_scope(subscription_id: &str) -> (Scope, Option<String>) {
        if subscription_id.is_empty() {
            (Scope::Root, None)
        } else {
            let scope = Scope::Subscription(subscription_id.to_owned());
            let prefix = scope.to_string();
            (scope, Some(prefix))
        }
    }

    /// Entries the caller may read: the whole log with `auditLog/read` at the root, or one
    /// subscription's entries with it on that subscription.
    ///
    /// # Errors
    /// 403 without `auditLog/read` there; 400 for malformed filters.
    pub async fn list_for_caller(subscription_id: String, filter: AuditFilter) -> Result<Vec<AuditEntry>, AppError> {
        let caller = Caller::current().await?;
        list_with(&caller, &subscription_id, &filter, 500).await
    }

    /// [`list_for_caller`] for an already known caller, with a row limit (exports take more).
    ///
    /// # Errors
    /// 403 without `auditLog/read` there; 400 for malformed filters.
    pub async fn list_with(caller: &Caller, subscription_id: &str, filter: &AuditFilter, limit: u64) -> Result<Vec<AuditEntry>, AppError> {
        let (scope, prefix) = audit_scope(subscription_id);
        caller.authorize(actions::AUDIT_LOG_READ, &scope, &scope.to_string()).await?;
        query(&caller.state.db, filter, prefix.as_deref(), limit).await
    }

    /// Checks the chain; needs `auditLog/read` at the root.
    ///
    /// # Errors
    /// 403 without it.
    pub async fn verify_for_caller() -> Result<ChainReport, AppError> {
        let caller = Caller::current().await?;
        caller.authorize(actions::AUDIT_LOG_READ, &Scope::Root, "/").await?;
        verify(&caller.state.db).await
    }
}

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
    let filter = AuditFilter { from, to, user, action, outcome };
    crate::request::respond(ssr::list_for_caller(subscription_id, filter).await)
}

/// Walks the audit chain and reports whether it is intact.
#[server(endpoint = "verify_audit_chain")]
pub async fn verify_audit_chain() -> Result<ChainReport, AppError> {
    crate::request::respond(ssr::verify_for_caller().await)
}
