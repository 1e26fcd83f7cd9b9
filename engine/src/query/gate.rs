//! Where query work runs: off the async threads, on the blocking pool, under two bounds.
//!
//! - At most [`QueryGate::new`]'s `workers` batches are evaluated at once across the server, so
//!   queries can never take every thread.
//! - One account runs one query page at a time; a few more wait their turn, and beyond
//!   [`MAX_WAITING_PER_ACCOUNT`] the caller gets a 429 at once. However many queries one caller
//!   sends, other accounts' queries keep their share.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::EngineError;

/// Query pages of one account that may wait for its turn before more are refused.
pub const MAX_WAITING_PER_ACCOUNT: usize = 16;

/// The bounds; see the module docs. Cheap to share (`Arc`).
#[derive(Debug)]
pub struct QueryGate {
    workers: Arc<Semaphore>,
    accounts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// An account's turn; dropping it lets the account's next query page run.
#[derive(Debug)]
pub struct Turn<'a> {
    gate: &'a QueryGate,
    account: String,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut map = self.gate.lock();
        // Forget idle accounts: the map holds one reference, this turn another.
        if map.get(&self.account).is_some_and(|s| Arc::strong_count(s) <= 2) {
            map.remove(&self.account);
        }
    }
}

impl QueryGate {
    /// A gate evaluating at most `workers` batches at once (at least one).
    pub fn new(workers: usize) -> Self {
        Self { workers: Arc::new(Semaphore::new(workers.max(1))), accounts: Mutex::new(HashMap::new()) }
    }

    /// As many workers as the machine has cores.
    pub fn for_this_machine() -> Self {
        Self::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Semaphore>>> {
        // A poisoned map only means a panic elsewhere mid-insert; the map is still usable.
        self.accounts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for `account`'s turn.
    ///
    /// # Errors
    /// 429 when too many of the account's queries are already waiting.
    pub async fn turn(&self, account: &str) -> Result<Turn<'_>, EngineError> {
        let sem = {
            let mut map = self.lock();
            let sem = map.entry(account.to_owned()).or_insert_with(|| Arc::new(Semaphore::new(1)));
            // Holders and waiters each hold a reference, the map one more.
            if Arc::strong_count(sem) > MAX_WAITING_PER_ACCOUNT + 1 {
                return Err(EngineError::TooManyRequests {
                    message: format!("this account already has {MAX_WAITING_PER_ACCOUNT} queries waiting to run; retry when they finish"),
                    retry_after_ms: 100,
                });
            }
            Arc::clone(sem)
        };
        let permit = sem.acquire_owned().await.map_err(|_| EngineError::Corrupt("query gate closed".into()))?;
        Ok(Turn { gate: self, account: account.to_owned(), _permit: permit })
    }

    /// Runs `work` on the blocking pool once a worker is free.
    ///
    /// # Errors
    /// 500 if the work panicked.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, EngineError> {
        let permit = Arc::clone(&self.workers).acquire_owned().await.map_err(|_| EngineError::Corrupt("query gate closed".into()))?;
        tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await
        .map_err(|e| EngineError::Corrupt(format!("query evaluation failed: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_account_waits_its_turn_and_a_crowd_is_refused() {
        let gate = QueryGate::new(2);
        let first = gate.turn("a").await.unwrap();
        let mut waiting = Vec::new();
        for _ in 0..MAX_WAITING_PER_ACCOUNT {
            let gate = &gate;
            waiting.push(Box::pin(async move { gate.turn("a").await.map(|_| ()) }));
        }
        // Start them all waiting.
        for w in &mut waiting {
            assert!(futures_poll_once(w).await.is_none());
        }
        assert!(matches!(gate.turn("a").await, Err(EngineError::TooManyRequests { .. })));
        // Another account is not held up.
        assert!(gate.turn("b").await.is_ok());
        drop(first);
        drop(waiting);
        assert!(gate.turn("a").await.is_ok());
    }

    async fn futures_poll_once<F: std::future::Future + Unpin>(f: &mut F) -> Option<F::Output> {
        std::future::poll_fn(|cx| match std::pin::Pin::new(&mut *f).poll(cx) {
            std::task::Poll::Ready(v) => std::task::Poll::Ready(Some(v)),
            std::task::Poll::Pending => std::task::Poll::Ready(None),
        })
        .await
    }
}
