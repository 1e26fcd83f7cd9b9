//! Scheduled backup verification (`control::verification`): every account with backups is
//! verified deeply — every copy read, its hash, tag and contents checked — once per interval
//! (daily by default). One replica verifies an account at a time, under a lease per account; a
//! replica that dies mid-way leaves it to run out, and the account is still due, so another
//! verifies it.

use backup::verify::Depth;
use chrono::Utc;
use control::state::AppState;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const PAUSE: Duration = Duration::from_secs(60);
const LEASE: Duration = Duration::from_secs(3600);

/// One pass: verifies every due account whose lease this replica gets; returns how many.
///
/// # Errors
/// Only a failure to list the due accounts; a failing verification is logged and audited.
pub async fn step(state: &AppState, owner: &str, every: Duration) -> Result<usize, domain::error::AppError> {
    let every = chrono::Duration::from_std(every).unwrap_or(chrono::Duration::MAX);
    let mut done = 0;
    for row in control::verification::due(&state.db, every, Utc::now()).await? {
        let lease = format!("verify/{}", row.id);
        let until = Utc::now() + chrono::Duration::from_std(LEASE).unwrap_or_default();
        match backup::lease::acquire(&state.db, &lease, owner, until).await {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::warn!(account = %row.name, error = %e, "could not take the verification lease");
                continue;
            }
        }
        match control::verification::run_audited(&state.ctx(), &row, Depth::Deep, "rewind (scheduled)").await {
            Ok(v) if v.passed => tracing::info!(account = %row.name, objects = v.objects, "backups verified"),
            Ok(v) => {
                tracing::error!(account = %row.name, problems = v.problem_count, first = ?v.problems.first(), "backup verification found problems")
            }
            Err(e) => tracing::warn!(account = %row.name, error = %e, "backup verification could not run"),
        }
        if let Err(e) = backup::lease::release(&state.db, &lease, owner).await {
            tracing::warn!(account = %row.name, error = %e, "could not release the verification lease; it runs out by itself");
        }
        done += 1;
    }
    Ok(done)
}

/// Runs until `shutdown` is cancelled; nothing when `every` is `None`.
pub async fn run(state: AppState, owner: String, every: Option<Duration>, shutdown: CancellationToken) {
    let Some(every) = every else { return };
    loop {
        if let Err(e) = step(&state, &owner, every).await {
            tracing::warn!(error = %e, "could not find the accounts due a verification; retrying");
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(PAUSE) => {}
        }
    }
}
