//! Users: Owners create them (with a first password to change at first sign-in), disable and
//! re-enable them. A disabled user's sessions end at once.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::authz::ssr::Caller;
use crate::error::AppError;

/// A user as the users page lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserSummary {
    pub id: String,
    pub name: String,
    pub disabled: bool,
    pub must_change_password: bool,
    pub created_at: DateTime<Utc>,
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use chrono::Utc;
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

    use super::UserSummary;
    use crate::auth::password;
    use crate::authz::ssr::Caller;
    use crate::db::{session, user};
    use crate::domain::rbac::{Scope, actions};
    use crate::domain::{UserName, validate_new_password};
    use crate::error::AppError;

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
        Ok(user::Entity::find().order_by_asc(user::Column::Name).all(&caller.state.db).await?.into_iter().map(to_wire).collect())
    }

    /// A new user who must change `password` at first sign-in (`users/write` at the root).
    pub async fn create(caller: &Caller, name: String, password: String) -> Result<UserSummary, AppError> {
        let resource = format!("/users/{}", name.trim());
        caller.authorize(actions::USERS_WRITE, &Scope::Root, &resource).await?;
        let result = async {
            let name = UserName::parse(name.trim())?;
            validate_new_password(&password)?;
            if find_by_name(&caller.state.db, name.as_str()).await.is_ok() {
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
            .insert(&caller.state.db)
            .await
            .map_err(|e| crate::error::conflict_on_unique(e, "that user name is taken"))?;
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
            let target = find_by_name(&caller.state.db, &name).await?;
            if target.id == caller.user.id && disabled {
                return Err(AppError::Conflict("you cannot disable yourself".into()));
            }
            let id = target.id.clone();
            let mut active: user::ActiveModel = target.into();
            active.disabled = Set(disabled);
            let row = active.update(&caller.state.db).await?;
            if disabled {
                session::Entity::delete_many().filter(session::Column::UserId.eq(&id)).exec(&caller.state.db).await?;
            }
            Ok(to_wire(row))
        }
        .await;
        caller.audited(actions::USERS_WRITE, &Scope::Root, &resource, result).await
    }
}

/// Every user, by name.
#[server(endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<UserSummary>, AppError> {
    crate::request::respond(async move { ssr::list(&Caller::current().await?).await }.await)
}

/// Creates a user who must change the given password at first sign-in.
#[server(endpoint = "create_user")]
pub async fn create_user(name: String, password: String) -> Result<UserSummary, AppError> {
    crate::request::respond(async move { ssr::create(&Caller::current().await?, name, password).await }.await)
}

/// Disables (ending their sessions at once) or re-enables a user.
#[server(endpoint = "set_user_disabled")]
pub async fn set_user_disabled(name: String, disabled: bool) -> Result<UserSummary, AppError> {
    crate::request::respond(async move { ssr::set_disabled(&Caller::current().await?, name, disabled).await }.await)
}
