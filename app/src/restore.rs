//! Self-service point-in-time restore (SPEC §4): restorable accounts with their windows, what
//! existed at a chosen second, starting a restore into a new account, and watching the jobs.
//!
//! The portal's adapters: the operations are `control::restore::operations`, the wire types
//! `domain::restore`.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::authz::ssr::Caller;
use crate::error::AppError;

#[cfg(feature = "ssr")]
pub use control::restore::operations as ssr;
pub use domain::restore::{
    BackupPoint, JOBS_PAGE, MAX_JOBS_PAGE, ResourceEvent, RestorableAccount, RestorableContainer, RestorableDatabase, RestoreJob,
    RestorePlan, parse_restore_time,
};

/// Continuous-backup accounts of a subscription (live and deleted) the caller may see restore
/// points of, with their restorable windows.
#[server(endpoint = "list_restorable_accounts")]
pub async fn list_restorable_accounts(subscription_id: String) -> Result<Vec<RestorableAccount>, AppError> {
    crate::request::respond(
        async move {
            let c = Caller::current().await?;
            ssr::list_restorable(&c.state.ctx(), &c.who, subscription_id).await
        }
        .await,
    )
}

/// The databases and containers that existed in an account at a time, read from its backup.
#[server(endpoint = "restorable_resources")]
pub async fn restorable_resources(subscription_id: String, account_id: String, at: String) -> Result<Vec<RestorableDatabase>, AppError> {
    crate::request::respond(
        async move {
            let c = Caller::current().await?;
            ssr::resources_at(&c.state.ctx(), &c.who, subscription_id, account_id, at).await
        }
        .await,
    )
}

/// Starts a restore of an account (or of some databases/containers, `resources`: `db` or
/// `db/container`, comma-separated; empty = all) as of `restore_at` into a new account.
#[server(endpoint = "start_restore")]
pub async fn start_restore(
    subscription_id: String,
    source_account_id: String,
    restore_at: String,
    target_name: String,
    resources: String,
    ttl_disabled: Option<String>,
) -> Result<RestoreJob, AppError> {
    let form = ssr::StartRestore::from_form(subscription_id, source_account_id, restore_at, target_name, resources, ttl_disabled);
    crate::request::respond(
        async move {
            let c = Caller::current().await?;
            ssr::start(&c.state.ctx(), &c.who, form).await
        }
        .await,
    )
}

/// The plan of a restore into a new account (the same inputs as `start_restore`), checked as
/// starting it would be, without filing it: a dry run.
#[server(endpoint = "preview_restore")]
pub async fn preview_restore(
    subscription_id: String,
    source_account_id: String,
    restore_at: String,
    target_name: String,
    resources: String,
    ttl_disabled: Option<String>,
) -> Result<RestorePlan, AppError> {
    let form = ssr::StartRestore::from_form(subscription_id, source_account_id, restore_at, target_name, resources, ttl_disabled);
    crate::request::respond(
        async move {
            let c = Caller::current().await?;
            ssr::preview(&c.state.ctx(), &c.who, form).await
        }
        .await,
    )
}

/// An account's database and container events from its backup, newest first, with which
/// deletions can be undone in place.
#[server(endpoint = "list_resource_events")]
pub async fn list_resource_events(subscription_id: String, account_id: String) -> Result<Vec<ResourceEvent>, AppError> {
    crate::request::respond(
        async move {
            let c = Caller::current().await?;
            ssr::events(&c.state.ctx(), &c.who, subscription_id, account_id, ssr::Feed::All).await
        }
        .await,
    )
}

/// Restores deleted databases or containers (`resources`: `db` or `db/container`, comma-separated)
/// back into their own live account, as they were at `restore_at`.
#[server(endpoint = "restore_in_place")]
pub async fn restore_in_place(
    subscription_id: String,
    account_id: String,
    restore_at: String,
    resources: String,
) -> Result<RestoreJob, AppError> {
    crate::request::respond(
        async move {
            let c = Caller::current().await?;
            ssr::in_place(&c.state.ctx(), &c.who, subscription_id, account_id, restore_at, resources).await
        }
        .await,
    )
}

/// A periodic-mode account's full backups within retention, newest first.
#[server(endpoint = "list_backups")]
pub async fn list_backups(subscription_id: String, account_id: String) -> Result<Vec<BackupPoint>, AppError> {
    crate::request::respond(
        async move {
            let c = Caller::current().await?;
            ssr::backups(&c.state.ctx(), &c.who, subscription_id, account_id).await
        }
        .await,
    )
}

/// Files a request to restore one of a periodic account's backups (`backup_at`: its time) into a
/// new account (`target_name`, or `<source>-restored<N>` when empty); it runs once approved.
#[server(endpoint = "request_restore")]
pub async fn request_restore(
    subscription_id: String,
    account_id: String,
    backup_at: String,
    target_name: String,
    resources: String,
) -> Result<RestoreJob, AppError> {
    crate::request::respond(
        async move {
            let c = Caller::current().await?;
            ssr::request(&c.state.ctx(), &c.who, subscription_id, account_id, backup_at, target_name, resources).await
        }
        .await,
    )
}

/// Approves (`approve` = `true`) or rejects a restore request awaiting approval.
#[server(endpoint = "decide_restore_request")]
pub async fn decide_restore_request(
    subscription_id: String,
    job_id: String,
    approve: String,
    reason: String,
) -> Result<RestoreJob, AppError> {
    let approve = matches!(approve.as_str(), "true" | "on" | "1" | "approve");
    crate::request::respond(
        async move {
            let c = Caller::current().await?;
            ssr::decide(&c.state.ctx(), &c.who, subscription_id, job_id, approve, reason).await
        }
        .await,
    )
}

/// A page of the subscription's restore jobs the caller may see, newest first: the newest
/// [`JOBS_PAGE`], or those older than job `before`.
#[server(endpoint = "list_restore_jobs")]
pub async fn list_restore_jobs(subscription_id: String, before: Option<String>) -> Result<Vec<RestoreJob>, AppError> {
    crate::request::respond(
        async move {
            let c = Caller::current().await?;
            ssr::list_jobs(&c.state.ctx(), &c.who, subscription_id, before, JOBS_PAGE).await
        }
        .await,
    )
}
