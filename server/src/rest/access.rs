//! Access control: `/subscriptions/{subscription}/roleDefinitions` (the built-in roles and the
//! subscription's custom ones) and `roleAssignments` at a subscription or at one of its accounts
//! (`/subscriptions/{subscription}/accounts/{account}/roleAssignments`, the account by name).

use axum::Json;
use axum::extract::Path;
use axum::extract::rejection::JsonRejection;
use http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::Caller;
use control::access::{self as ops, Assignment, RoleDefinition};
use domain::error::AppError;

use super::auth::Authed;
use super::error::{ApiResult, ErrorBody};

/// The built-in roles, then the subscription's custom roles by name.
#[utoipa::path(
    get,
    path = "/subscriptions/{subscription}/roleDefinitions",
    tag = "access",
    params(("subscription" = String, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "The roles", body = Vec<RoleDefinition>),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without any role in or over the subscription", body = ErrorBody),
        (status = 404, description = "No such subscription", body = ErrorBody),
    )
)]
pub async fn list_roles(Authed(caller): Authed, Path(subscription): Path<String>) -> ApiResult<Json<Vec<RoleDefinition>>> {
    Ok(Json(ops::list_definitions(&caller, subscription).await?))
}

/// A custom role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleBody {
    /// 1–64 characters, unique in the subscription, not a built-in role's name.
    name: String,
    #[serde(default)]
    description: String,
    /// Actions (`accounts/read`), groups (`accounts/*`) or `*`.
    actions: Vec<String>,
}

/// Defines a custom role in the subscription (`roleDefinitions/write`).
#[utoipa::path(
    post,
    path = "/subscriptions/{subscription}/roleDefinitions",
    tag = "access",
    params(("subscription" = String, Path, description = "Subscription id")),
    request_body = RoleBody,
    responses(
        (status = 201, description = "Defined", body = RoleDefinition),
        (status = 400, description = "A bad name or an unknown action, named", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without roleDefinitions/write on the subscription", body = ErrorBody),
        (status = 404, description = "No such subscription", body = ErrorBody),
        (status = 409, description = "The name is taken or built in", body = ErrorBody),
    )
)]
pub async fn create_role(
    Authed(caller): Authed,
    Path(subscription): Path<String>,
    body: Result<Json<RoleBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<RoleDefinition>)> {
    let Json(body) = body?;
    Ok((StatusCode::CREATED, Json(ops::create_custom(&caller, subscription, body.name, body.description, body.actions).await?)))
}

/// Deletes a custom role that nobody holds.
#[utoipa::path(
    delete,
    path = "/subscriptions/{subscription}/roleDefinitions/{role}",
    tag = "access",
    params(("subscription" = String, Path, description = "Subscription id"), ("role" = String, Path, description = "Custom role id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without roleDefinitions/write on the subscription", body = ErrorBody),
        (status = 404, description = "No such custom role", body = ErrorBody),
        (status = 409, description = "The role is still assigned", body = ErrorBody),
    )
)]
pub async fn delete_role(Authed(caller): Authed, Path((subscription, role)): Path<(String, String)>) -> ApiResult<StatusCode> {
    ops::delete_custom(&caller, subscription, role).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A role given to a user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssignmentBody {
    user_name: String,
    /// `builtin:<name>` (e.g. `builtin:Restore Operator`) or a custom role's id.
    role_id: String,
}

/// The account's id, for an account named in the path (live accounts only; a missing one is
/// answered as `control::accounts::find_visible` says).
async fn account_id(caller: &Caller, subscription: &str, account: &str) -> Result<String, AppError> {
    Ok(control::accounts::find_visible(caller, subscription, account).await?.id)
}

/// The assignments in force at the subscription, those made above it marked inherited.
#[utoipa::path(
    get,
    path = "/subscriptions/{subscription}/roleAssignments",
    tag = "access",
    params(("subscription" = String, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "The assignments", body = Vec<Assignment>),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without roleAssignments/read on the subscription", body = ErrorBody),
        (status = 404, description = "No such subscription", body = ErrorBody),
    )
)]
pub async fn list_assignments(Authed(caller): Authed, Path(subscription): Path<String>) -> ApiResult<Json<Vec<Assignment>>> {
    Ok(Json(ops::list_assignments(&caller, subscription, String::new()).await?))
}

/// Gives a user a role over the whole subscription (`roleAssignments/write`).
#[utoipa::path(
    post,
    path = "/subscriptions/{subscription}/roleAssignments",
    tag = "access",
    params(("subscription" = String, Path, description = "Subscription id")),
    request_body = AssignmentBody,
    responses(
        (status = 201, description = "Assigned", body = Assignment),
        (status = 400, description = "A body that is not this shape", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without roleAssignments/write on the subscription", body = ErrorBody),
        (status = 404, description = "No such subscription, user or role", body = ErrorBody),
        (status = 409, description = "The user already holds the role here", body = ErrorBody),
    )
)]
pub async fn create_assignment(
    Authed(caller): Authed,
    Path(subscription): Path<String>,
    body: Result<Json<AssignmentBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Assignment>)> {
    let Json(body) = body?;
    let made = ops::create_assignment(&caller, subscription, String::new(), body.user_name, body.role_id).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

/// Removes an assignment made at the subscription.
#[utoipa::path(
    delete,
    path = "/subscriptions/{subscription}/roleAssignments/{assignment}",
    tag = "access",
    params(("subscription" = String, Path, description = "Subscription id"), ("assignment" = String, Path, description = "Assignment id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without roleAssignments/write on the subscription", body = ErrorBody),
        (status = 404, description = "No such assignment made at the subscription", body = ErrorBody),
    )
)]
pub async fn delete_assignment(Authed(caller): Authed, Path((subscription, assignment)): Path<(String, String)>) -> ApiResult<StatusCode> {
    ops::delete_assignment(&caller, subscription, String::new(), assignment).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The assignments in force at the account: its own and those inherited from above.
#[utoipa::path(
    get,
    path = "/subscriptions/{subscription}/accounts/{account}/roleAssignments",
    tag = "access",
    params(("subscription" = String, Path, description = "Subscription id"), ("account" = String, Path, description = "Account name")),
    responses(
        (status = 200, description = "The assignments", body = Vec<Assignment>),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without roleAssignments/read on the account", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    )
)]
pub async fn list_account_assignments(
    Authed(caller): Authed,
    Path((subscription, account)): Path<(String, String)>,
) -> ApiResult<Json<Vec<Assignment>>> {
    let account = account_id(&caller, &subscription, &account).await?;
    Ok(Json(ops::list_assignments(&caller, subscription, account).await?))
}

/// Gives a user a role on one account (`roleAssignments/write` on it).
#[utoipa::path(
    post,
    path = "/subscriptions/{subscription}/accounts/{account}/roleAssignments",
    tag = "access",
    params(("subscription" = String, Path, description = "Subscription id"), ("account" = String, Path, description = "Account name")),
    request_body = AssignmentBody,
    responses(
        (status = 201, description = "Assigned", body = Assignment),
        (status = 400, description = "A body that is not this shape", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without roleAssignments/write on the account", body = ErrorBody),
        (status = 404, description = "No such account, user or role", body = ErrorBody),
        (status = 409, description = "The user already holds the role here", body = ErrorBody),
    )
)]
pub async fn create_account_assignment(
    Authed(caller): Authed,
    Path((subscription, account)): Path<(String, String)>,
    body: Result<Json<AssignmentBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Assignment>)> {
    let Json(body) = body?;
    let account = account_id(&caller, &subscription, &account).await?;
    let made = ops::create_assignment(&caller, subscription, account, body.user_name, body.role_id).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

/// Removes an assignment made at the account.
#[utoipa::path(
    delete,
    path = "/subscriptions/{subscription}/accounts/{account}/roleAssignments/{assignment}",
    tag = "access",
    params(
        ("subscription" = String, Path, description = "Subscription id"),
        ("account" = String, Path, description = "Account name"),
        ("assignment" = String, Path, description = "Assignment id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Without roleAssignments/write on the account", body = ErrorBody),
        (status = 404, description = "No such account, or no such assignment made at it", body = ErrorBody),
    )
)]
pub async fn delete_account_assignment(
    Authed(caller): Authed,
    Path((subscription, account, assignment)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let account = account_id(&caller, &subscription, &account).await?;
    ops::delete_assignment(&caller, subscription, account, assignment).await?;
    Ok(StatusCode::NO_CONTENT)
}
