//! Base snapshots (`backup::snapshot`), in a worker of their own so a long merge never delays
//! the one-second shipping pass. Each pass looks for continuous accounts with a snapshot due,
//! takes that account's snapshot lease, and builds the snapshot while renewing the lease; a
//! replica that dies mid-merge leaves the lease to run out, and the next holder runs the merge
//! again, keeping the chunks already stored.

use backup::snapshot::SnapshotPolicy;
use chrono::Utc;
use control::db::account;
use control::state::AppState;
use domain::BackupPolicy;
use sea_orm::EntityTrait;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long a snapshot lease lasts without renewal, and how often its holder renews it.
const LEASE: Duration = Duration::from_secs(60);
const RENEW: Duration = Duration::from_secs(10);
const PAUSE: Duration = Duration::from_secs(5);

fn lease_end() -> chrono::DateTime<Utc> {
    Utc::now() + chrono::Duration::from_std(LEASE).unwrap_or_default()
}

/// One pass: takes every due base snapshot whose lease this replica gets; returns how many.
///
/// # Errors
/// Only a failure to list accounts; a failing snapshot is logged and retried next pass.
pub async fn step(state: &AppState, owner: &str, policy: SnapshotPolicy) -> Result<usize, sea_orm::DbErr> {
    let kek = state.backup_keys.clone();
    let mut taken = 0;
    for a in account::Entity::find().all(&state.db).await? {
        let BackupPolicy::Continuous { .. } = a.backup_policy else { continue };
        match backup::snapshot::due(&state.db, &a.id, policy).await {
            Ok(Some(_)) => {}
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(account = %a.name, error = %e, "could not tell whether a base snapshot is due");
                continue;
            }
        }
        let lease = format!("snapshot/{}", a.id);
        match backup::lease::acquire(&state.db, &lease, owner, lease_end()).await {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::warn!(account = %a.name, error = %e, "could not take the snapshot lease");
                continue;
            }
        }
        let stop = CancellationToken::new();
        let keeper = tokio::spawn(keep(state.db.clone(), lease.clone(), owner.to_owned(), stop.clone()));
        let result = match state.backup_storage.writing_for(a.backup_policy.redundancy()) {
            Ok(storage) => backup::snapshot::take_if_due(&state.db, &storage, &kek, &a.id, policy).await,
            Err(e) => Err(e),
        };
        stop.cancel();
        let _ = keeper.await;
        if let Err(e) = backup::lease::release(&state.db, &lease, owner).await {
            tracing::warn!(account = %a.name, error = %e, "could not release the snapshot lease; it runs out by itself");
        }
        match result {
            Ok(Some(seq)) => {
                taken += 1;
                tracing::info!(account = %a.name, seq, "base snapshot taken");
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(account = %a.name, error = %e, "base snapshot failed; retrying later"),
        }
    }
    Ok(taken)
}

/// Renews the lease until stopped. Losing it is harmless: a second merge of the same snapshot
/// writes the same chunks and the first manifest row stands.
async fn keep(db: sea_orm::DatabaseConnection, lease: String, owner: String, stop: CancellationToken) {
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(RENEW) => {}
        }
        match backup::lease::acquire(&db, &lease, &owner, lease_end()).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(%lease, "lost the snapshot lease; another replica may merge the same snapshot"),
            Err(e) => tracing::warn!(%lease, error = %e, "could not renew the snapshot lease"),
        }
    }
}

/// Runs until `shutdown` is cancelled; `owner` names this replica in leases.
pub async fn run(state: AppState, owner: String, shutdown: CancellationToken) {
    loop {
        if let Err(e) = step(&state, &owner, SnapshotPolicy::DEFAULT).await {
            tracing::warn!(error = %e, "base snapshot pass failed; retrying");
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(PAUSE) => {}
        }
    }
}
