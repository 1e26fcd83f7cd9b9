//! Access control: role definitions (built-in and custom) and role assignments at a
//! subscription or an account.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set};

use domain::error::AppError;
use domain::rbac::{ALL_ACTIONS, BUILTIN_ROLES, Scope, actions, builtin_role};
pub use domain::tenancy::{Assignment, RoleDefinition};

use crate::authz::{BUILTIN_PREFIX, Caller, assignment_scope};
use crate::db::{account, role, role_assignment, user};
use crate::{subscriptions, users};

/// The scope named by a subscription id and an optional account id (which must belong to it).
///
/// # Errors
/// 404 for an unknown subscription or account.
pub async fn resolve_scope(db: &DatabaseConnection, subscription_id: &str, account_id: &str) -> Result<Scope, AppError> {
    subscriptions::find(db, subscription_id).await?;
    if account_id.is_empty() {
        return Ok(Scope::Subscription(subscription_id.to_owned()));
    }
    let acct = account::Entity::find_by_id(account_id.to_owned())
        .filter(account::Column::SubscriptionId.eq(subscription_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("account {account_id:?} not found in subscription {subscription_id:?}")))?;
    Ok(Scope::Account { subscription_id: acct.subscription_id, account_id: acct.id })
}

fn builtin_definitions() -> impl Iterator<Item = RoleDefinition> {
    BUILTIN_ROLES.iter().map(|r| RoleDefinition {
        id: format!("{BUILTIN_PREFIX}{}", r.name),
        name: r.name.to_owned(),
        description: r.description.to_owned(),
        actions: r.actions.iter().map(|a| (*a).to_owned()).collect(),
        builtin: true,
    })
}

fn custom_definition(r: role::Model) -> RoleDefinition {
    RoleDefinition {
        actions: serde_json::from_str(&r.actions).unwrap_or_default(),
        id: r.id,
        name: r.name,
        description: r.description,
        builtin: false,
    }
}

/// Checks one action pattern of a custom role: a known action, `*`, or `group/*` over known ones.
fn check_action(pattern: &str) -> Result<(), AppError> {
    if pattern == "*" || ALL_ACTIONS.iter().any(|a| a.name == pattern) {
        return Ok(());
    }
    if let Some(prefix) = pattern.strip_suffix("/*")
        && ALL_ACTIONS.iter().any(|a| a.name.starts_with(&format!("{prefix}/")))
    {
        return Ok(());
    }
    Err(AppError::invalid(format!("unknown action {pattern:?}")))
}

/// The built-in roles and the subscription's custom ones (anyone who sees the subscription).
pub async fn list_definitions(caller: &Caller, subscription_id: String) -> Result<Vec<RoleDefinition>, AppError> {
    subscriptions::ensure_visible(caller, &subscription_id).await?;
    let mut out: Vec<RoleDefinition> = builtin_definitions().collect();
    let custom = role::Entity::find()
        .filter(role::Column::SubscriptionId.eq(&subscription_id))
        .order_by_asc(role::Column::Name)
        .all(&caller.db)
        .await?;
    out.extend(custom.into_iter().map(custom_definition));
    Ok(out)
}

/// A custom role in the subscription (`roleDefinitions/write` on it); `actions` are
/// known actions, `group/*` or `*`.
pub async fn create_custom(
    caller: &Caller,
    subscription_id: String,
    name: String,
    description: String,
    actions: Vec<String>,
) -> Result<RoleDefinition, AppError> {
    let scope = Scope::Subscription(subscription_id.clone());
    let resource = format!("{scope}/roles/{}", name.trim());
    caller.authorize(actions::ROLE_DEFINITIONS_WRITE, &scope, &resource).await?;
    let result = async {
        subscriptions::find(&caller.db, &subscription_id).await?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(AppError::invalid("role name must be 1 to 64 characters long"));
        }
        if builtin_role(name).is_some() {
            return Err(AppError::Conflict(format!("{name:?} is a built-in role")));
        }
        let mut acts: Vec<String> = actions.iter().map(|a| a.trim()).filter(|a| !a.is_empty()).map(str::to_owned).collect();
        if acts.is_empty() {
            return Err(AppError::invalid("a role needs at least one action"));
        }
        for a in &acts {
            check_action(a)?;
        }
        acts.sort();
        acts.dedup();
        let row = role::ActiveModel {
            id: Set(uuid::Uuid::new_v4().to_string()),
            subscription_id: Set(subscription_id.clone()),
            name: Set(name.to_owned()),
            description: Set(description.trim().chars().take(500).collect()),
            actions: Set(serde_json::to_string(&acts).map_err(|_| AppError::Internal)?),
            created_at: Set(Utc::now()),
        }
        .insert(&caller.db)
        .await
        .map_err(|e| domain::error::conflict_on_unique(e, "a role of that name already exists in this subscription"))?;
        Ok(custom_definition(row))
    }
    .await;
    caller.audited(actions::ROLE_DEFINITIONS_WRITE, &scope, &resource, result).await
}

/// Deletes a custom role that nobody holds.
pub async fn delete_custom(caller: &Caller, subscription_id: String, role_id: String) -> Result<(), AppError> {
    let scope = Scope::Subscription(subscription_id.clone());
    let resource = format!("{scope}/roles/{role_id}");
    caller.authorize(actions::ROLE_DEFINITIONS_WRITE, &scope, &resource).await?;
    let result = async {
        let r = role::Entity::find_by_id(role_id.clone())
            .filter(role::Column::SubscriptionId.eq(&subscription_id))
            .one(&caller.db)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("custom role {role_id:?} not found")))?;
        let in_use = role_assignment::Entity::find().filter(role_assignment::Column::RoleId.eq(&r.id)).count(&caller.db).await?;
        if in_use > 0 {
            return Err(AppError::Conflict(format!("role {:?} is assigned {in_use} time(s); remove those assignments first", r.name)));
        }
        role::Entity::delete_by_id(r.id).exec(&caller.db).await?;
        Ok(())
    }
    .await;
    caller.audited(actions::ROLE_DEFINITIONS_WRITE, &scope, &resource, result).await
}

async fn role_name(db: &DatabaseConnection, role_id: &str) -> Result<String, AppError> {
    if let Some(name) = role_id.strip_prefix(BUILTIN_PREFIX) {
        return Ok(name.to_owned());
    }
    Ok(role::Entity::find_by_id(role_id.to_owned()).one(db).await?.map(|r| r.name).unwrap_or_else(|| format!("(deleted role {role_id})")))
}

/// The assignments in force at the subscription (`account_id` empty) or the account,
/// those made above it marked inherited.
pub async fn list_assignments(caller: &Caller, subscription_id: String, account_id: String) -> Result<Vec<Assignment>, AppError> {
    let scope = resolve_scope(&caller.db, &subscription_id, &account_id).await?;
    caller.authorize(actions::ROLE_ASSIGNMENTS_READ, &scope, &scope.to_string()).await?;
    let rows = role_assignment::Entity::find().order_by_asc(role_assignment::Column::CreatedAt).all(&caller.db).await?;
    let mut out = Vec::new();
    for a in rows {
        let at = assignment_scope(&a);
        if !at.covers(&scope) {
            continue;
        }
        let user_name = user::Entity::find_by_id(a.user_id.clone()).one(&caller.db).await?.map(|u| u.name).unwrap_or_default();
        out.push(Assignment {
            role_name: role_name(&caller.db, &a.role_id).await?,
            inherited: at != scope,
            id: a.id,
            user_name,
            role_id: a.role_id,
            scope_kind: a.scope_kind,
        });
    }
    Ok(out)
}

/// Gives a user a role at the subscription (`account_id` empty) or the account.
pub async fn create_assignment(
    caller: &Caller,
    subscription_id: String,
    account_id: String,
    user_name: String,
    role_id: String,
) -> Result<Assignment, AppError> {
    let scope = resolve_scope(&caller.db, &subscription_id, &account_id).await?;
    let resource = format!("{scope}/roleAssignments ({} as {role_id})", user_name.trim());
    caller.authorize(actions::ROLE_ASSIGNMENTS_WRITE, &scope, &resource).await?;
    let result = async {
        let target = users::find_by_name(&caller.db, &user_name).await?;
        if let Some(name) = role_id.strip_prefix(BUILTIN_PREFIX) {
            builtin_role(name).ok_or_else(|| AppError::NotFound(format!("no built-in role {name:?}")))?;
        } else {
            role::Entity::find_by_id(role_id.clone())
                .filter(role::Column::SubscriptionId.eq(&subscription_id))
                .one(&caller.db)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("role {role_id:?} is not defined in this subscription")))?;
        }
        let (sub, acct) = match &scope {
            Scope::Account { subscription_id, account_id } => (subscription_id.clone(), account_id.clone()),
            Scope::Subscription(s) => (s.clone(), String::new()),
            Scope::Root => (String::new(), String::new()),
        };
        let row = role_assignment::ActiveModel {
            id: Set(uuid::Uuid::new_v4().to_string()),
            user_id: Set(target.id.clone()),
            role_id: Set(role_id.clone()),
            scope_kind: Set(scope.kind()),
            subscription_id: Set(sub),
            account_id: Set(acct),
            created_at: Set(Utc::now()),
            created_by: Set(caller.user.id.clone()),
        }
        .insert(&caller.db)
        .await
        .map_err(|e| domain::error::conflict_on_unique(e, "that user already holds that role here"))?;
        Ok(Assignment {
            role_name: role_name(&caller.db, &row.role_id).await?,
            id: row.id,
            user_name: target.name,
            role_id: row.role_id,
            scope_kind: row.scope_kind,
            inherited: false,
        })
    }
    .await;
    caller.audited(actions::ROLE_ASSIGNMENTS_WRITE, &scope, &resource, result).await
}

/// Removes an assignment made at exactly this scope.
pub async fn delete_assignment(
    caller: &Caller,
    subscription_id: String,
    account_id: String,
    assignment_id: String,
) -> Result<(), AppError> {
    let scope = resolve_scope(&caller.db, &subscription_id, &account_id).await?;
    let resource = format!("{scope}/roleAssignments/{assignment_id}");
    caller.authorize(actions::ROLE_ASSIGNMENTS_WRITE, &scope, &resource).await?;
    let result = async {
        let a = role_assignment::Entity::find_by_id(assignment_id.clone())
            .one(&caller.db)
            .await?
            .filter(|a| assignment_scope(a) == scope)
            .ok_or_else(|| AppError::NotFound(format!("no role assignment {assignment_id:?} at this scope")))?;
        role_assignment::Entity::delete_by_id(a.id).exec(&caller.db).await?;
        Ok(())
    }
    .await;
    caller.audited(actions::ROLE_ASSIGNMENTS_WRITE, &scope, &resource, result).await
}

#[cfg(test)]
mod tests {
    use super::check_action;

    #[test]
    fn custom_roles_take_known_actions_and_group_wildcards_only() {
        assert!(check_action("accounts/read").is_ok());
        assert!(check_action("accounts/*").is_ok());
        assert!(check_action("*").is_ok());
        assert!(check_action("accounts/fly").is_err());
        assert!(check_action("nothing/*").is_err());
    }
}
