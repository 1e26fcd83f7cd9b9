//! Leases on named background jobs, kept in the service database, so that one replica at a
//! time runs a job and a dead replica's job is taken over once its lease runs out.
//!
//! A holder renews well within the lease while it works and releases it when done; taking a
//! lease is one conditional write (insert, or update where expired or already ours), so two
//! replicas cannot both win it.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, Set};

use crate::entities::job_lease;
use crate::error::BackupError;

/// Takes (or renews) the lease on `name` for `owner` until `until`, if it is free, expired or
/// already `owner`'s. Returns whether `owner` holds it now.
///
/// # Errors
/// Database errors.
pub async fn acquire(db: &DatabaseConnection, name: &str, owner: &str, until: DateTime<Utc>) -> Result<bool, BackupError> {
    let inserted =
        job_lease::Entity::insert(job_lease::ActiveModel { name: Set(name.to_owned()), owner: Set(owner.to_owned()), until: Set(until) })
            .on_conflict(OnConflict::column(job_lease::Column::Name).do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
    if inserted == 1 {
        return Ok(true);
    }
    let taken = job_lease::Entity::update_many()
        .col_expr(job_lease::Column::Owner, Expr::value(owner))
        .col_expr(job_lease::Column::Until, Expr::value(until))
        .filter(job_lease::Column::Name.eq(name))
        .filter(Condition::any().add(job_lease::Column::Owner.eq(owner)).add(job_lease::Column::Until.lt(Utc::now())))
        .exec(db)
        .await?;
    Ok(taken.rows_affected == 1)
}

/// Gives the lease on `name` up, if `owner` holds it.
///
/// # Errors
/// Database errors.
pub async fn release(db: &DatabaseConnection, name: &str, owner: &str) -> Result<(), BackupError> {
    job_lease::Entity::delete_many().filter(job_lease::Column::Name.eq(name)).filter(job_lease::Column::Owner.eq(owner)).exec(db).await?;
    Ok(())
}
