//! Subscriptions: the tenant boundary that holds accounts (SPEC §1).

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::authz::ssr::Caller;
pub use crate::domain::tenancy::Subscription;
use crate::error::AppError;

#[cfg(feature = "ssr")]
pub use control::subscriptions as ssr;

/// Every subscription, by name.
#[server(endpoint = "list_subscriptions")]
pub async fn list_subscriptions() -> Result<Vec<Subscription>, AppError> {
    crate::request::respond(async move { ssr::list(&Caller::current().await?.who).await }.await)
}

/// One subscription.
#[server(endpoint = "get_subscription")]
pub async fn get_subscription(id: String) -> Result<Subscription, AppError> {
    crate::request::respond(async move { ssr::get(&Caller::current().await?.who, id).await }.await)
}

/// Creates a subscription; names are unique.
#[server(endpoint = "create_subscription")]
pub async fn create_subscription(name: String) -> Result<Subscription, AppError> {
    crate::request::respond(async move { ssr::create(&Caller::current().await?.who, name).await }.await)
}

/// Renames a subscription.
#[server(endpoint = "rename_subscription")]
pub async fn rename_subscription(id: String, name: String) -> Result<Subscription, AppError> {
    crate::request::respond(async move { ssr::rename(&Caller::current().await?.who, id, name).await }.await)
}
