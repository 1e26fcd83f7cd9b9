//! Sign-in throttling: a fixed window of failed attempts per user name and per client address.
//!
//! An attempt is counted *before* its password is checked ([`LoginLimiter::begin`]) and given
//! back if it succeeds, so concurrent attempts cannot all slip through while the first ones are
//! still being verified. Names that do not exist are counted too, so the limiter's answers do
//! not reveal which users exist. The state is per server process; a deployment with several
//! replicas gets each replica's limit, which still bounds guessing to a small multiple.

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
        Self { per_user: 5, per_ip: 30, window: Duration::from_secs(300) }
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
        Self { policy, windows: Mutex::new(HashMap::new()) }
    }

    /// Counts an attempt for `user` from `ip` if both are below their limits, before the
    /// password is checked; [`LoginLimiter::succeeded`] gives it back.
    ///
    /// # Errors
    /// [`Throttled`] with the time until the blocking window ends; nothing is counted then.
    pub fn begin(&self, user: &str, ip: &str, now: Instant) -> Result<(), Throttled> {
        let mut windows = self.lock();
        if windows.len() >= MAX_TRACKED_KEYS {
            let window = self.policy.window;
            windows.retain(|_, w| now.saturating_duration_since(w.started) < window);
        }
        let limits = [(user_key(user), self.policy.per_user, true), (ip_key(ip), self.policy.per_ip, false)];
        for (key, limit, by_user) in &limits {
            if let Some(w) = windows.get(key) {
                let elapsed = now.saturating_duration_since(w.started);
                if w.failures >= *limit && elapsed < self.policy.window {
                    return Err(Throttled { retry_after: self.policy.window - elapsed, by_user: *by_user });
                }
            }
        }
        for (key, _, _) in limits {
            let entry = windows.entry(key).or_insert(Window { started: now, failures: 0 });
            if now.saturating_duration_since(entry.started) >= self.policy.window {
                *entry = Window { started: now, failures: 0 };
            }
            entry.failures += 1;
        }
        Ok(())
    }

    /// A successful sign-in clears the user's count and gives its attempt back to the address.
    pub fn succeeded(&self, user: &str, ip: &str) {
        let mut windows = self.lock();
        windows.remove(&user_key(user));
        if let Some(w) = windows.get_mut(&ip_key(ip)) {
            w.failures = w.failures.saturating_sub(1);
        }
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
        LoginLimiter::new(LimiterPolicy { per_user: 3, per_ip: 5, window: Duration::from_secs(60) })
    }

    #[test]
    fn a_user_is_throttled_after_the_allowed_attempts_until_the_window_ends() {
        let l = limiter();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.begin("alice", "1.1.1.1", t0).is_ok());
        }
        let t = l.begin("alice", "1.1.1.1", t0 + Duration::from_secs(20)).unwrap_err();
        assert!(t.by_user);
        assert_eq!(t.retry_after, Duration::from_secs(40));
        assert!(l.begin("alice", "1.1.1.1", t0 + Duration::from_secs(60)).is_ok());
    }

    #[test]
    fn attempts_are_counted_before_they_are_verified() {
        // Twelve attempts at once (none has finished verifying): only the allowed three start.
        let l = limiter();
        let t0 = Instant::now();
        let started = (0..12).filter(|_| l.begin("dave", "4.4.4.4", t0).is_ok()).count();
        assert_eq!(started, 3);
    }

    #[test]
    fn an_address_is_throttled_across_user_names() {
        let l = limiter();
        let t0 = Instant::now();
        for i in 0..5 {
            assert!(l.begin(&format!("user{i}"), "2.2.2.2", t0).is_ok());
        }
        let t = l.begin("someone-else", "2.2.2.2", t0).unwrap_err();
        assert!(!t.by_user);
        assert!(l.begin("someone-else", "3.3.3.3", t0).is_ok());
    }

    #[test]
    fn success_clears_the_user_count_and_returns_the_address_attempt() {
        let l = limiter();
        let t0 = Instant::now();
        l.begin("bob", "1.1.1.1", t0).unwrap();
        l.begin("bob", "1.1.1.1", t0).unwrap();
        l.succeeded("bob", "1.1.1.1");
        l.begin("bob", "1.1.1.1", t0).unwrap();
        l.begin("bob", "1.1.1.1", t0).unwrap();
        assert!(l.begin("bob", "1.1.1.1", t0).is_ok());
        // Successful sign-ins from one address never exhaust it.
        for _ in 0..20 {
            l.begin("erin", "5.5.5.5", t0).unwrap();
            l.succeeded("erin", "5.5.5.5");
        }
        assert!(l.begin("erin", "5.5.5.5", t0).is_ok());
    }

    #[test]
    fn user_names_are_counted_case_insensitively() {
        let l = limiter();
        let t0 = Instant::now();
        for name in ["Carol", "CAROL", "carol"] {
            l.begin(name, "1.1.1.1", t0).unwrap();
        }
        assert!(l.begin("carol", "9.9.9.9", t0).is_err());
    }
}
