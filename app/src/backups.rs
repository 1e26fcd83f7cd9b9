//! An account's backups in the portal: verifying them now and the last verification.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::authz::ssr::Caller;
use crate::error::AppError;

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
