//! `/subscriptions`: the tenant boundary that holds accounts — list the ones the caller sees,
//! read one, create one (root only), rename one.

use axum::Json;
use axum::extract::Path;
use axum::extract::rejection::JsonRejection;
use http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use control::subscriptions::{self as ops, Subscription};

use super::auth::Authed;
use super::error::{ApiResult, ErrorBody};

/// The subscriptions the caller holds a role in or over, by name.
#[utoipa::path(
    get,
    path = "/subscriptions",
    tag = "subscriptions",
    responses(
        (status = 200, description = "The subscriptions", body = Vec<Subscription>),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "A first-time password is still to be changed (on the portal)", body = ErrorBody),
    )
)]
pub async fn list(Authed(caller): Authed) -> ApiResult<Json<Vec<Subscription>>> {
    Ok(Json(ops::list(&caller).await?))
}

/// One subscription the caller sees.
#[utoipa::path(
    get,
    path = "/subscriptions/{subscription}",
    tag = "subscriptions",
    params(("subscription" = String, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "The subscription", body = Subscription),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without any role in or over it", body = ErrorBody),
        (status = 404, description = "No such subscription", body = ErrorBody),
    )
)]
pub async fn get(Authed(caller): Authed, Path(subscription): Path<String>) -> ApiResult<Json<Subscription>> {
    Ok(Json(ops::get(&caller, subscription).await?))
}

/// A subscription's name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubscriptionBody {
    /// 1–64 characters, unique.
    name: String,
}

/// Creates a subscription (`subscriptions/write` at the root).
#[utoipa::path(
    post,
    path = "/subscriptions",
    tag = "subscriptions",
    request_body = SubscriptionBody,
    responses(
        (status = 201, description = "Created", body = Subscription),
        (status = 400, description = "A bad name, named", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without subscriptions/write at the root", body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody),
    )
)]
pub async fn create(
    Authed(caller): Authed,
    body: Result<Json<SubscriptionBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Subscription>)> {
    let Json(body) = body?;
    Ok((StatusCode::CREATED, Json(ops::create(&caller, body.name).await?)))
}

/// Renames a subscription (`subscriptions/write` on it).
#[utoipa::path(
    patch,
    path = "/subscriptions/{subscription}",
    tag = "subscriptions",
    params(("subscription" = String, Path, description = "Subscription id")),
    request_body = SubscriptionBody,
    responses(
        (status = 200, description = "Renamed", body = Subscription),
        (status = 400, description = "A bad name, named", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without subscriptions/write on it", body = ErrorBody),
        (status = 404, description = "No such subscription", body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody),
    )
)]
pub async fn rename(
    Authed(caller): Authed,
    Path(subscription): Path<String>,
    body: Result<Json<SubscriptionBody>, JsonRejection>,
) -> ApiResult<Json<Subscription>> {
    let Json(body) = body?;
    Ok(Json(ops::rename(&caller, subscription, body.name).await?))
}
