//! Reading the audit log, as callers do: who may read which entries (SPEC §5). The ledger
//! itself — append, verify, query — is [`crate::audit`], which needs only the database.

use domain::audit::{AuditEntry, AuditFilter, ChainReport};
use domain::error::AppError;
use domain::rbac::{Scope, actions};

use crate::audit::{query, verify};
use crate::authz::Caller;

/// The scope whose `auditLog/read` is needed, and the scope prefix to filter entries by: the
/// whole log at the root (`subscription_id` empty), or one subscription's entries.
fn audit_scope(subscription_id: &str) -> (Scope, Option<String>) {
    if subscription_id.is_empty() {
        (Scope::Root, None)
    } else {
        let scope = Scope::Subscription(subscription_id.to_owned());
        let prefix = scope.to_string();
        (scope, Some(prefix))
    }
}

/// Entries the caller may read, newest first, at most `limit`: the whole log with
/// `auditLog/read` at the root, or one subscription's entries with it on that subscription.
///
/// # Errors
/// 403 without `auditLog/read` there; 400 for malformed filters.
pub async fn read(caller: &Caller, subscription_id: &str, filter: &AuditFilter, limit: u64) -> Result<Vec<AuditEntry>, AppError> {
    let (scope, prefix) = audit_scope(subscription_id);
    caller.authorize(actions::AUDIT_LOG_READ, &scope, &scope.to_string()).await?;
    query(&caller.db, filter, prefix.as_deref(), limit).await
}

/// Walks the whole chain; needs `auditLog/read` at the root.
///
/// # Errors
/// 403 without it.
pub async fn verify_chain(caller: &Caller) -> Result<ChainReport, AppError> {
    caller.authorize(actions::AUDIT_LOG_READ, &Scope::Root, "/").await?;
    verify(&caller.db).await
}
