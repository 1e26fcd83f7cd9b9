//! Sign-in throttling: a fixed window of failed attempts per user name and per client address.
//!
//! Failures are counted for names that do not exist too, so the limiter's answers do not reveal
//! which users exist. The state is per server process; a deployment with several replicas gets
//! each replica's limit, which still bounds guessing to a small multiple.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Limits for [`LoginLimiter`].
#[derive(Debug, Clone, Copy)]
pub struct LimiterPolicy {
    /// Failed attempts allowed per user name within one window.
    pub per_user: u32,
    /// Failed attempts allowed per client address within one window.
    pub per_ip: u32,
    /// Length of the window that starts at the first failure.
    pub window: Duration,
}

impl Default for LimiterPolicy {
    fn default() -> Self {
        Self {
            per_user: 5,
            per_ip: 30,
            window: Duration::from_secs(300),
        }
    }
}

/// Which limit an attempt ran into, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after: Duration,
    pub by_user: bool,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

/// Counts failed sign-ins; see the module docs.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    policy: LimiterPolicy,
    windows: Mutex<HashMap<String, Window>>,
}

const MAX_TRACKED_KEYS: usize = 100_000;

impl LoginLimiter {
    pub fn new(policy: LimiterPolicy) -> Self {
        Self {
            policy,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Whether an attempt for `user` from `ip` may go ahead now.
    ///
    /// # Errors
    /// [`Throttled`] with the time until the blocking window ends.
    pub fn check(&self, user: &str, ip: &str, now: Instant) -> Result<(), Throttled> {
        let windows = self.lock();
        let blocked = |key: String, limit: u32, by_user: bool| {
            windows.get(&key).and_then(|w| {
                let elapsed = now.saturating_duration_since(w.started);
                (w.failures >= limit && elapsed < self.policy.window).then(|| Throttled {
                    retry_after: self.policy.window - elapsed,
                    by_user,
                })
            })
        };
        match blocked(user_key(user), self.policy.per_user, true)
            .or_else(|| blocked(ip_key(ip), self.policy.per_ip, false))
        {
            Some(t) => Err(t),
            None => Ok(()),
        }
    }

    /// Counts one failed attempt against both the user name and the address.
    pub fn record_failure(&self, user: &str, ip: &str, now: Instant) {
        let mut windows = self.lock();
        if windows.len() >= MAX_TRACKED_KEYS {
            let window = self.policy.window;
            windows.retain(|_, w| now.saturating_duration_since(w.started) < window);
        }
        for key in [user_key(user), ip_key(ip)] {
            let entry = windows.entry(key).or_insert(Window {
                started: now,
                failures: 0,
            });
            if now.saturating_duration_since(entry.started) >= self.policy.window {
                *entry = Window {
                    started: now,
                    failures: 0,
                };
            }
            entry.failures += 1;
        }
    }

    /// A successful sign-in clears the user's count (not the address's).
    pub fn record_success(&self, user: &str) {
        self.lock().remove(&user_key(user));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Window>> {
        // A poisoned lock only means another thread panicked mid-update of a counter; the map
        // is still usable.
        self.windows.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn user_key(user: &str) -> String {
    format!("user:{}", user.to_lowercase())
}

fn ip_key(ip: &str) -> String {
    format!("ip:{ip}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter() -> LoginLimiter {
        LoginLimiter::new(LimiterPolicy {
            per_user: 3,
            per_ip: 5,
            window: Duration::from_secs(60),
        })
    }

    #[test]
    fn a_user_is_throttled_after_the_allowed_failures_until_the_window_ends() {
        let l = limiter();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.check("alice", "1.1.1.1", t0).is_ok());
            l.record_failure("alice", "1.1.1.1", t0);
        }
        let t = l.check("alice", "1.1.1.1", t0 + Duration::from_secs(20)).unwrap_err();
        assert!(t.by_user);
        assert_eq!(t.retry_after, Duration::from_secs(40));
        assert!(l.check("alice", "1.1.1.1", t0 + Duration::from_secs(60)).is_ok());
    }

    #[test]
    fn an_address_is_throttled_across_user_names() {
        let l = limiter();
        let t0 = Instant::now();
        for i in 0..5 {
            l.record_failure(&format!("user{i}"), "2.2.2.2", t0);
        }
        let t = l.check("someone-else", "2.2.2.2", t0).unwrap_err();
        assert!(!t.by_user);
        assert!(l.check("someone-else", "3.3.3.3", t0).is_ok());
    }

    #[test]
    fn success_clears_the_user_count() {
        let l = limiter();
        let t0 = Instant::now();
        l.record_failure("bob", "1.1.1.1", t0);
        l.record_failure("bob", "1.1.1.1", t0);
        l.record_success("bob");
        l.record_failure("bob", "1.1.1.1", t0);
        assert!(l.check("bob", "1.1.1.1", t0).is_ok());
    }

    #[test]
    fn user_names_are_counted_case_insensitively() {
        let l = limiter();
        let t0 = Instant::now();
        for name in ["Carol", "CAROL", "carol"] {
            l.record_failure(name, "1.1.1.1", t0);
        }
        assert!(l.check("carol", "9.9.9.9", t0).is_err());
    }
}
