//! Signing in and out with a password, and changing one's own password: the rules behind the
//! portal's sign-in and password pages (the portal only carries cookies and headers).
//!
//! A sign-in is checked in this order, each step before anything costlier: the name's form and
//! the password's length (free, and leaving no trace), the sign-in limits (counted in the
//! database, so one limit holds across replicas), then the password hash. Every outcome is
//! audited, throttled attempts as counted bursts so that a flood cannot flood the log.

use chrono::Utc;
use domain::audit::Outcome;
use domain::error::AppError;
use domain::rbac::Scope;
use domain::{UserName, validate_new_password};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use std::time::Instant;

use crate::audit::{Record, append_all};
use crate::authz::Caller;
use crate::db::user;
use crate::password;
use crate::session;
use crate::state::AppState;

const LOGIN: &str = "auth/login";
const LOGOUT: &str = "auth/logout";
const CHANGE_PASSWORD: &str = "auth/changePassword";

/// The longest password a sign-in is checked against (the password policy allows 256
/// characters); longer ones are refused before any hashing.
const MAX_PASSWORD_BYTES: usize = 1024;

const WRONG_CREDENTIALS: &str = "wrong user name or password";

/// A sign-in that worked: the user and the new session's token (for the cookie).
#[derive(Debug)]
pub struct SignedIn {
    pub user: user::Model,
    pub session_token: String,
}

/// A sign-in refused: the error, and for a throttled one how many seconds to wait
/// (`Retry-After`).
#[derive(Debug)]
pub struct Refused {
    pub error: AppError,
    pub retry_after_secs: Option<u64>,
}

impl From<AppError> for Refused {
    fn from(error: AppError) -> Self {
        Self { error, retry_after_secs: None }
    }
}

impl From<sea_orm::DbErr> for Refused {
    fn from(e: sea_orm::DbErr) -> Self {
        AppError::from(e).into()
    }
}

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

/// Signs `username` in from `ip`. The session the browser presented (`presented`, its hash)
/// ends, and a new one begins: a sign-in never keeps a session it did not make.
///
/// # Errors
/// 400 for an empty or impossible name or an over-long password; 429 (with the wait) past the
/// sign-in limits; 401 for a wrong name or password or a disabled user — one message for all.
pub async fn sign_in(state: &AppState, username: &str, password: String, ip: &str, presented: Option<String>) -> Result<SignedIn, Refused> {
    let username = username.trim();
    if username.is_empty() || password.is_empty() {
        return Err(AppError::invalid("enter a user name and a password").into());
    }
    // Checked before anything is counted, hashed or audited: a name no user can have costs
    // nothing and leaves no trace.
    UserName::parse(username)?;
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::invalid(format!("a password is at most {MAX_PASSWORD_BYTES} bytes long")).into());
    }

    if let Err(t) = state.limiter.begin(&state.db, username, ip, Utc::now()).await? {
        let secs = t.retry_after.as_secs().max(1);
        let (whom, key) = if t.by_user {
            ("this user", format!("login throttled: user {}", username.to_lowercase()))
        } else {
            ("this address", format!("login throttled: address {ip}"))
        };
        let message = format!("too many failed sign-in attempts for {whom}; try again in {secs} s");
        let rows = state.audit_bursts.admit(&key, login_record("", username, ip, Outcome::Denied, &message), Instant::now());
        append_all(&state.db, rows).await;
        return Err(Refused { error: AppError::TooManyRequests(message), retry_after_secs: Some(secs) });
    }

    let found = user::Entity::find().filter(user::Column::Name.eq(username)).one(&state.db).await?;
    let stored = found.as_ref().map(|u| u.password_hash.clone());
    let ok = password::verify(password, stored).await?;
    let user = match found {
        Some(u) if ok && !u.disabled => u,
        _ => {
            tracing::info!(user = %username, %ip, "sign-in refused");
            append_all(&state.db, vec![login_record("", username, ip, Outcome::Failed, WRONG_CREDENTIALS)]).await;
            return Err(AppError::Unauthenticated(WRONG_CREDENTIALS.into()).into());
        }
    };
    state.limiter.succeeded(&state.db, username, ip).await?;

    if let Some(old) = presented {
        session::end(&state.db, &old).await?;
    }
    let session_token = session::create(&state.db, &user.id, ip).await?;
    tracing::info!(user = %user.name, %ip, "signed in");
    append_all(&state.db, vec![login_record(&user.id, &user.name, ip, Outcome::Succeeded, "")]).await;
    Ok(SignedIn { user, session_token })
}

/// Ends the caller's session (if it came with one), audited.
///
/// # Errors
/// Database errors.
pub async fn sign_out(caller: &Caller) -> Result<(), AppError> {
    if let Some(hash) = caller.session_hash() {
        session::end(&caller.db, hash).await?;
        let resource = format!("/users/{}", caller.user.name);
        caller.audit(LOGOUT, &Scope::Root, &resource, Outcome::Succeeded, "").await;
    }
    Ok(())
}

/// Changes the caller's own password and ends their other sessions, audited.
///
/// # Errors
/// 400 when the new password and its confirmation differ, break the password rules or equal
/// the current one; 403 when the current password is wrong.
pub async fn change_password(caller: &Caller, current: String, new: String, confirm: String) -> Result<(), AppError> {
    let resource = format!("/users/{}", caller.user.name);
    let result = change_password_unaudited(caller, current, new, confirm).await;
    caller.audited(CHANGE_PASSWORD, &Scope::Root, &resource, result).await
}

async fn change_password_unaudited(caller: &Caller, current: String, new: String, confirm: String) -> Result<(), AppError> {
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
    let mut active: user::ActiveModel = caller.user.clone().into();
    active.password_hash = Set(hash);
    active.must_change_password = Set(false);
    active.password_changed_at = Set(Utc::now());
    active.update(&caller.db).await?;
    session::end_others(&caller.db, &caller.user.id, caller.session_hash().unwrap_or_default()).await?;
    Ok(())
}
