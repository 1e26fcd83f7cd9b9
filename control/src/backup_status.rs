//! An account's backup page from the control plane's side: where its backups stand
//! ([`status`], `backups/read`) and what a policy change would drop before it is saved
//! ([`preview_change`], `accounts/backupPolicy/write`; [`crate::accounts::change_backup_policy`]
//! saves it). Everything comes from the catalog: nothing in backup storage is read.

use backup::entities::{backup_point, backup_snapshot, backup_state};
use chrono::{DateTime, SecondsFormat, Utc};
use domain::backup_status::{BackupStatus, PolicyChangePreview, UsageSample};
use domain::error::AppError;
use domain::rbac::actions;
use domain::restore::BackupPoint;
use domain::{BackupPolicy, BackupPolicyChange};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::Ctx;
use crate::accounts::authorized_account;
use crate::authz::Caller;
use crate::db::account;
use crate::restore::{periodic_backups, periodic_retention, window};

/// Where `name`'s backups stand now.
///
/// # Errors
/// 404/403 as for reading the account without `backups/read`; database errors.
pub async fn status(ctx: &Ctx<'_>, caller: &Caller, subscription_id: String, name: String) -> Result<BackupStatus, AppError> {
    let row = authorized_account(caller, actions::BACKUPS_READ, &subscription_id, &name).await?;
    let now = Utc::now();
    let state = backup_state::Entity::find_by_id(row.id.clone()).one(ctx.db).await?;
    let points = match periodic_retention(&row) {
        Ok(retention_hours) => periodic_backups(ctx.db, &row, retention_hours, now).await?,
        Err(_) => Vec::new(),
    };
    let (mut snapshots, mut window_now, mut lag_ms) = (Vec::new(), None, None);
    if let BackupPolicy::Continuous { .. } = row.backup_policy {
        window_now = window(&row, state.as_ref(), now);
        // Before the first shipping pass there is nothing to be behind.
        lag_ms = window_now.and(state.as_ref()).map(|s| (now - s.backed_up_through).num_milliseconds().max(0));
        snapshots = backup_snapshot::Entity::find()
            .filter(backup_snapshot::Column::AccountId.eq(&row.id))
            .order_by_desc(backup_snapshot::Column::Seq)
            .all(ctx.db)
            .await?
            .into_iter()
            .map(|s| BackupPoint { taken_at: s.taken_at, items: s.items, bytes: s.bytes, deleted_containers: Vec::new() })
            .collect();
    }
    let log = backup::usage::log(ctx.db, &row.id).await.map_err(internal)?;
    let (log_from, log_to) = log.span.unzip();
    let stored_bytes = backup::usage::stored_bytes(ctx.db, &row.id).await.map_err(internal)?;
    let mut usage: Vec<UsageSample> =
        backup::usage::series(ctx.db, &row.id).await.map_err(internal)?.into_iter().map(|(at, bytes)| UsageSample { at, bytes }).collect();
    // The chart ends now, whenever the last sample was recorded.
    usage.push(UsageSample { at: now, bytes: stored_bytes });
    Ok(BackupStatus {
        encryption: row.key_management.describe(row.customer_key.as_deref()),
        account_id: row.id,
        account_name: row.name,
        policy: row.backup_policy,
        oldest_restorable: window_now.map(|(o, _)| o),
        latest_restorable: window_now.map(|(_, l)| l),
        lag_ms,
        migrated_at: row.migrated_at,
        points,
        snapshots,
        log_segments: log.segments,
        log_bytes: log.bytes,
        log_from,
        log_to,
        stored_bytes,
        usage,
    })
}

/// What `change` would do to `name`'s backups if it were saved now: the policy after it (or
/// the error saving would give) and the restore points it would drop at once.
///
/// # Errors
/// As [`crate::accounts::change_backup_policy`], which checks the same.
pub async fn preview_change(
    ctx: &Ctx<'_>,
    caller: &Caller,
    subscription_id: String,
    name: String,
    change: BackupPolicyChange,
) -> Result<PolicyChangePreview, AppError> {
    let row = authorized_account(caller, actions::ACCOUNTS_BACKUP_POLICY_WRITE, &subscription_id, &name).await?;
    let before = row.backup_policy;
    let after = before.changed(&change)?;
    crate::new_account::ensure_kept(ctx.backup_storage, &after)?;
    let drops = dropped(ctx, &row, after, Utc::now()).await?;
    Ok(PolicyChangePreview { before, after, drops })
}

/// The restore points `row` loses at once under `after`: periodic backups the retention sweep
/// would no longer keep, or the part of a continuous window a shorter tier gives up.
async fn dropped(ctx: &Ctx<'_>, row: &account::Model, after: BackupPolicy, now: DateTime<Utc>) -> Result<Vec<String>, AppError> {
    let changed = account::Model { backup_policy: after, ..row.clone() };
    let fmt = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    match (row.backup_policy, crate::retention::keep(&changed, now)) {
        (BackupPolicy::Periodic { .. }, Some(keep)) => {
            let points = backup_point::Entity::find()
                .filter(backup_point::Column::AccountId.eq(&row.id))
                .order_by_desc(backup_point::Column::TakenAt)
                .all(ctx.db)
                .await?;
            let kept_now = crate::retention::keep(row, now).map_or_else(|| vec![true; points.len()], |k| k.kept(&points));
            let kept_after = keep.kept(&points);
            Ok(points
                .iter()
                .zip(kept_now.iter().zip(&kept_after))
                .filter(|(_, (now, after))| **now && !**after)
                .map(|(p, _)| format!("the backup of {} ({} items)", fmt(p.taken_at), p.items))
                .collect())
        }
        (BackupPolicy::Continuous { .. }, _) => {
            let state = backup_state::Entity::find_by_id(row.id.clone()).one(ctx.db).await?;
            let (Some((from, _)), Some((to, _))) = (window(row, state.as_ref(), now), window(&changed, state.as_ref(), now)) else {
                return Ok(Vec::new());
            };
            Ok((to > from)
                .then(|| format!("every restore point from {} to {}: the window will begin at {}", fmt(from), fmt(to), fmt(to)))
                .into_iter()
                .collect())
        }
        (BackupPolicy::Periodic { .. }, None) => Ok(Vec::new()),
    }
}

fn internal(e: backup::BackupError) -> AppError {
    tracing::error!(error = %e, "reading the backup catalog failed");
    AppError::Internal
}
