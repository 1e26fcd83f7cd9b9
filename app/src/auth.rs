//! Signing in and out, the current user, and changing one's password.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[cfg(feature = "ssr")]
pub use control::password;
#[cfg(feature = "ssr")]
pub use control::session;

#[cfg(feature = "ssr")]
pub use control::login_limiter::{LimiterPolicy, LoginLimiter};

/// The signed-in user as the portal sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: String,
    pub name: String,
    pub must_change_password: bool,
}

#[cfg(feature = "ssr")]
mod ssr {
    use chrono::Utc;
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
    use std::time::Instant;

    use super::{CurrentUser, password, session};
    use crate::audit::Outcome;
    use crate::authz::ssr::Caller;
    use crate::db::user;
    use crate::domain::rbac::Scope;
    use crate::domain::{UserName, validate_new_password};
    use crate::error::AppError;
    use crate::request;
    use crate::state::AppState;
    use control::audit::{Record, append_all};

    const LOGIN: &str = "auth/login";
    const LOGOUT: &str = "auth/logout";
    const CHANGE_PASSWORD: &str = "auth/changePassword";

    fn login_record(user_id: &str, name: &str, ip: &str, outcome: Outcome, detail: &str) -> Record {
        Record {
            user_id: user_id.to_owned(),
            user_name: name.to_owned(),
            client_ip: ip.to_owned(),
            action: LOGIN.to_owned(),
            scope: Scope::Root.to_string(),
            resource: format!("/users/{name}"),
            outcome,
            detail: detail.to_owned(),
        }
    }

    async fn audit_login(state: &AppState, user_id: &str, name: &str, ip: &str, outcome: Outcome, detail: &str) {
        append_all(&state.db, vec![login_record(user_id, name, ip, outcome, detail)]).await;
    }

    /// The longest password a sign-in is checked against (the password policy allows 256
    /// characters); longer ones are refused before any hashing.
    const MAX_PASSWORD_BYTES: usize = 1024;

    const WRONG_CREDENTIALS: &str = "wrong user name or password";

    impl From<&user::Model> for CurrentUser {
        fn from(u: &user::Model) -> Self {
            CurrentUser { id: u.id.clone(), name: u.name.clone(), must_change_password: u.must_change_password }
        }
    }

    pub async fn login(username: String, password: String) -> Result<CurrentUser, AppError> {
        let state = crate::state::current()?;
        let parts = request::parts()?;
        let ip = request::client_ip(&parts);
        let username = username.trim().to_owned();
        if username.is_empty() || password.is_empty() {
            return Err(AppError::invalid("enter a user name and a password"));
        }
        // Checked before anything is counted, hashed or audited: a name no user can have costs
        // nothing and leaves no trace.
        UserName::parse(&username)?;
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(AppError::invalid(format!("a password is at most {MAX_PASSWORD_BYTES} bytes long")));
        }

        if let Err(t) = state.limiter.begin(&state.db, &username, &ip, chrono::Utc::now()).await? {
            let secs = t.retry_after.as_secs().max(1);
            request::set_header(http::header::RETRY_AFTER, &secs.to_string());
            let (whom, key) = if t.by_user {
                ("this user", format!("login throttled: user {}", username.to_lowercase()))
            } else {
                ("this address", format!("login throttled: address {ip}"))
            };
            let message = format!("too many failed sign-in attempts for {whom}; try again in {secs} s");
            let rows = state.audit_bursts.admit(&key, login_record("", &username, &ip, Outcome::Denied, &message), Instant::now());
            append_all(&state.db, rows).await;
            return Err(AppError::TooManyRequests(message));
        }

        let found = user::Entity::find().filter(user::Column::Name.eq(&username)).one(&state.db).await?;
        let stored = found.as_ref().map(|u| u.password_hash.clone());
        let ok = password::verify(password, stored).await?;
        let user = match found {
            Some(u) if ok && !u.disabled => u,
            _ => {
                tracing::info!(user = %username, %ip, "sign-in refused");
                audit_login(&state, "", &username, &ip, Outcome::Failed, WRONG_CREDENTIALS).await;
                return Err(AppError::Unauthenticated(WRONG_CREDENTIALS.into()));
            }
        };
        state.limiter.succeeded(&state.db, &username, &ip).await?;

        // Rotate: whatever session the browser presented ends, a new one begins.
        if let Some(old) = session::presented_hash(&parts.headers) {
            session::end(&state.db, &old).await?;
        }
        let token = session::create(&state.db, &user.id, &ip).await?;
        request::set_header(http::header::SET_COOKIE, &session::set_cookie(&token, &state.sessions));
        tracing::info!(user = %user.name, %ip, "signed in");
        audit_login(&state, &user.id, &user.name, &ip, Outcome::Succeeded, "").await;
        Ok(CurrentUser::from(&user))
    }

    pub async fn logout() -> Result<(), AppError> {
        let state = crate::state::current()?;
        if let Ok(caller) = Caller::current_allowing_password_change().await
            && let Some(hash) = caller.session_hash()
        {
            session::end(&state.db, hash).await?;
            let resource = format!("/users/{}", caller.user.name);
            caller.audit(LOGOUT, &Scope::Root, &resource, Outcome::Succeeded, "").await;
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
        let resource = format!("/users/{}", caller.user.name);
        let result = change_password_inner(&caller, current, new, confirm).await;
        caller.audited(CHANGE_PASSWORD, &Scope::Root, &resource, result).await
    }

    async fn change_password_inner(caller: &Caller, current: String, new: String, confirm: String) -> Result<(), AppError> {
        let state = &caller.state;
        if new != confirm {
            return Err(AppError::invalid("the new password and its confirmation differ"));
        }
        validate_new_password(&new)?;
        if new == current {
            return Err(AppError::invalid("the new password must differ from the current one"));
        }
        if !password::verify(current, Some(caller.user.password_hash.clone())).await? {
            return Err(AppError::Forbidden("the current password is wrong".into()));
        }
        let hash = password::hash(new).await?;
        let user_id = caller.user.id.clone();
        let mut active: user::ActiveModel = caller.user.clone().into();
        active.password_hash = Set(hash);
        active.must_change_password = Set(false);
        active.password_changed_at = Set(Utc::now());
        active.update(&state.db).await?;
        session::end_others(&state.db, &user_id, caller.session_hash().unwrap_or_default()).await?;
        Ok(())
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
