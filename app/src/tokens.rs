//! API tokens: each user makes, lists and revokes their own, for scripts and the `rewind` CLI.
//! A token acts with its owner's roles; its secret is shown once. The rules are in
//! `control::api_tokens` and `control::tokens`; these are the portal's adapters.

use leptos::prelude::*;

pub use crate::domain::api_token::{ApiToken, NewApiToken};
use crate::error::AppError;

/// Makes an API token for the signed-in user, living `days` days (0: no expiry). The answer
/// holds the secret, shown this once.
#[server(endpoint = "create_api_token")]
pub async fn create_api_token(name: String, days: u32) -> Result<NewApiToken, AppError> {
    use crate::authz::ssr::Caller;
    crate::request::respond(async move { control::tokens::create(&Caller::current().await?.who, &name, days).await }.await)
}

/// The signed-in user's API tokens (without secrets), newest first.
#[server(endpoint = "list_api_tokens")]
pub async fn list_api_tokens() -> Result<Vec<ApiToken>, AppError> {
    use crate::authz::ssr::Caller;
    crate::request::respond(async move { control::tokens::list(&Caller::current().await?.who).await }.await)
}

/// Revokes one of the signed-in user's API tokens; it stops working at once.
#[server(endpoint = "revoke_api_token")]
pub async fn revoke_api_token(id: String) -> Result<(), AppError> {
    use crate::authz::ssr::Caller;
    crate::request::respond(async move { control::tokens::revoke(&Caller::current().await?.who, &id).await }.await)
}
