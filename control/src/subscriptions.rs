//! Subscriptions: the tenant boundary that holds accounts (SPEC §1) — list the ones a caller
//! sees, read, create (root only) and rename one.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set};

use domain::SubscriptionName;
use domain::error::AppError;
use domain::rbac::{Scope, actions};
pub use domain::tenancy::Subscription;

use crate::authz::Caller;
use crate::db::{account, subscription};

/// The subscription with this id, or 404 naming it.
///
/// # Errors
/// [`AppError::NotFound`] when there is none.
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<subscription::Model, AppError> {
    subscription::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("subscription {id:?} not found")))
}

async fn to_wire(db: &impl ConnectionTrait, s: subscription::Model) -> Result<Subscription, AppError> {
    let account_count = account::Entity::find()
        .filter(account::Column::SubscriptionId.eq(&s.id))
        .filter(account::Column::DeletedAt.is_null())
        .count(db)
        .await?;
    Ok(Subscription { id: s.id, name: s.name, created_at: s.created_at, account_count })
}

/// The subscription holding `name`, if any: the one "is this subscription name taken" rule.
///
/// # Errors
/// Database errors.
pub(crate) async fn holder_of(db: &impl ConnectionTrait, name: &str) -> Result<Option<subscription::Model>, AppError> {
    Ok(subscription::Entity::find().filter(subscription::Column::Name.eq(name)).one(db).await?)
}

async fn ensure_name_free(db: &impl ConnectionTrait, name: &SubscriptionName, except_id: Option<&str>) -> Result<(), AppError> {
    match holder_of(db, name.as_str()).await? {
        Some(s) if Some(s.id.as_str()) != except_id => {
            Err(AppError::Conflict(format!("a subscription named {:?} already exists", name.as_str())))
        }
        _ => Ok(()),
    }
}

/// Lets the caller through if they hold any role in or over the subscription; otherwise
/// refuses (and audits) as a missing `subscriptions/read`.
///
/// # Errors
/// [`AppError::Forbidden`].
pub async fn ensure_visible(caller: &Caller, id: &str) -> Result<(), AppError> {
    if caller.sees_subscription(id).await? {
        return Ok(());
    }
    let scope = Scope::Subscription(id.to_owned());
    caller.authorize(actions::SUBSCRIPTIONS_READ, &scope, &scope.to_string()).await
}

/// The subscriptions the caller holds a role in or over, by name.
pub async fn list(caller: &Caller) -> Result<Vec<Subscription>, AppError> {
    let visible = caller.visible_subscriptions().await?;
    let rows = subscription::Entity::find().order_by_asc(subscription::Column::Name).all(&caller.db).await?;
    let mut out = Vec::with_capacity(rows.len());
    for s in rows {
        if visible.as_ref().is_none_or(|v| v.contains(&s.id)) {
            out.push(to_wire(&caller.db, s).await?);
        }
    }
    Ok(out)
}

/// One subscription the caller sees.
pub async fn get(caller: &Caller, id: String) -> Result<Subscription, AppError> {
    ensure_visible(caller, &id).await?;
    let s = find(&caller.db, &id).await?;
    to_wire(&caller.db, s).await
}

/// A new subscription (`subscriptions/write` at the root); names are unique.
pub async fn create(caller: &Caller, name: String) -> Result<Subscription, AppError> {
    caller.authorize(actions::SUBSCRIPTIONS_WRITE, &Scope::Root, "/subscriptions").await?;
    let result = create_inner(caller, &name).await;
    let resource = format!("/subscriptions ({name})");
    caller.audited(actions::SUBSCRIPTIONS_WRITE, &Scope::Root, &resource, result).await
}

async fn create_inner(caller: &Caller, name: &str) -> Result<Subscription, AppError> {
    let (db, auth_name) = (&caller.db, &caller.user.name);
    let name = SubscriptionName::parse(name)?;
    ensure_name_free(db, &name, None).await?;
    let model = subscription::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        name: Set(name.to_string()),
        created_at: Set(Utc::now()),
        created_by: Set(caller.user.id.clone()),
    }
    .insert(db)
    .await
    .map_err(|e| domain::error::conflict_on_unique(e, "subscription name is already taken"))?;
    tracing::info!(subscription = %model.id, name = %model.name, by = %auth_name, "subscription created");
    to_wire(db, model).await
}

/// Renames a subscription (`subscriptions/write` on it).
pub async fn rename(caller: &Caller, id: String, name: String) -> Result<Subscription, AppError> {
    let scope = Scope::Subscription(id.clone());
    caller.authorize(actions::SUBSCRIPTIONS_WRITE, &scope, &scope.to_string()).await?;
    let result = rename_inner(caller, id, &name).await;
    caller.audited(actions::SUBSCRIPTIONS_WRITE, &scope, &scope.to_string(), result).await
}

async fn rename_inner(caller: &Caller, id: String, name: &str) -> Result<Subscription, AppError> {
    let db = &caller.db;
    let name = SubscriptionName::parse(name)?;
    let existing = find(db, &id).await?;
    ensure_name_free(db, &name, Some(&id)).await?;
    let mut active: subscription::ActiveModel = existing.into();
    active.name = Set(name.to_string());
    let model = active.update(db).await.map_err(|e| domain::error::conflict_on_unique(e, "subscription name is already taken"))?;
    tracing::info!(subscription = %model.id, name = %model.name, by = %caller.user.name, "subscription renamed");
    to_wire(db, model).await
}
