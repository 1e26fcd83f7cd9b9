//! Writes the counted rows that sum up bursts of repeated failures once their window has closed
//! (see `control::audit_bursts::Bursts`). The counts are this process's own, so every replica runs this for
//! itself; no lease is needed.

use control::state::AppState;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const PAUSE: Duration = Duration::from_secs(10);

/// One pass: returns how many summary rows it wrote.
pub async fn step(state: &AppState) -> usize {
    let rows = state.audit_bursts.due(Instant::now());
    let n = rows.len();
    control::audit::append_all(&state.db, rows).await;
    n
}

/// Runs until `shutdown` is cancelled.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    loop {
        step(&state).await;
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(PAUSE) => {}
        }
    }
}
