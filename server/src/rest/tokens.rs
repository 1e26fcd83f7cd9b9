//! `/tokens`: the caller's own API tokens (made on the portal's API tokens page, where the
//! secret is shown once).

use axum::Json;
use axum::extract::Path;
use http::StatusCode;

use control::tokens;
use domain::api_token::ApiToken;

use super::auth::Authed;
use super::error::{ApiResult, ErrorBody};

/// The caller's tokens, without secrets, newest first.
#[utoipa::path(
    get,
    path = "/tokens",
    tag = "tokens",
    responses(
        (status = 200, description = "The tokens", body = Vec<ApiToken>),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "A first-time password is still to be changed (on the portal)", body = ErrorBody),
    )
)]
pub async fn list(Authed(caller): Authed) -> ApiResult<Json<Vec<ApiToken>>> {
    Ok(Json(tokens::list(&caller).await?))
}

/// Revokes one of the caller's tokens (the one calling, too); it stops working at once.
#[utoipa::path(
    delete,
    path = "/tokens/{token}",
    tag = "tokens",
    params(("token" = String, Path, description = "Token id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "A first-time password is still to be changed (on the portal)", body = ErrorBody),
        (status = 404, description = "The caller holds no such token", body = ErrorBody),
    )
)]
pub async fn revoke(Authed(caller): Authed, Path(token): Path<String>) -> ApiResult<StatusCode> {
    tokens::revoke(&caller, &token).await?;
    Ok(StatusCode::NO_CONTENT)
}
