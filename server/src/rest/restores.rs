//! Restorable resources in Cosmos DB's model (restorable database accounts, what existed at a
//! timestamp, the database and container event feed, periodic backups) and restores: start one
//! into a new account (or check its plan first with `dryRun`), in place, or by request for a
//! periodic backup (approve, reject); list and read jobs.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use control::restore::operations::{
    self as ops, BackupPoint, Feed, ResourceEvent, RestorableAccount, RestorableDatabase, RestoreJob, RestorePlan, StartRestore,
};

use super::auth::Authed;
use super::error::{ApiResult, ErrorBody};

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
        (status = 403, description = "No role in or over the subscription", body = ErrorBody),
        (status = 404, description = "No such subscription visible to the caller", body = ErrorBody),
    )
)]
pub async fn restorable_accounts(Authed(caller): Authed, Path(subscription): Path<String>) -> ApiResult<Json<Vec<RestorableAccount>>> {
    Ok(Json(ops::list_restorable(&caller.state.ctx(), &caller, subscription).await?))
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
    Ok(Json(ops::resources_at(&caller.state.ctx(), &caller, subscription, account, at.restore_timestamp).await?))
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
    Ok(Json(ops::events(&caller.state.ctx(), &caller, subscription, account, Feed::All).await?))
}

/// The account's database events (create, replace, delete), newest first: Cosmos DB's
/// restorable SQL databases.
#[utoipa::path(
    get,
    path = "/subscriptions/{subscription}/restorableDatabaseAccounts/{account}/restorableSqlDatabases",
    tag = "restore",
    params(("subscription" = String, Path, description = "Subscription id"), ("account" = String, Path, description = "Account id")),
    responses(
        (status = 200, description = "Database events", body = Vec<ResourceEvent>),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without restorableAccounts/read on the account", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    )
)]
pub async fn database_events(
    Authed(caller): Authed,
    Path((subscription, account)): Path<(String, String)>,
) -> ApiResult<Json<Vec<ResourceEvent>>> {
    Ok(Json(ops::events(&caller.state.ctx(), &caller, subscription, account, Feed::Databases).await?))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OfDatabase {
    /// Only this database's containers (its name); all databases' when absent.
    database: Option<String>,
}

/// The account's container events (create, replace, delete), newest first, of every database or
/// of one: Cosmos DB's restorable SQL containers.
#[utoipa::path(
    get,
    path = "/subscriptions/{subscription}/restorableDatabaseAccounts/{account}/restorableSqlContainers",
    tag = "restore",
    params(("subscription" = String, Path, description = "Subscription id"), ("account" = String, Path, description = "Account id"), OfDatabase),
    responses(
        (status = 200, description = "Container events", body = Vec<ResourceEvent>),
        (status = 400, description = "An unknown query parameter", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without restorableAccounts/read on the account", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    )
)]
pub async fn container_events(
    Authed(caller): Authed,
    Path((subscription, account)): Path<(String, String)>,
    of: Result<Query<OfDatabase>, QueryRejection>,
) -> ApiResult<Json<Vec<ResourceEvent>>> {
    let Query(OfDatabase { database }) = of?;
    Ok(Json(ops::events(&caller.state.ctx(), &caller, subscription, account, Feed::Containers { database }).await?))
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
    let resources = body.resources.join("\n");
    let input = StartRestore {
        subscription_id: subscription,
        source_account_id: body.source_account_id,
        restore_at: body.restore_timestamp,
        target_name: body.target_account_name,
        resources,
        ttl_disabled: body.disable_ttl,
    };
    Ok(if dry.dry_run {
        (StatusCode::OK, Json(ops::preview(&caller.state.ctx(), &caller, input).await?)).into_response()
    } else {
        (StatusCode::ACCEPTED, Json(ops::start(&caller.state.ctx(), &caller, input).await?)).into_response()
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JobsPage {
    /// At most this many jobs (1–1000; default 50).
    limit: Option<u64>,
    /// Only jobs older than this one (the last id of the previous page).
    before: Option<String>,
}

/// A page of the subscription's restore jobs the caller may see, newest first; a page shorter
/// than `limit` is the last.
#[utoipa::path(
    get,
    path = "/subscriptions/{subscription}/restores",
    tag = "restore",
    params(("subscription" = String, Path, description = "Subscription id"), JobsPage),
    responses(
        (status = 200, description = "Jobs", body = Vec<RestoreJob>),
        (status = 400, description = "A limit out of range, or a `before` that is not a job of the subscription", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "No role in or over the subscription", body = ErrorBody),
        (status = 404, description = "No such subscription visible to the caller", body = ErrorBody),
    )
)]
pub async fn list(
    Authed(caller): Authed,
    Path(subscription): Path<String>,
    page: Result<Query<JobsPage>, QueryRejection>,
) -> ApiResult<Json<Vec<RestoreJob>>> {
    let Query(page) = page?;
    Ok(Json(
        ops::list_jobs(&caller.state.ctx(), &caller, subscription, page.before, page.limit.unwrap_or(domain::restore::JOBS_PAGE)).await?,
    ))
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
        (status = 403, description = "No role in or over the subscription", body = ErrorBody),
        (status = 404, description = "No such job visible to the caller", body = ErrorBody),
    )
)]
pub async fn get(Authed(caller): Authed, Path((subscription, job)): Path<(String, String)>) -> ApiResult<Json<RestoreJob>> {
    Ok(Json(ops::job(&caller.state.ctx(), &caller, subscription, job).await?))
}

/// Deleted databases or containers brought back into their own (live) account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InPlaceBody {
    /// A second before the deletion (see the events), inside the restorable window.
    restore_timestamp: String,
    /// `db` or `db/container` entries, each deleted now and existing then.
    resources: Vec<String>,
}

/// Restores deleted databases or containers into the same account (202 with the job).
#[utoipa::path(
    post,
    path = "/subscriptions/{subscription}/restorableDatabaseAccounts/{account}/restoreInPlace",
    tag = "restore",
    params(("subscription" = String, Path, description = "Subscription id"), ("account" = String, Path, description = "Account id")),
    request_body = InPlaceBody,
    responses(
        (status = 202, description = "Filed; the job", body = RestoreJob),
        (status = 400, description = "A resource that is live or did not exist then, a time outside the window", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without the restore action and accounts/write on the account", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    )
)]
pub async fn restore_in_place(
    Authed(caller): Authed,
    Path((subscription, account)): Path<(String, String)>,
    body: Result<Json<InPlaceBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<RestoreJob>)> {
    let Json(body) = body?;
    let resources = body.resources.join("\n");
    Ok((
        StatusCode::ACCEPTED,
        Json(ops::in_place(&caller.state.ctx(), &caller, subscription, account, body.restore_timestamp, resources).await?),
    ))
}

/// A periodic-mode account's full backups (its restore points), newest first.
#[utoipa::path(
    get,
    path = "/subscriptions/{subscription}/restorableDatabaseAccounts/{account}/backups",
    tag = "restore",
    params(("subscription" = String, Path, description = "Subscription id"), ("account" = String, Path, description = "Account id")),
    responses(
        (status = 200, description = "Backups", body = Vec<BackupPoint>),
        (status = 400, description = "The account uses continuous backup", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without restoreRequests/read on the account", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    )
)]
pub async fn backups(Authed(caller): Authed, Path((subscription, account)): Path<(String, String)>) -> ApiResult<Json<Vec<BackupPoint>>> {
    Ok(Json(ops::backups(&caller.state.ctx(), &caller, subscription, account).await?))
}

/// A request to restore a periodic backup, for someone else to approve.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RestoreRequestBody {
    source_account_id: String,
    /// The backup's time, as listed by `backups`.
    backup_timestamp: String,
    target_account_name: String,
    #[serde(default)]
    resources: Vec<String>,
}

/// Files a restore request for a periodic backup (202 with the job, `AwaitingApproval`).
#[utoipa::path(
    post,
    path = "/subscriptions/{subscription}/restoreRequests",
    tag = "restore",
    params(("subscription" = String, Path, description = "Subscription id")),
    request_body = RestoreRequestBody,
    responses(
        (status = 202, description = "Filed; the job awaiting approval", body = RestoreJob),
        (status = 400, description = "No such backup, a bad name or selection", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without restoreRequests/write on the account", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    )
)]
pub async fn request(
    Authed(caller): Authed,
    Path(subscription): Path<String>,
    body: Result<Json<RestoreRequestBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<RestoreJob>)> {
    let Json(b) = body?;
    let resources = b.resources.join("\n");
    let job =
        ops::request(&caller.state.ctx(), &caller, subscription, b.source_account_id, b.backup_timestamp, b.target_account_name, resources)
            .await?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DecisionBody {
    /// Why (required to reject; kept on the job and in the audit log).
    #[serde(default)]
    reason: String,
}

async fn decide(
    caller: &super::auth::Caller,
    subscription: String,
    job: String,
    approve: bool,
    body: Result<Json<DecisionBody>, JsonRejection>,
) -> ApiResult<Json<RestoreJob>> {
    // An empty body is an empty reason.
    let reason = match body {
        Ok(Json(b)) => b.reason,
        Err(JsonRejection::MissingJsonContentType(_)) => String::new(),
        Err(e) => return Err(e.into()),
    };
    Ok(Json(ops::decide(&caller.state.ctx(), caller, subscription, job, approve, reason).await?))
}

/// Approves a restore request filed by someone else; the restore then runs.
#[utoipa::path(
    post,
    path = "/subscriptions/{subscription}/restores/{job}/approve",
    tag = "restore",
    params(("subscription" = String, Path, description = "Subscription id"), ("job" = String, Path, description = "Job id")),
    request_body(content = DecisionBody, description = "Optional"),
    responses(
        (status = 200, description = "The job, now pending", body = RestoreJob),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without restoreRequests/approve/action, or one's own request", body = ErrorBody),
        (status = 404, description = "No such request", body = ErrorBody),
        (status = 409, description = "Not awaiting approval", body = ErrorBody),
    )
)]
pub async fn approve(
    Authed(caller): Authed,
    Path((subscription, job)): Path<(String, String)>,
    body: Result<Json<DecisionBody>, JsonRejection>,
) -> ApiResult<Json<RestoreJob>> {
    decide(&caller, subscription, job, true, body).await
}

/// Rejects a restore request, with a reason.
#[utoipa::path(
    post,
    path = "/subscriptions/{subscription}/restores/{job}/reject",
    tag = "restore",
    params(("subscription" = String, Path, description = "Subscription id"), ("job" = String, Path, description = "Job id")),
    request_body = DecisionBody,
    responses(
        (status = 200, description = "The job, now rejected", body = RestoreJob),
        (status = 400, description = "No reason given", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without restoreRequests/approve/action", body = ErrorBody),
        (status = 404, description = "No such request", body = ErrorBody),
        (status = 409, description = "Not awaiting approval", body = ErrorBody),
    )
)]
pub async fn reject(
    Authed(caller): Authed,
    Path((subscription, job)): Path<(String, String)>,
    body: Result<Json<DecisionBody>, JsonRejection>,
) -> ApiResult<Json<RestoreJob>> {
    decide(&caller, subscription, job, false, body).await
}
