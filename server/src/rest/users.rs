//! `/users`: the service's users — list them, create one (who changes the given password at
//! first sign-in), disable or re-enable one. All at the root scope (`users/read`, `users/write`).

use axum::Json;
use axum::extract::Path;
use axum::extract::rejection::JsonRejection;
use http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use control::users::{self as ops, UserSummary};

use super::auth::Authed;
use super::error::{ApiResult, ErrorBody};

/// Every user, by name.
#[utoipa::path(
    get,
    path = "/users",
    tag = "users",
    responses(
        (status = 200, description = "The users", body = Vec<UserSummary>),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without users/read", body = ErrorBody),
    )
)]
pub async fn list(Authed(caller): Authed) -> ApiResult<Json<Vec<UserSummary>>> {
    Ok(Json(ops::list(&caller).await?))
}

/// A new user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateUserBody {
    /// 1–64 letters, digits, `.`, `_`, `-` or `@`.
    name: String,
    /// A first password (12–256 characters) that the user must change at first sign-in.
    password: String,
}

/// Creates a user.
#[utoipa::path(
    post,
    path = "/users",
    tag = "users",
    request_body = CreateUserBody,
    responses(
        (status = 201, description = "Created", body = UserSummary),
        (status = 400, description = "A bad name or password, named", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without users/write", body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody),
    )
)]
pub async fn create(
    Authed(caller): Authed,
    body: Result<Json<CreateUserBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<UserSummary>)> {
    let Json(body) = body?;
    Ok((StatusCode::CREATED, Json(ops::create(&caller, body.name, body.password).await?)))
}

/// What can change about a user here.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateUserBody {
    /// `true` ends the user's sessions at once and refuses their tokens; `false` lets them back.
    disabled: bool,
}

/// Disables or re-enables a user; nobody can disable themself.
#[utoipa::path(
    patch,
    path = "/users/{user}",
    tag = "users",
    params(("user" = String, Path, description = "User name")),
    request_body = UpdateUserBody,
    responses(
        (status = 200, description = "The user after the change", body = UserSummary),
        (status = 400, description = "A body that is not this shape", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without users/write", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "The caller disabling themself", body = ErrorBody),
    )
)]
pub async fn update(
    Authed(caller): Authed,
    Path(user): Path<String>,
    body: Result<Json<UpdateUserBody>, JsonRejection>,
) -> ApiResult<Json<UserSummary>> {
    let Json(body) = body?;
    Ok(Json(ops::set_disabled(&caller, user, body.disabled).await?))
}
