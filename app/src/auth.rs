//! Signing in and out, the current user, and changing one's password: the portal's adapters,
//! carrying cookies and headers; the rules are `control::sign_in`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[cfg(feature = "ssr")]
use control::session;

/// The signed-in user as the portal sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: String,
    pub name: String,
    pub must_change_password: bool,
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::{CurrentUser, session};
    use crate::authz::ssr::Caller;
    use crate::db::user;
    use crate::error::AppError;
    use crate::request;
    use control::sign_in;

    impl From<&user::Model> for CurrentUser {
        fn from(u: &user::Model) -> Self {
            CurrentUser { id: u.id.clone(), name: u.name.clone(), must_change_password: u.must_change_password }
        }
    }

    pub async fn login(username: String, password: String) -> Result<CurrentUser, AppError> {
        let state = crate::state::current()?;
        let parts = request::parts()?;
        let ip = request::client_ip(&parts);
        match sign_in::sign_in(&state, &username, password, &ip, session::presented_hash(&parts.headers)).await {
            Ok(signed_in) => {
                request::set_header(http::header::SET_COOKIE, &session::set_cookie(&signed_in.session_token, &state.sessions));
                Ok(CurrentUser::from(&signed_in.user))
            }
            Err(refused) => {
                if let Some(secs) = refused.retry_after_secs {
                    request::set_header(http::header::RETRY_AFTER, &secs.to_string());
                }
                Err(refused.error)
            }
        }
    }

    pub async fn logout() -> Result<(), AppError> {
        let state = crate::state::current()?;
        if let Ok(caller) = Caller::current_allowing_password_change().await {
            sign_in::sign_out(&caller).await?;
        }
        request::set_header(http::header::SET_COOKIE, &session::clear_cookie(&state.sessions));
        Ok(())
    }

    pub async fn current_user() -> Result<Option<CurrentUser>, AppError> {
        let state = crate::state::current()?;
        let parts = request::parts()?;
        Ok(session::authenticate(&state.db, &state.sessions, &parts.headers).await?.map(|a| CurrentUser::from(&a.user)))
    }

    pub async fn change_password(current: String, new: String, confirm: String) -> Result<(), AppError> {
        let caller = Caller::current_allowing_password_change().await?;
        sign_in::change_password(&caller, current, new, confirm).await
    }
}

/// Signs in; sets the session cookie.
#[server(endpoint = "login")]
pub async fn login(username: String, password: String) -> Result<CurrentUser, AppError> {
    crate::request::respond(ssr::login(username, password).await)
}

/// Signs out; ends the session and clears the cookie.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    crate::request::respond(ssr::logout().await)
}

/// The signed-in user, or `None`.
#[server(endpoint = "current_user")]
pub async fn get_current_user() -> Result<Option<CurrentUser>, AppError> {
    crate::request::respond(ssr::current_user().await)
}

/// Changes the signed-in user's password and ends their other sessions.
#[server(endpoint = "change_password")]
pub async fn change_password(current: String, new: String, confirm: String) -> Result<(), AppError> {
    crate::request::respond(ssr::change_password(current, new, confirm).await)
}
