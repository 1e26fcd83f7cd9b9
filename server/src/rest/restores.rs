//! Restorable resources in Cosmos DB's model (restorable database accounts, what existed at a
//! timestamp, the database and container event feed) and restores: start one into a new account
//! (or check its plan first with `dryRun`), list and read jobs.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use app::restore::ssr::{self, StartRestore};
use app::restore::{ResourceEvent, RestorableAccount, RestorableDatabase, RestoreJob, RestorePlan};
use domain::error::AppError;

use super::auth::Authed;
use super::error::{ApiError, ApiResult, ErrorBody};

/// The most databases and containers one restore may name.
pub const MAX_RESOURCES: usize = 1_000;

/// The subscription's accounts with continuous backup (live and deleted) whose restore points
/// the caller may see, with their restorable windows; periodic ones the caller may request.
#[utoipa::path(
    get,
    path = "/subscriptions/{subscription}/restorableDatabaseAccounts",
    tag = "restore",
    params(("subscription" = String, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "Restorable accounts", body = Vec<RestorableAccount>),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 404, description = "No such subscription visible to the caller", body = ErrorBody),
    )
)]
pub async fn restorable_accounts(Authed(caller): Authed, Path(subscription): Path<String>) -> ApiResult<Json<Vec<RestorableAccount>>> {
    Ok(Json(ssr::list_restorable(&caller, subscription).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct AtTime {
    /// The second to look at (RFC 3339, e.g. `2026-11-26T07:00:00Z`), inside the restorable window.
    restore_timestamp: String,
}

/// The databases and containers that existed in the account at `restoreTimestamp`.
#[utoipa::path(
    get,
    path = "/subscriptions/{subscription}/restorableDatabaseAccounts/{account}/restorableSqlResources",
    tag = "restore",
    params(("subscription" = String, Path, description = "Subscription id"), ("account" = String, Path, description = "Account id"), AtTime),
    responses(
        (status = 200, description = "Databases with their containers", body = Vec<RestorableDatabase>),
        (status = 400, description = "A malformed time, or one outside the restorable window", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without restorableAccounts/read on the account", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    )
)]
pub async fn restorable_resources(
    Authed(caller): Authed,
    Path((subscription, account)): Path<(String, String)>,
    at: Result<Query<AtTime>, QueryRejection>,
) -> ApiResult<Json<Vec<RestorableDatabase>>> {
    let Query(at) = at?;
    Ok(Json(ssr::resources_at(&caller, subscription, account, at.restore_timestamp).await?))
}

/// The account's database and container events (create, replace, delete), newest first.
#[utoipa::path(
    get,
    path = "/subscriptions/{subscription}/restorableDatabaseAccounts/{account}/events",
    tag = "restore",
    params(("subscription" = String, Path, description = "Subscription id"), ("account" = String, Path, description = "Account id")),
    responses(
        (status = 200, description = "Events", body = Vec<ResourceEvent>),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without restorableAccounts/read on the account", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    )
)]
pub async fn events(Authed(caller): Authed, Path((subscription, account)): Path<(String, String)>) -> ApiResult<Json<Vec<ResourceEvent>>> {
    Ok(Json(ssr::events(&caller, subscription, account).await?))
}

/// A restore into a new account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartRestoreBody {
    /// The source account's id (see restorableDatabaseAccounts; a deleted account keeps its id).
    source_account_id: String,
    /// The second to restore to (RFC 3339), inside the source's restorable window.
    restore_timestamp: String,
    /// The new account's name (must be free).
    target_account_name: String,
    /// `db` or `db/container` entries; empty or absent restores the whole account.
    #[serde(default)]
    resources: Vec<String>,
    /// Restore with time-to-live off, so no restored item expires at once.
    #[serde(default)]
    disable_ttl: bool,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct DryRun {
    /// Only check and plan: answer what the restore would do, file nothing.
    #[serde(default)]
    dry_run: bool,
}

/// Starts a restore into a new account (202 with the job), or with `dryRun=true` answers its
/// plan (200) and files nothing. The job runs in the background: poll it until `state` is
/// `Succeeded` or `Failed`.
#[utoipa::path(
    post,
    path = "/subscriptions/{subscription}/restores",
    tag = "restore",
    params(("subscription" = String, Path, description = "Subscription id"), DryRun),
    request_body = StartRestoreBody,
    responses(
        (status = 202, description = "Filed; the job", body = RestoreJob),
        (status = 200, description = "Dry run: the plan", body = RestorePlan),
        (status = 400, description = "A malformed body, a time outside the window, an unknown resource", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without restorableAccounts/restore/action on the source or accounts/write in the subscription", body = ErrorBody),
        (status = 409, description = "The target name is taken, or the source has 3 restores running", body = ErrorBody),
    )
)]
pub async fn start(
    Authed(caller): Authed,
    Path(subscription): Path<String>,
    dry: Result<Query<DryRun>, QueryRejection>,
    body: Result<Json<StartRestoreBody>, JsonRejection>,
) -> ApiResult<Response> {
    let Query(dry) = dry?;
    let Json(body) = body?;
    if body.resources.len() > MAX_RESOURCES {
        return Err(ApiError(AppError::invalid(format!(
            "a restore names at most {MAX_RESOURCES} resources (got {})",
            body.resources.len()
        ))));
    }
    let input = StartRestore {
        subscription_id: subscription,
        source_account_id: body.source_account_id,
        restore_at: body.restore_timestamp,
        target_name: body.target_account_name,
        resources: body.resources.join("\n"),
        ttl_disabled: body.disable_ttl,
    };
    Ok(if dry.dry_run {
        (StatusCode::OK, Json(ssr::preview(&caller, input).await?)).into_response()
    } else {
        (StatusCode::ACCEPTED, Json(ssr::start(&caller, input).await?)).into_response()
    })
}

/// The subscription's restore jobs the caller may see, newest first.
#[utoipa::path(
    get,
    path = "/subscriptions/{subscription}/restores",
    tag = "restore",
    params(("subscription" = String, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "Jobs", body = Vec<RestoreJob>),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 404, description = "No such subscription visible to the caller", body = ErrorBody),
    )
)]
pub async fn list(Authed(caller): Authed, Path(subscription): Path<String>) -> ApiResult<Json<Vec<RestoreJob>>> {
    Ok(Json(ssr::list_jobs(&caller, subscription).await?))
}

/// One restore job: its state, phase and progress.
#[utoipa::path(
    get,
    path = "/subscriptions/{subscription}/restores/{job}",
    tag = "restore",
    params(("subscription" = String, Path, description = "Subscription id"), ("job" = String, Path, description = "Job id")),
    responses(
        (status = 200, description = "The job", body = RestoreJob),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 404, description = "No such job visible to the caller", body = ErrorBody),
    )
)]
pub async fn get(Authed(caller): Authed, Path((subscription, job)): Path<(String, String)>) -> ApiResult<Json<RestoreJob>> {
    Ok(Json(ssr::job(&caller, subscription, job).await?))
}
