//! Users: Owners create them (with a first password to change at first sign-in), disable and
//! re-enable them. A disabled user's sessions end at once.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::authz::ssr::Caller;
pub use crate::domain::tenancy::UserSummary;
use crate::error::AppError;

#[cfg(feature = "ssr")]
pub use control::users as ssr;

/// Every user, by name.
#[server(endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<UserSummary>, AppError> {
    crate::request::respond(async move { ssr::list(&Caller::current().await?.who).await }.await)
}

/// Creates a user who must change the given password at first sign-in.
#[server(endpoint = "create_user")]
pub async fn create_user(name: String, password: String) -> Result<UserSummary, AppError> {
    crate::request::respond(async move { ssr::create(&Caller::current().await?.who, name, password).await }.await)
}

/// Disables (ending their sessions at once) or re-enables a user.
#[server(endpoint = "set_user_disabled")]
pub async fn set_user_disabled(name: String, disabled: bool) -> Result<UserSummary, AppError> {
    crate::request::respond(async move { ssr::set_disabled(&Caller::current().await?.who, name, disabled).await }.await)
}
