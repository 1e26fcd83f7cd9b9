//! Users: Owners at the root create them (with a first password to change at first sign-in),
//! disable and re-enable them. A disabled user's sessions end at once and their tokens stop.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use domain::error::AppError;
use domain::rbac::{Scope, actions};
pub use domain::tenancy::UserSummary;
use domain::{UserName, validate_new_password};

use crate::authz::Caller;
use crate::db::{session, user};
use crate::password;

fn to_wire(u: user::Model) -> UserSummary {
    UserSummary { id: u.id, name: u.name, disabled: u.disabled, must_change_password: u.must_change_password, created_at: u.created_at }
}

/// Finds a user by name, or 404 naming it.
///
/// # Errors
/// [`AppError::NotFound`].
pub async fn find_by_name(db: &sea_orm::DatabaseConnection, name: &str) -> Result<user::Model, AppError> {
    user::Entity::find()
        .filter(user::Column::Name.eq(name.trim()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("user {:?} not found", name.trim())))
}

/// Every user, by name (`users/read` at the root).
pub async fn list(caller: &Caller) -> Result<Vec<UserSummary>, AppError> {
    caller.authorize(actions::USERS_READ, &Scope::Root, "/users").await?;
    Ok(user::Entity::find().order_by_asc(user::Column::Name).all(&caller.db).await?.into_iter().map(to_wire).collect())
}

/// A new user who must change `password` at first sign-in (`users/write` at the root).
pub async fn create(caller: &Caller, name: String, password: String) -> Result<UserSummary, AppError> {
    let resource = format!("/users/{}", name.trim());
    caller.authorize(actions::USERS_WRITE, &Scope::Root, &resource).await?;
    let result = async {
        let name = UserName::parse(name.trim())?;
        validate_new_password(&password)?;
        if find_by_name(&caller.db, name.as_str()).await.is_ok() {
            return Err(AppError::Conflict(format!("a user named {:?} already exists", name.as_str())));
        }
        let now = Utc::now();
        let row = user::ActiveModel {
            id: Set(uuid::Uuid::new_v4().to_string()),
            name: Set(name.to_string()),
            password_hash: Set(password::hash(password).await?),
            must_change_password: Set(true),
            disabled: Set(false),
            created_at: Set(now),
            password_changed_at: Set(now),
        }
        .insert(&caller.db)
        .await
        .map_err(|e| domain::error::conflict_on_unique(e, "that user name is taken"))?;
        Ok(to_wire(row))
    }
    .await;
    caller.audited(actions::USERS_WRITE, &Scope::Root, &resource, result).await
}

/// Disables (ending their sessions at once) or re-enables a user; nobody disables themself.
pub async fn set_disabled(caller: &Caller, name: String, disabled: bool) -> Result<UserSummary, AppError> {
    let resource = format!("/users/{}", name.trim());
    caller.authorize(actions::USERS_WRITE, &Scope::Root, &resource).await?;
    let result = async {
        let target = find_by_name(&caller.db, &name).await?;
        if target.id == caller.user.id && disabled {
            return Err(AppError::Conflict("you cannot disable yourself".into()));
        }
        let id = target.id.clone();
        let mut active: user::ActiveModel = target.into();
        active.disabled = Set(disabled);
        let row = active.update(&caller.db).await?;
        if disabled {
            session::Entity::delete_many().filter(session::Column::UserId.eq(&id)).exec(&caller.db).await?;
        }
        Ok(to_wire(row))
    }
    .await;
    caller.audited(actions::USERS_WRITE, &Scope::Root, &resource, result).await
}
