//! Password hashing with argon2id at the OWASP-recommended parameters (19 MiB, 2 passes, 1 lane —
//! the `argon2` crate's defaults), run off the async executor.
//!
//! Each hash needs 19 MiB, so at most [`CONCURRENT`] run at once and at most [`WAITING`] more
//! wait for their turn; a flood of sign-ins beyond that is answered 429 at once instead of
//! growing memory.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Semaphore;

use domain::error::AppError;

/// Hashes computed at once (each holds 19 MiB).
pub const CONCURRENT: usize = 4;
/// Hashes that may wait for a turn before more are refused.
pub const WAITING: usize = 64;

static TURNS: Semaphore = Semaphore::const_new(CONCURRENT);
static QUEUED: AtomicUsize = AtomicUsize::new(0);

/// Runs one argon2 computation on the blocking pool, within the bounds above.
async fn bounded<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
    if QUEUED.fetch_add(1, Ordering::SeqCst) >= CONCURRENT + WAITING {
        QUEUED.fetch_sub(1, Ordering::SeqCst);
        return Err(AppError::TooManyRequests("too many sign-ins are being checked at once; try again in a moment".into()));
    }
    let out = async {
        let _turn = TURNS.acquire().await.map_err(|_| AppError::Internal)?;
        tokio::task::spawn_blocking(work).await.map_err(|_| AppError::Internal)
    }
    .await;
    QUEUED.fetch_sub(1, Ordering::SeqCst);
    out
}

/// Hashes a password into a PHC string.
///
/// # Errors
/// [`AppError::Internal`] if hashing fails (out of memory) or the blocking pool is gone; 429
/// when too many hashes are queued.
pub async fn hash(password: String) -> Result<String, AppError> {
    bounded(move || hash_blocking(&password)).await?
}

fn hash_blocking(password: &str) -> Result<String, AppError> {
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| {
        tracing::error!(error = %e, "password hashing failed");
        AppError::Internal
    })
}

/// Whether `password` matches `stored`. With `stored = None` (no such user) it verifies against a
/// fixed dummy hash, so that a wrong user name takes as long as a wrong password.
///
/// # Errors
/// 429 when too many hashes are queued.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, AppError> {
    bounded(move || {
        let target = stored.as_deref().unwrap_or_else(|| dummy_hash());
        let matches = PasswordHash::new(target)
            .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false);
        matches && stored.is_some()
    })
    .await
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking("rewind-dummy-password-for-timing").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_only_its_own_password() {
        let h = hash("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery".into(), Some(h.clone())).await.unwrap());
        assert!(!verify("wrong horse battery".into(), Some(h)).await.unwrap());
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        assert!(!verify("rewind-dummy-password-for-timing".into(), None).await.unwrap());
    }
}
