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

/// How long a lease lasts without renewal, and how often its holder renews it while it works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    pub lease: std::time::Duration,
    pub renew: std::time::Duration,
}

impl Term {
    /// What the workers use: a dead holder's job is taken over within a minute.
    pub const WORKER: Self = Self { lease: std::time::Duration::from_secs(60), renew: std::time::Duration::from_secs(10) };

    fn until(self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::from_std(self.lease).unwrap_or_default()
    }
}

/// Runs `work` holding the lease on `name` — renewed every `term.renew` while it runs, given up
/// when it ends — or returns `None` at once if another holder has the lease. Losing the lease
/// mid-way (a renewal that failed past its term) is logged; the work goes on, and everything
/// leased here is safe to run twice, only wasteful.
///
/// # Errors
/// Database errors taking the lease.
pub async fn while_held<T>(
    db: &DatabaseConnection,
    name: &str,
    owner: &str,
    term: Term,
    work: impl std::future::Future<Output = T>,
) -> Result<Option<T>, BackupError> {
    if !acquire(db, name, owner, term.until()).await? {
        return Ok(None);
    }
    let mut work = std::pin::pin!(work);
    let mut renew = tokio::time::interval(term.renew);
    renew.tick().await;
    let out = loop {
        tokio::select! {
            out = &mut work => break out,
            _ = renew.tick() => match acquire(db, name, owner, term.until()).await {
                Ok(true) => {}
                Ok(false) => tracing::warn!(lease = name, "lost a lease while working; another replica may do the same work"),
                Err(e) => tracing::warn!(lease = name, error = %e, "could not renew a lease"),
            },
        }
    };
    if let Err(e) = release(db, name, owner).await {
        tracing::warn!(lease = name, error = %e, "could not give a lease up; it runs out by itself");
    }
    Ok(Some(out))
}
