//! Continuous backup: about once a second, ships every continuous-mode account's new change-log
//! entries to backup storage and moves its latest restorable time forward (`backup::ship`), then
//! prunes the live log of what it shipped. One replica ships at a time, under a short lease.
//! Base snapshots have a worker of their own (`snapshotter`), so a long merge never delays
//! shipping.

use backup::lease::Term;
use control::db::account;
use control::state::AppState;
use domain::BackupPolicy;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The pause between passes: with a pass's own time, what a write waits to become restorable.
pub const PAUSE: Duration = Duration::from_millis(500);
/// Live change-log entries (or, for a deleted account, rows of its data) removed per account
/// and pass once backup storage holds them.
pub const PRUNE_BATCH: u64 = 10_000;

/// What one pass did over all accounts.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pass {
    pub accounts: usize,
    pub segments: usize,
    pub entries: usize,
    pub failed: usize,
}

/// One pass over every account with continuous backup. A deleted account is shipped until its
/// backup reaches its deletion; after that nothing can change it, and its live rows are removed
/// (the backup holds them). The live change log is pruned of what is shipped.
///
/// # Errors
/// Only a failure to list accounts; a failing account is logged and counted, and the others
/// still ship.
pub async fn step(state: &AppState) -> Result<Pass, sea_orm::DbErr> {
    let accounts = account::Entity::find().all(&state.db).await?;
    let kek = state.backup_keys.clone();
    let mut pass = Pass::default();
    for a in accounts {
        let BackupPolicy::Continuous { .. } = a.backup_policy else { continue };
        if let Some(deleted_at) = a.deleted_at {
            let through = backup::entities::backup_state::Entity::find_by_id(a.id.clone())
                .filter(backup::entities::backup_state::Column::BackedUpThrough.gte(deleted_at))
                .one(&state.db)
                .await?;
            if through.is_some() {
                if let Err(e) = engine::store::purge_account(&state.db, &a.id, PRUNE_BATCH).await {
                    tracing::warn!(account = %a.name, error = %e, "removing a deleted account's live rows failed; retrying");
                }
                continue;
            }
        }
        pass.accounts += 1;
        let shipping = async {
            let storage = state.backup_storage.writing_for(a.backup_policy.redundancy())?;
            backup::ship::ship_account(&state.db, &storage, &kek, &a.id, backup::ship::SegmentBounds::DEFAULT).await
        };
        match shipping.await {
            Ok(s) => {
                pass.segments += s.segments;
                pass.entries += s.entries;
                if let Err(e) = engine::changelog::prune(&state.db, &a.id, s.shipped_seq, PRUNE_BATCH as i64).await {
                    tracing::warn!(account = %a.name, error = %e, "pruning the shipped change log failed; retrying");
                }
            }
            Err(e) => {
                pass.failed += 1;
                tracing::warn!(account = %a.name, error = %e, "continuous backup pass failed; retrying");
            }
        }
    }
    Ok(pass)
}

/// The lease one replica ships under: short, renewed every second while a pass runs, so a dead
/// replica's shipping is taken over within seconds — the restorable window's promise.
const LEASE_NAME: &str = "shipper";
const TERM: Term = Term { lease: Duration::from_secs(5), renew: Duration::from_secs(1) };

/// Runs until `shutdown` is cancelled: a pass whenever this replica holds (or takes) the
/// shipping lease; `owner` names the replica.
pub async fn run(state: AppState, owner: String, shutdown: CancellationToken) {
    loop {
        match backup::lease::while_held(&state.db, LEASE_NAME, &owner, TERM, step(&state)).await {
            Ok(Some(Ok(p))) if p.segments > 0 => tracing::debug!(segments = p.segments, entries = p.entries, "change log shipped"),
            Ok(Some(Ok(_)) | None) => {}
            Ok(Some(Err(e))) => tracing::warn!(error = %e, "continuous backup pass failed; retrying"),
            Err(e) => tracing::warn!(error = %e, "could not take the shipping lease; retrying"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(PAUSE) => {}
        }
    }
}
