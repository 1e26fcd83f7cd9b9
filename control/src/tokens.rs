//! A user's own API tokens as callers manage them — make, list, revoke — audited. The tokens'
//! rules (names, lifetimes, the limit per user, hashing, authentication) are
//! [`crate::api_tokens`].

use domain::api_token::{ApiToken, NewApiToken};
use domain::audit::Outcome;
use domain::error::AppError;
use domain::rbac::Scope;

use crate::api_tokens;
use crate::authz::Caller;

/// Audit actions: a user's own credentials, like changing a password, need no role.
pub const CREATE: &str = "auth/apiTokens/create";
pub const REVOKE: &str = "auth/apiTokens/revoke";

fn resource(caller: &Caller, name: &str) -> String {
    format!("/users/{}/apiTokens/{name}", caller.user.name)
}

/// Makes a token for the caller, living `days` days (0: no expiry); the answer holds the
/// secret, shown this once.
///
/// # Errors
/// 400 for a bad name or lifetime, 409 for a name taken or past the limit per user.
pub async fn create(caller: &Caller, name: &str, days: u32) -> Result<NewApiToken, AppError> {
    let made = api_tokens::create(&caller.db, &caller.user.id, name, days).await;
    let resource = resource(caller, name.trim());
    match &made {
        Ok(t) => {
            let expiry = t.token.expires_at.map_or_else(|| "never expires".to_owned(), |at| format!("expires {}", at.to_rfc3339()));
            caller.audit(CREATE, &Scope::Root, &resource, Outcome::Succeeded, &expiry).await;
        }
        Err(e) => caller.audit(CREATE, &Scope::Root, &resource, Outcome::Failed, &e.to_string()).await,
    }
    made
}

/// The caller's tokens, without secrets, newest first.
///
/// # Errors
/// Database errors.
pub async fn list(caller: &Caller) -> Result<Vec<ApiToken>, AppError> {
    api_tokens::list(&caller.db, &caller.user.id).await
}

/// Revokes one of the caller's tokens; it stops working at once.
///
/// # Errors
/// 404 when the caller holds no such token.
pub async fn revoke(caller: &Caller, id: &str) -> Result<(), AppError> {
    let name = api_tokens::revoke(&caller.db, &caller.user.id, id).await?;
    caller.audit(REVOKE, &Scope::Root, &resource(caller, &name), Outcome::Succeeded, "").await;
    Ok(())
}
