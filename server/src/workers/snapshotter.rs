//! Base snapshots (`backup::snapshot`), in a worker of their own so a long merge never delays
//! the one-second shipping pass. Each pass looks for continuous accounts with a snapshot due,
//! takes that account's snapshot lease, and builds the snapshot while renewing the lease; a
//! replica that dies mid-merge leaves the lease to run out, and the next holder runs the merge
//! again, keeping the chunks already stored.

use backup::lease::Term;
use backup::snapshot::SnapshotPolicy;
use control::db::account;
use control::state::AppState;
use domain::BackupPolicy;
use sea_orm::EntityTrait;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const PAUSE: Duration = Duration::from_secs(5);

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
        let work = async {
            let storage = state.backup_storage.writing_for(a.backup_policy.redundancy())?;
            backup::snapshot::take_if_due(&state.db, &storage, &kek, &a.id, policy).await
        };
        let result = match backup::lease::while_held(&state.db, &lease, owner, Term::WORKER, work).await {
            Ok(Some(result)) => result,
            // Another replica is taking it.
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(account = %a.name, error = %e, "could not take the snapshot lease");
                continue;
            }
        };
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
