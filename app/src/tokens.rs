//! API tokens: each user makes, lists and revokes their own, for scripts and the `rewind` CLI.
//! A token acts with its owner's roles; its secret is shown once. The rules are in
//! `control::api_tokens`; these are the portal's adapters, audited.

use leptos::prelude::*;

pub use crate::domain::api_token::{ApiToken, NewApiToken};
use crate::error::AppError;

#[cfg(feature = "ssr")]
pub mod ssr {
    use control::api_tokens;

    use super::{ApiToken, NewApiToken};
    use crate::audit::Outcome;
    use crate::authz::ssr::Caller;
    use crate::domain::rbac::Scope;
    use crate::error::AppError;

    /// Audit actions (a user's own credentials, like changing a password: no role needed).
    pub const CREATE: &str = "auth/apiTokens/create";
    pub const REVOKE: &str = "auth/apiTokens/revoke";

    fn resource(caller: &Caller, name: &str) -> String {
        format!("/users/{}/apiTokens/{name}", caller.user.name)
    }

    pub async fn create(caller: &Caller, name: String, days: u32) -> Result<NewApiToken, AppError> {
        let made = api_tokens::create(&caller.state.db, &caller.user.id, &name, days).await;
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

    pub async fn list(caller: &Caller) -> Result<Vec<ApiToken>, AppError> {
        api_tokens::list(&caller.state.db, &caller.user.id).await
    }

    pub async fn revoke(caller: &Caller, id: String) -> Result<(), AppError> {
        let name = api_tokens::revoke(&caller.state.db, &caller.user.id, &id).await?;
        caller.audit(REVOKE, &Scope::Root, &resource(caller, &name), Outcome::Succeeded, "").await;
        Ok(())
    }
}

/// Makes an API token for the signed-in user, living `days` days (0: no expiry). The answer
/// holds the secret, shown this once.
#[server(endpoint = "create_api_token")]
pub async fn create_api_token(name: String, days: u32) -> Result<NewApiToken, AppError> {
    use crate::authz::ssr::Caller;
    crate::request::respond(async move { ssr::create(&Caller::current().await?, name, days).await }.await)
}

/// The signed-in user's API tokens (without secrets), newest first.
#[server(endpoint = "list_api_tokens")]
pub async fn list_api_tokens() -> Result<Vec<ApiToken>, AppError> {
    use crate::authz::ssr::Caller;
    crate::request::respond(async move { ssr::list(&Caller::current().await?).await }.await)
}

/// Revokes one of the signed-in user's API tokens; it stops working at once.
#[server(endpoint = "revoke_api_token")]
pub async fn revoke_api_token(id: String) -> Result<(), AppError> {
    use crate::authz::ssr::Caller;
    crate::request::respond(async move { ssr::revoke(&Caller::current().await?, id).await }.await)
}
