//! Periodic backup: a full backup of every live periodic-mode account once per its interval
//! (the first one as soon as the account exists). When an account is due is read from its
//! newest restore point (`backup_points`), so a restart neither repeats a backup nor forgets a
//! missed one: that runs at start. Each account's backup is taken under a lease, so replicas
//! take it once between them.

use backup::entities::backup_point;
use backup::lease::Term;
use chrono::{DateTime, Utc};
use control::db::account;
use control::state::AppState;
use domain::{AccountState, BackupPolicy};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const PAUSE: Duration = Duration::from_secs(2);

/// One pass: backs up every periodic account whose interval has passed, each under a lease so
/// that one replica takes it; returns how many this replica took.
///
/// # Errors
/// Only a failure to list accounts; a failing account is logged and retried next pass.
pub async fn step(state: &AppState, owner: &str, now: DateTime<Utc>) -> Result<usize, sea_orm::DbErr> {
    let accounts = account::Entity::find()
        .filter(account::Column::DeletedAt.is_null())
        .filter(account::Column::State.eq(AccountState::Online))
        .all(&state.db)
        .await?;
    let kek = state.backup_keys.clone();
    let mut taken = 0;
    for a in accounts {
        let BackupPolicy::Periodic { interval_hours, .. } = a.backup_policy else { continue };
        let interval = chrono::Duration::hours(i64::from(interval_hours));
        if !due(state, &a.id, interval, now).await? {
            continue;
        }
        let work = async {
            // Still periodic and still due once the lease is ours: the account may have just
            // migrated to continuous backup (its log is shipped from now on, and must not be
            // pruned here), or another replica taken the backup.
            let still = account::Entity::find_by_id(a.id.clone()).one(&state.db).await?;
            if !still.is_some_and(|r| matches!(r.backup_policy, BackupPolicy::Periodic { .. })) || !due(state, &a.id, interval, now).await?
            {
                return Ok(None);
            }
            let storage = state.backup_storage.writing_for(a.backup_policy.redundancy())?;
            backup::periodic::take_full(&state.db, &storage, &kek, &a.id, backup::chunk::ChunkBounds::DEFAULT).await.map(Some)
        };
        let lease = format!("periodic/{}", a.id);
        match backup::lease::while_held(&state.db, &lease, owner, Term::WORKER, work).await {
            Ok(Some(Ok(Some(s)))) => {
                taken += 1;
                tracing::info!(account = %a.name, seq = s.seq, items = s.items, "periodic backup taken");
                // A periodic account's change log is read by nothing: its backups are full copies.
                if let Err(e) = prune_all(state, &a.id, s.seq).await {
                    tracing::warn!(account = %a.name, error = %e, "pruning the change log failed; retrying next pass");
                }
            }
            Ok(None | Some(Ok(None))) => {}
            Ok(Some(Err(e))) => tracing::warn!(account = %a.name, error = %e, "periodic backup failed; retrying"),
            Err(e) => tracing::warn!(account = %a.name, error = %e, "could not take the periodic backup lease"),
        }
    }
    Ok(taken)
}

/// Whether the account's newest backup is `interval` old or more (or it has none).
async fn due(state: &AppState, account_id: &str, interval: chrono::Duration, now: DateTime<Utc>) -> Result<bool, sea_orm::DbErr> {
    let newest = backup_point::Entity::find()
        .filter(backup_point::Column::AccountId.eq(account_id))
        .order_by_desc(backup_point::Column::TakenAt)
        .one(&state.db)
        .await?;
    Ok(newest.is_none_or(|p| now - p.taken_at >= interval))
}

/// Removes the account's change log up to `through`, a batch at a time.
async fn prune_all(state: &AppState, account_id: &str, through: i64) -> Result<(), engine::EngineError> {
    while engine::changelog::prune(&state.db, account_id, through, 10_000).await? > 0 {}
    Ok(())
}

/// Runs until `shutdown` is cancelled.
pub async fn run(state: AppState, owner: String, shutdown: CancellationToken) {
    loop {
        if let Err(e) = step(&state, &owner, Utc::now()).await {
            tracing::warn!(error = %e, "periodic backup pass failed; retrying");
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(PAUSE) => {}
        }
    }
}
