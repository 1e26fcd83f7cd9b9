//! When an account can be restored to: a continuous account's restorable window, a periodic
//! account's backups within retention.

use backup::entities::{backup_point, backup_state};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use domain::error::AppError;
use domain::restore::BackupPoint;
use domain::{BackupPolicy, CreateMode};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::db::account;

/// The restorable window of a continuous account: from `max(creation, now − retention)` to
/// the latest backed-up instant (no later than its deletion). `None` before the first backup
/// pass or when nothing in the window is backed up. An account made by a restore holds nothing
/// worth restoring from before its restore finished (`online_since`).
pub fn window(row: &account::Model, state: Option<&backup_state::Model>, now: DateTime<Utc>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let state = state?;
    // Retention may have swept what restores before this would need.
    let oldest = oldest_restorable(row, now)?.max(state.restorable_from.unwrap_or(DateTime::<Utc>::MIN_UTC));
    let mut latest = state.backed_up_through;
    if let Some(d) = row.deleted_at {
        latest = latest.min(d);
    }
    (latest >= oldest).then_some((oldest, latest))
}

/// Where a continuous account's restorable window begins: `max(creation, now − retention)`, and
/// for an account made by a restore no earlier than when it came online, for one migrated from
/// periodic backup no earlier than its migration. `None` for a periodic
/// account and a restored one not online yet.
pub fn oldest_restorable(row: &account::Model, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let BackupPolicy::Continuous { tier, .. } = row.backup_policy else { return None };
    let mut oldest = row.created_at.max(now - Duration::days(i64::from(tier.retention_days())));
    if let Some(migrated) = row.migrated_at {
        oldest = oldest.max(migrated);
    }
    if row.create_mode == CreateMode::Restore {
        return Some(oldest.max(row.online_since?));
    }
    Some(oldest)
}

/// Checks that `at` lies in a continuous account's restorable window.
///
/// # Errors
/// [`AppError::Invalid`] for a periodic account, one without a restore point yet, or a time
/// outside the window (the message gives the window).
pub async fn check_window(db: &DatabaseConnection, row: &account::Model, at: DateTime<Utc>) -> Result<(), AppError> {
    let BackupPolicy::Continuous { .. } = row.backup_policy else {
        return Err(AppError::Invalid(format!(
            "account {:?} uses periodic backup; point-in-time restore needs continuous backup",
            row.name
        )));
    };
    let state = backup_state::Entity::find_by_id(row.id.clone()).one(db).await?;
    let fmt = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    match window(row, state.as_ref(), Utc::now()) {
        None => Err(AppError::Invalid(format!("account {:?} has no restore point yet; its first backup runs within seconds", row.name))),
        Some((oldest, latest)) if at < oldest || at > latest => Err(AppError::Invalid(format!(
            "restore time {} is outside the restorable window of account {:?}: {} to {}",
            fmt(at),
            row.name,
            fmt(oldest),
            fmt(latest)
        ))),
        Some(_) => Ok(()),
    }
}

/// The retention of an account's periodic backups in hours: its policy's, or for an account
/// migrated to continuous backup the one its periodic backups were taken under.
///
/// # Errors
/// [`AppError::Invalid`] for a continuous account that never had periodic backups (it restores
/// to a point in time directly).
pub fn periodic_retention(row: &account::Model) -> Result<u32, AppError> {
    match row.backup_policy {
        BackupPolicy::Periodic { retention_hours, .. } => Ok(retention_hours),
        BackupPolicy::Continuous { .. } => row.periodic_retention_hours.and_then(|h| u32::try_from(h).ok()).ok_or_else(|| {
            AppError::Invalid(format!(
                "account {:?} uses continuous backup; restore it to a point in time directly instead of by request",
                row.name
            ))
        }),
    }
}

/// An account's periodic backups that can be restored as of `now`, newest first: those within
/// `retention_hours`, and the last backup of each container deleted within the last 30 days
/// (`backup::retention::last_backups_of_deleted`, which the sweeper keeps), naming it.
///
/// # Errors
/// Database errors.
pub async fn periodic_backups(
    db: &DatabaseConnection,
    row: &account::Model,
    retention_hours: u32,
    now: DateTime<Utc>,
) -> Result<Vec<BackupPoint>, AppError> {
    use backup::retention::{DELETED_CONTAINERS_KEPT, last_backups_of_deleted, point_containers};
    // Every point the sweeper left (within retention, its newest copies, deleted containers'
    // last); of those, the ones within retention and the deleted containers' last are listed.
    let all = backup_point::Entity::find()
        .filter(backup_point::Column::AccountId.eq(&row.id))
        .order_by_desc(backup_point::Column::TakenAt)
        .all(db)
        .await?;
    let since = now - Duration::hours(i64::from(retention_hours));
    let last_of_deleted = last_backups_of_deleted(&all, now - DELETED_CONTAINERS_KEPT);
    let live = all.first().and_then(point_containers).unwrap_or_default();
    Ok(all
        .iter()
        .filter(|p| p.taken_at >= since || last_of_deleted.contains(&p.taken_at))
        .map(|p| BackupPoint {
            taken_at: p.taken_at,
            items: p.items,
            bytes: p.bytes,
            deleted_containers: point_containers(p).unwrap_or_default().into_iter().filter(|c| !live.contains(c)).collect(),
        })
        .collect())
}

/// Until when a migrated account's periodic backups from before its migration may still be
/// restorable: its retention after the migration, or 30 days for a deleted container's last
/// backup if that is longer. `None` for an account that was not migrated.
pub fn periodic_backups_until(row: &account::Model) -> Option<DateTime<Utc>> {
    let retention = Duration::hours(i64::from(row.periodic_retention_hours?));
    Some(row.migrated_at? + retention.max(backup::retention::DELETED_CONTAINERS_KEPT))
}
