//! The retention sweeper (`control::retention`): the only code that deletes backup objects, on
//! one replica at a time under a lease, every few minutes.

use chrono::Utc;
use control::state::AppState;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const LEASE_NAME: &str = "retention";
const PAUSE: Duration = Duration::from_secs(600);
/// Longer than a pass takes (it is not renewed during one): a dead holder's successor sweeps
/// once it runs out.
const LEASE: Duration = Duration::from_secs(1800);

/// One pass, if this replica holds (or takes) the lease; returns how many accounts lost something.
///
/// # Errors
/// Database errors.
pub async fn step(state: &AppState, owner: &str) -> Result<Option<usize>, backup::BackupError> {
    let until = Utc::now() + chrono::Duration::from_std(LEASE).unwrap_or_default();
    if !backup::lease::acquire(&state.db, LEASE_NAME, owner, until).await? {
        return Ok(None);
    }
    let swept = control::retention::sweep_pass(&state.ctx(), Utc::now()).await?;
    Ok(Some(swept.len()))
}

/// Runs until `shutdown` is cancelled.
pub async fn run(state: AppState, owner: String, shutdown: CancellationToken) {
    loop {
        match step(&state, &owner).await {
            Ok(Some(n)) if n > 0 => tracing::info!(accounts = n, "retention sweep removed expired backups"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "retention sweep failed; retrying"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(PAUSE) => {}
        }
    }
}
