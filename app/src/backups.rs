//! An account's backups in the portal: where they stand, changing the policy (with what a change
//! would drop, shown first), verifying them now and the last verification.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::authz::ssr::Caller;
use crate::error::AppError;

use domain::Account;
#[cfg(feature = "ssr")]
use domain::BackupPolicyChange;
pub use domain::backup_status::{BackupStatus, PolicyChangePreview, UsageSample};
pub use domain::verification::BackupVerification;

/// Verifies the account's backups now (`deep`: read every copy).
#[server(endpoint = "verify_backups")]
pub async fn verify_backups(subscription_id: String, name: String, deep: Option<String>) -> Result<BackupVerification, AppError> {
    let deep = deep.is_some_and(|d| d == "on" || d == "true");
    crate::request::respond(
        async move {
            let c = Caller::current().await?;
            control::verification::verify_now(&c.state.ctx(), &c.who, subscription_id, name, deep).await
        }
        .await,
    )
}

/// The account's last verification, if it was ever verified.
#[server(endpoint = "last_verification")]
pub async fn last_verification(subscription_id: String, name: String) -> Result<Option<BackupVerification>, AppError> {
    crate::request::respond(
        async move {
            let c = Caller::current().await?;
            control::verification::last(&c.state.ctx(), &c.who, subscription_id, name).await
        }
        .await,
    )
}

/// Where the account's backups stand now.
#[server(endpoint = "backup_status")]
pub async fn get_backup_status(subscription_id: String, name: String) -> Result<BackupStatus, AppError> {
    crate::request::respond(
        async move {
            let c = Caller::current().await?;
            control::backup_status::status(&c.state.ctx(), &c.who, subscription_id, name).await
        }
        .await,
    )
}

/// The form's fields as a change: blank fields are left as they are.
#[cfg(feature = "ssr")]
fn policy_change(
    mode: Option<String>,
    interval_hours: Option<String>,
    retention_hours: Option<String>,
    redundancy: Option<String>,
) -> Result<BackupPolicyChange, AppError> {
    let hours = |field: &str, v: Option<String>| -> Result<Option<u32>, AppError> {
        match v.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(t) => t.parse().map(Some).map_err(|_| AppError::invalid(format!("{field} must be a whole number of hours (got {t:?})"))),
        }
    };
    Ok(BackupPolicyChange {
        mode,
        interval_hours: hours("backup interval", interval_hours)?,
        retention_hours: hours("backup retention", retention_hours)?,
        redundancy,
    })
}

/// What saving the policy form would do: the policy after it and the restore points it drops.
#[server(endpoint = "preview_backup_policy")]
pub async fn preview_backup_policy(
    subscription_id: String,
    name: String,
    mode: Option<String>,
    interval_hours: Option<String>,
    retention_hours: Option<String>,
    redundancy: Option<String>,
) -> Result<PolicyChangePreview, AppError> {
    crate::request::respond(
        async move {
            let change = policy_change(mode, interval_hours, retention_hours, redundancy)?;
            let c = Caller::current().await?;
            control::backup_status::preview_change(&c.state.ctx(), &c.who, subscription_id, name, change).await
        }
        .await,
    )
}

/// Saves the policy form.
#[server(endpoint = "change_backup_policy")]
pub async fn change_backup_policy(
    subscription_id: String,
    name: String,
    mode: Option<String>,
    interval_hours: Option<String>,
    retention_hours: Option<String>,
    redundancy: Option<String>,
) -> Result<Account, AppError> {
    crate::request::respond(
        async move {
            let change = policy_change(mode, interval_hours, retention_hours, redundancy)?;
            let c = Caller::current().await?;
            control::accounts::change_backup_policy(&c.state.ctx(), &c.who, subscription_id, name, change).await
        }
        .await,
    )
}
