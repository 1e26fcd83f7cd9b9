//! `/subscriptions/{subscription}/accounts`: database accounts — list, read, create, delete,
//! read and regenerate keys.

use axum::Json;
use axum::extract::Path;
use axum::extract::rejection::JsonRejection;
use http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use control::accounts::{self as ops, Account, AccountKeys};
use domain::{BackupPolicyChange, BackupPolicyInput, KeyKind};

use super::auth::Authed;
use super::error::{ApiResult, ErrorBody};

/// The subscription's accounts the caller may read, live and deleted.
#[utoipa::path(
    get,
    path = "/subscriptions/{subscription}/accounts",
    tag = "accounts",
    params(("subscription" = String, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "The accounts", body = Vec<Account>),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "No role in or over the subscription", body = ErrorBody),
        (status = 404, description = "No such subscription visible to the caller", body = ErrorBody),
    )
)]
pub async fn list(Authed(caller): Authed, Path(subscription): Path<String>) -> ApiResult<Json<Vec<Account>>> {
    Ok(Json(ops::list(&caller.state.ctx(), &caller, subscription).await?))
}

/// One account, by name.
#[utoipa::path(
    get,
    path = "/subscriptions/{subscription}/accounts/{account}",
    tag = "accounts",
    params(("subscription" = String, Path, description = "Subscription id"), ("account" = String, Path, description = "Account name")),
    responses(
        (status = 200, description = "The account", body = Account),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without accounts/read on it", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    )
)]
pub async fn get(Authed(caller): Authed, Path((subscription, account)): Path<(String, String)>) -> ApiResult<Json<Account>> {
    Ok(Json(ops::get(&caller.state.ctx(), &caller, subscription, account).await?))
}

/// A new account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateAccountBody {
    /// 3–44 lowercase letters, digits and hyphens.
    name: String,
    region: String,
    #[serde(default)]
    backup_policy: PolicyBody,
    /// A customer-managed key (a name from `GET …/customerKeys`) to wrap the account's backup
    /// data key; absent: the service-managed key.
    customer_key: Option<String>,
}

/// The backup policy; absent fields take Cosmos DB's defaults (periodic, every 4 h, kept 8 h, Geo).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyBody {
    /// `Periodic`, `Continuous7Days` or `Continuous30Days`.
    #[serde(default)]
    mode: String,
    interval_hours: Option<u32>,
    retention_hours: Option<u32>,
    /// `Local`, `Zone` or `Geo`.
    redundancy: Option<String>,
}

/// Creates an account in the subscription.
#[utoipa::path(
    post,
    path = "/subscriptions/{subscription}/accounts",
    tag = "accounts",
    params(("subscription" = String, Path, description = "Subscription id")),
    request_body = CreateAccountBody,
    responses(
        (status = 201, description = "Created", body = Account),
        (status = 400, description = "A bad name, region or policy, named", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without accounts/write in the subscription", body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody),
    )
)]
pub async fn create(
    Authed(caller): Authed,
    Path(subscription): Path<String>,
    body: Result<Json<CreateAccountBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Account>)> {
    let Json(body) = body?;
    let p = body.backup_policy;
    let policy = BackupPolicyInput {
        mode: p.mode,
        interval_hours: p.interval_hours.map(|h| h.to_string()),
        retention_hours: p.retention_hours.map(|h| h.to_string()),
        redundancy: p.redundancy,
    };
    let input =
        ops::CreateAccount { subscription_id: subscription, name: body.name, region: body.region, policy, customer_key: body.customer_key };
    Ok((StatusCode::CREATED, Json(ops::create(&caller.state.ctx(), &caller, input).await?)))
}

/// Deletes an account: it leaves the live list and stays restorable for its retention.
#[utoipa::path(
    delete,
    path = "/subscriptions/{subscription}/accounts/{account}",
    tag = "accounts",
    params(("subscription" = String, Path, description = "Subscription id"), ("account" = String, Path, description = "Account name")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without accounts/delete on it", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    )
)]
pub async fn delete(Authed(caller): Authed, Path((subscription, account)): Path<(String, String)>) -> ApiResult<StatusCode> {
    ops::delete(&caller, subscription, account).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The account's four keys (audited).
#[utoipa::path(
    post,
    path = "/subscriptions/{subscription}/accounts/{account}/listKeys",
    tag = "accounts",
    params(("subscription" = String, Path, description = "Subscription id"), ("account" = String, Path, description = "Account name")),
    responses(
        (status = 200, description = "The keys", body = AccountKeys),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without accounts/listKeys/action on it", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    )
)]
pub async fn list_keys(Authed(caller): Authed, Path((subscription, account)): Path<(String, String)>) -> ApiResult<Json<AccountKeys>> {
    Ok(Json(ops::list_keys(&caller.state.ctx(), &caller, subscription, account).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegenerateKeyBody {
    key_kind: KeyKind,
}

/// Replaces one key with a fresh one; the old one stops working at once. Answers all four.
#[utoipa::path(
    post,
    path = "/subscriptions/{subscription}/accounts/{account}/regenerateKey",
    tag = "accounts",
    params(("subscription" = String, Path, description = "Subscription id"), ("account" = String, Path, description = "Account name")),
    request_body = RegenerateKeyBody,
    responses(
        (status = 200, description = "The keys after the change", body = AccountKeys),
        (status = 400, description = "An unknown key kind", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without accounts/regenerateKey/action on it", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    )
)]
pub async fn regenerate_key(
    Authed(caller): Authed,
    Path((subscription, account)): Path<(String, String)>,
    body: Result<Json<RegenerateKeyBody>, JsonRejection>,
) -> ApiResult<Json<AccountKeys>> {
    let Json(body) = body?;
    Ok(Json(ops::regenerate_key(&caller.state.ctx(), &caller, subscription, account, body.key_kind).await?))
}

/// Changes the account's backup policy: absent fields keep their values. A periodic account's
/// interval (1–24 h), retention (twice the interval to 720 h) and redundancy; a continuous
/// account's tier (`Continuous7Days` ↔ `Continuous30Days`: going to 7 days leaves older points
/// outside the window at once) and redundancy. Redundancy applies to backups taken from now on.
/// A continuous tier as the `mode` of a periodic account migrates it to continuous backup, at once
/// and one-way: continuous restore points begin now, its periodic backups stay restorable by
/// request until they expire. Continuous never goes back to periodic.
#[utoipa::path(
    patch,
    path = "/subscriptions/{subscription}/accounts/{account}/backupPolicy",
    tag = "accounts",
    params(("subscription" = String, Path, description = "Subscription id"), ("account" = String, Path, description = "Account name")),
    request_body = BackupPolicyChange,
    responses(
        (status = 200, description = "The account with its new policy", body = Account),
        (status = 400, description = "A value out of range or a change that is not allowed, named", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without accounts/backupPolicy/write on it", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    )
)]
pub async fn change_backup_policy(
    Authed(caller): Authed,
    Path((subscription, account)): Path<(String, String)>,
    body: Result<Json<BackupPolicyChange>, JsonRejection>,
) -> ApiResult<Json<Account>> {
    let Json(change) = body?;
    Ok(Json(ops::change_backup_policy(&caller.state.ctx(), &caller, subscription, account, change).await?))
}

/// Which key wraps the account's backup data key from now on.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RotateKeyBody {
    /// A customer-managed key's name; absent or null: the service-managed key.
    customer_key: Option<String>,
}

/// Rotates the key that wraps the account's backup data key — to a customer-managed key, or back
/// to the service-managed one. The data key is rewrapped; no backup object is re-encrypted.
#[utoipa::path(
    post,
    path = "/subscriptions/{subscription}/accounts/{account}/rotateBackupKey",
    tag = "accounts",
    params(("subscription" = String, Path, description = "Subscription id"), ("account" = String, Path, description = "Account name")),
    request_body = RotateKeyBody,
    responses(
        (status = 200, description = "The account, with its key", body = Account),
        (status = 400, description = "A key that is not available, or the current one is not (named)", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without accounts/write on it", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    )
)]
pub async fn rotate_backup_key(
    Authed(caller): Authed,
    Path((subscription, account)): Path<(String, String)>,
    body: Result<Json<RotateKeyBody>, JsonRejection>,
) -> ApiResult<Json<Account>> {
    let Json(body) = body?;
    Ok(Json(ops::rotate_backup_key(&caller.state.ctx(), &caller, subscription, account, body.customer_key).await?))
}

/// The customer-managed keys accounts of the subscription may choose, by name.
#[utoipa::path(
    get,
    path = "/subscriptions/{subscription}/customerKeys",
    tag = "accounts",
    params(("subscription" = String, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "Key names (never their contents)", body = Vec<String>),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without accounts/write in the subscription", body = ErrorBody),
    )
)]
pub async fn customer_keys(Authed(caller): Authed, Path(subscription): Path<String>) -> ApiResult<Json<Vec<String>>> {
    Ok(Json(ops::customer_keys(&caller.state.ctx(), &caller, subscription).await?))
}
