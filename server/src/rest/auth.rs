//! Who calls the API: the user behind an `Authorization: Bearer` API token (cookies are not
//! accepted here, so the API needs no CSRF defence).

use axum::extract::FromRequestParts;
use http::request::Parts;

use app::authz::ssr::Caller;
use control::state::AppState;

use super::error::ApiError;

/// The authenticated caller of an API handler.
pub struct Authed(pub Caller);

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let who = control::authz::Caller::from_token(&state.db, &parts.headers, app::request::client_ip(parts)).await?;
        Ok(Authed(Caller { state: state.clone(), who: who.password_changed()? }))
    }
}
