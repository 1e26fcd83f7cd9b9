//! Keeps every account's journal in backup storage up to the service database
//! (`control::backup_catalog::export_pass`): one replica at a time, under a lease that a dead
//! replica's successor takes over once it runs out.

use chrono::Utc;
use control::backup_catalog::{Exported, export_pass};
use control::state::AppState;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const LEASE_NAME: &str = "catalog-export";
/// How often the journal catches up: what a lost database can take with it of the catalog (a
/// snapshot or restore point taken in the last few seconds; the log describes itself).
const PAUSE: Duration = Duration::from_secs(5);
const LEASE: Duration = Duration::from_secs(60);

/// One pass, if this replica holds (or takes) the lease; `None` when another replica does.
///
/// # Errors
/// The pass's first error (every account was tried).
pub async fn step(state: &AppState, owner: &str) -> Result<Option<Exported>, backup::BackupError> {
    let until = Utc::now() + chrono::Duration::from_std(LEASE).unwrap_or_default();
    if !backup::lease::acquire(&state.db, LEASE_NAME, owner, until).await? {
        return Ok(None);
    }
    export_pass(&state.ctx()).await.map(Some)
}

/// Runs until `shutdown` is cancelled.
pub async fn run(state: AppState, owner: String, shutdown: CancellationToken) {
    loop {
        match step(&state, &owner).await {
            Ok(Some(done)) if done.records > 0 => {
                tracing::debug!(accounts = done.accounts, records = done.records, "backup catalog written to backup storage");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not bring the backup catalog in backup storage up to date; retrying"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(PAUSE) => {}
        }
    }
}
