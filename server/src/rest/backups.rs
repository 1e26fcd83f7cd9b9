//! `/subscriptions/{subscription}/accounts/{account}/backups`: where an account's backups stand,
//! what a policy change would drop, verifying them on demand and reading the last verification.

use axum::Json;
use axum::extract::Path;
use axum::extract::rejection::JsonRejection;

use control::verification as ops;
use domain::BackupPolicyChange;
use domain::backup_status::{BackupStatus, PolicyChangePreview};
use domain::verification::{BackupVerification, VerifyRequest};

use super::auth::Authed;
use super::error::{ApiResult, ErrorBody};

/// Verifies the account's backups now: every object its catalog names is present, at its size,
/// in every store of its redundancy — and with `deep`, every copy read, its hash, authentication
/// tag and contents checked. Problems are named by object and store. Kept as the account's last
/// verification and audited.
#[utoipa::path(
    post,
    path = "/subscriptions/{subscription}/accounts/{account}/backups/verify",
    tag = "backups",
    params(("subscription" = String, Path, description = "Subscription id"), ("account" = String, Path, description = "Account name")),
    request_body = VerifyRequest,
    responses(
        (status = 200, description = "The verification's result (passed or not)", body = BackupVerification),
        (status = 400, description = "A body that is not a verify request", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without backups/verify/action on the account", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    )
)]
pub async fn verify(
    Authed(caller): Authed,
    Path((subscription, account)): Path<(String, String)>,
    body: Result<Json<VerifyRequest>, JsonRejection>,
) -> ApiResult<Json<BackupVerification>> {
    let Json(request) = body?;
    Ok(Json(ops::verify_now(&caller.state.ctx(), &caller, subscription, account, request.deep).await?))
}

/// The account's last verification, scheduled, on demand or from `rewind verify`.
#[utoipa::path(
    get,
    path = "/subscriptions/{subscription}/accounts/{account}/backups/verification",
    tag = "backups",
    params(("subscription" = String, Path, description = "Subscription id"), ("account" = String, Path, description = "Account name")),
    responses(
        (status = 200, description = "The last verification", body = BackupVerification),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without backups/read on the account", body = ErrorBody),
        (status = 404, description = "No such account, or never verified", body = ErrorBody),
    )
)]
pub async fn last(Authed(caller): Authed, Path((subscription, account)): Path<(String, String)>) -> ApiResult<Json<BackupVerification>> {
    let last = ops::last(&caller.state.ctx(), &caller, subscription, account.clone()).await?;
    Ok(Json(
        last.ok_or_else(|| domain::error::AppError::NotFound(format!("the backups of account {account:?} have not been verified yet")))?,
    ))
}

/// Where the account's backups stand: policy, restorable window and shipping lag (continuous),
/// backups within retention (periodic), base snapshots and log, storage used now and over time.
#[utoipa::path(
    get,
    path = "/subscriptions/{subscription}/accounts/{account}/backups",
    tag = "backups",
    params(("subscription" = String, Path, description = "Subscription id"), ("account" = String, Path, description = "Account name")),
    responses(
        (status = 200, description = "The account's backups", body = BackupStatus),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without backups/read on the account", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    )
)]
pub async fn status(Authed(caller): Authed, Path((subscription, account)): Path<(String, String)>) -> ApiResult<Json<BackupStatus>> {
    Ok(Json(control::backup_status::status(&caller.state.ctx(), &caller, subscription, account).await?))
}

/// What a backup policy change (as `PATCH …/backupPolicy` takes it) would do, without saving it:
/// the policy after it and the restore points it would drop at once.
#[utoipa::path(
    post,
    path = "/subscriptions/{subscription}/accounts/{account}/backupPolicy/preview",
    tag = "backups",
    params(("subscription" = String, Path, description = "Subscription id"), ("account" = String, Path, description = "Account name")),
    request_body = BackupPolicyChange,
    responses(
        (status = 200, description = "The policy after the change and what it drops", body = PolicyChangePreview),
        (status = 400, description = "A value out of range or a change that is not allowed, named", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without accounts/backupPolicy/write on it", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    )
)]
pub async fn preview_policy(
    Authed(caller): Authed,
    Path((subscription, account)): Path<(String, String)>,
    body: Result<Json<BackupPolicyChange>, JsonRejection>,
) -> ApiResult<Json<PolicyChangePreview>> {
    let Json(change) = body?;
    Ok(Json(control::backup_status::preview_change(&caller.state.ctx(), &caller, subscription, account, change).await?))
}
