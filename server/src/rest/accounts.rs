//! `/subscriptions/{subscription}/accounts`: the database accounts the caller may see.

use axum::Json;
use axum::extract::Path;

use app::accounts::{Account, ssr};

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
        (status = 404, description = "No such subscription visible to the caller", body = ErrorBody),
    )
)]
pub async fn list(Authed(caller): Authed, Path(subscription): Path<String>) -> ApiResult<Json<Vec<Account>>> {
    Ok(Json(ssr::list(&caller, subscription).await?))
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
    Ok(Json(ssr::get(&caller, subscription, account).await?))
}
