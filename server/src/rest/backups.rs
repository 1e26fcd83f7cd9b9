//! `/subscriptions/{subscription}/accounts/{account}/backups`: verifying an account's backups
//! on demand and reading the last verification.

use axum::Json;
use axum::extract::Path;
use axum::extract::rejection::JsonRejection;

use control::verification as ops;
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
