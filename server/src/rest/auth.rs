//! Who calls the API: the user behind an `Authorization: Bearer` API token (cookies are not
//! accepted here, so the API needs no CSRF defence).

use axum::extract::{FromRequestParts, OriginalUri};
use http::request::Parts;
use std::ops::Deref;

use control::audit::{Record, append_all};
use control::state::AppState;
use domain::audit::Outcome;
use domain::error::AppError;
use domain::rbac::Scope;
use std::time::Instant;

use super::error::ApiError;

/// The authenticated caller of an API handler.
pub struct Authed(pub Caller);

/// Who calls (the control plane's caller, whose rules apply through `Deref`) and the server's
/// state to act with.
pub struct Caller {
    pub state: AppState,
    pub who: control::authz::Caller,
}

impl Deref for Caller {
    type Target = control::authz::Caller;
    fn deref(&self) -> &Self::Target {
        &self.who
    }
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ip = app::request::client_ip(parts);
        let who = match control::authz::Caller::from_token(&state.db, &parts.headers, ip.clone()).await {
            Ok(who) => who,
            Err(e) => {
                if matches!(e, AppError::Unauthenticated(_)) {
                    // The path as the client sent it (the nested router sees it without `/api/v1`).
                    let path = parts.extensions.get::<OriginalUri>().map_or_else(|| parts.uri.path().to_owned(), |u| u.path().to_owned());
                    refused(state, &ip, &path, &e).await;
                }
                return Err(e.into());
            }
        };
        Ok(Authed(Caller { state: state.clone(), who: who.password_changed()? }))
    }
}

/// Audits a request refused for its token (missing, unknown, revoked or expired) as one row per
/// address and window, so that a stream of guesses cannot grow the log.
async fn refused(state: &AppState, ip: &str, path: &str, error: &AppError) {
    const ACTION: &str = "auth/apiTokens/refused";
    let rec = Record {
        user_id: String::new(),
        user_name: "API token (refused)".to_owned(),
        client_ip: ip.to_owned(),
        action: ACTION.to_owned(),
        scope: Scope::Root.to_string(),
        resource: path.to_owned(),
        outcome: Outcome::Denied,
        detail: error.to_string(),
    };
    let rows = state.audit_bursts.admit(&format!("{ACTION} {ip}"), rec, Instant::now());
    append_all(&state.db, rows).await;
}
