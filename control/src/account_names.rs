//! When an account name is taken: while a live account holds it (a deleted account's name is
//! free again; the deleted account stays restorable under its id). The one home of that rule
//! and of its answer, for creating an account and for reserving a restore's new account.

use domain::error::AppError;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::db::account;

/// What a taken account name is answered with.
pub fn taken_message(name: &str) -> String {
    format!("an account named {name:?} already exists")
}

/// Whether a live account holds `name`.
///
/// # Errors
/// Database errors.
pub async fn taken(db: &impl ConnectionTrait, name: &str) -> Result<bool, AppError> {
    Ok(account::Entity::find().filter(account::Column::Name.eq(name)).filter(account::Column::DeletedAt.is_null()).one(db).await?.is_some())
}

/// Refuses a taken `name`.
///
/// # Errors
/// [`AppError::Conflict`] naming it; database errors.
pub async fn ensure_free(db: &impl ConnectionTrait, name: &str) -> Result<(), AppError> {
    if taken(db, name).await? {
        return Err(AppError::Conflict(taken_message(name)));
    }
    Ok(())
}
