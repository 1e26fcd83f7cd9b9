//! Access control: role definitions (built-in and custom) and role assignments at a subscription
//! or an account.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::authz::ssr::Caller;
pub use crate::domain::tenancy::{Assignment, RoleDefinition};
use crate::error::AppError;

#[cfg(feature = "ssr")]
pub use control::access as ssr;

/// Built-in roles and the subscription's custom roles.
#[server(endpoint = "list_role_definitions")]
pub async fn list_role_definitions(subscription_id: String) -> Result<Vec<RoleDefinition>, AppError> {
    crate::request::respond(async move { ssr::list_definitions(&Caller::current().await?.who, subscription_id).await }.await)
}

/// Defines a custom role; `actions` is a list separated by commas, spaces or new lines.
#[server(endpoint = "create_custom_role")]
pub async fn create_custom_role(
    subscription_id: String,
    name: String,
    description: String,
    actions: String,
) -> Result<RoleDefinition, AppError> {
    let actions = actions.split(|c: char| c == ',' || c.is_whitespace()).map(str::to_owned).collect();
    crate::request::respond(
        async move { ssr::create_custom(&Caller::current().await?.who, subscription_id, name, description, actions).await }.await,
    )
}

/// Deletes an unassigned custom role.
#[server(endpoint = "delete_custom_role")]
pub async fn delete_custom_role(subscription_id: String, role_id: String) -> Result<(), AppError> {
    crate::request::respond(async move { ssr::delete_custom(&Caller::current().await?.who, subscription_id, role_id).await }.await)
}

/// Assignments in force at the subscription (`account_id` empty) or account, inherited marked.
#[server(endpoint = "list_role_assignments")]
pub async fn list_role_assignments(subscription_id: String, account_id: String) -> Result<Vec<Assignment>, AppError> {
    crate::request::respond(async move { ssr::list_assignments(&Caller::current().await?.who, subscription_id, account_id).await }.await)
}

/// Gives `user_name` the role at the subscription (`account_id` empty) or account.
#[server(endpoint = "create_role_assignment")]
pub async fn create_role_assignment(
    subscription_id: String,
    account_id: String,
    user_name: String,
    role_id: String,
) -> Result<Assignment, AppError> {
    crate::request::respond(
        async move { ssr::create_assignment(&Caller::current().await?.who, subscription_id, account_id, user_name, role_id).await }.await,
    )
}

/// Removes an assignment made at exactly this scope.
#[server(endpoint = "delete_role_assignment")]
pub async fn delete_role_assignment(subscription_id: String, account_id: String, assignment_id: String) -> Result<(), AppError> {
    crate::request::respond(
        async move { ssr::delete_assignment(&Caller::current().await?.who, subscription_id, account_id, assignment_id).await }.await,
    )
}
