//! Runs restore jobs: a loop around [`control::restore::step`], which claims one job under a
//! lease and runs it to its end.

use control::restore::Outcome;
use control::state::AppState;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const IDLE_PAUSE: Duration = Duration::from_millis(500);

/// Runs until `shutdown` is cancelled; `owner` names this replica in leases.
pub async fn run(state: AppState, owner: String, shutdown: CancellationToken) {
    loop {
        let pause = match control::restore::step(&state.ctx(), &owner).await {
            Ok(Outcome::Idle) => IDLE_PAUSE,
            Ok(_) => Duration::ZERO,
            Err(e) => {
                tracing::warn!(error = %e, "restore worker step failed; retrying");
                IDLE_PAUSE
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
        }
    }
}
