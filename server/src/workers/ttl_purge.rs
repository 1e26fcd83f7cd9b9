//! Purges items whose time to live ran out (they already vanish from reads), logging each as an
//! `expire` change — on one replica at a time, under a lease.

use sea_orm::DatabaseConnection;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Items removed per step; a step that fills it runs again at once.
const BATCH: u64 = 500;
const IDLE_PAUSE: Duration = Duration::from_secs(5);

/// What one step did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Removed this many; more may be waiting.
    Purged(usize),
    /// Nothing expired.
    Idle,
}

/// One pass.
///
/// # Errors
/// Database errors.
pub async fn step(db: &DatabaseConnection) -> Result<Outcome, engine::EngineError> {
    let n = engine::store::purge_expired(db, engine::store::now_ts(), BATCH).await?;
    Ok(if n == 0 { Outcome::Idle } else { Outcome::Purged(n) })
}

/// Runs until `shutdown` is cancelled: a step at a time under the `ttl-purge` lease, so one
/// replica purges (two would log each expiry twice).
pub async fn run(db: DatabaseConnection, owner: String, shutdown: CancellationToken) {
    loop {
        let pause = match backup::lease::while_held(&db, "ttl-purge", &owner, backup::lease::Term::WORKER, step(&db)).await {
            Ok(Some(Ok(Outcome::Purged(n)))) if n as u64 >= BATCH => Duration::ZERO,
            Ok(Some(Ok(Outcome::Purged(n)))) => {
                tracing::debug!(purged = n, "expired items purged");
                IDLE_PAUSE
            }
            Ok(None | Some(Ok(Outcome::Idle))) => IDLE_PAUSE,
            Ok(Some(Err(e))) => {
                tracing::warn!(error = %e, "TTL purge failed; retrying later");
                IDLE_PAUSE
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not take the TTL purge lease; retrying later");
                IDLE_PAUSE
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
        }
    }
}
