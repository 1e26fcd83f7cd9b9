//! Bursts of repeated failures (throttled sign-ins, wrong data-plane keys) are audited as counted
//! rows instead of one row each, so that nobody can grow the audit log, or the disk under it,
//! just by failing fast.
//!
//! The first event of a kind (its *key*: what, from where) in a window is written as it is;
//! further ones in that window are only counted; when the window has closed, one more row says
//! how many there were. The counts live in this process's memory (the audit rows they become are
//! shared); [`Bursts::due`] is called by a small worker so that a burst that stops is still
//! summed up.

use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::audit::Record;

/// Keys tracked at once; beyond it, new kinds of event share one overflow count.
const MAX_KEYS: usize = 10_000;
const OVERFLOW: &str = "(other repeated failures)";

#[derive(Debug)]
struct Burst {
    opened: Instant,
    opened_at: DateTime<Utc>,
    repeats: u64,
    /// The first event, for the summary row's fields.
    first: Record,
}

/// See the module docs.
#[derive(Debug)]
pub struct Bursts {
    window: Duration,
    open: Mutex<HashMap<String, Burst>>,
}

impl Bursts {
    pub fn new(window: Duration) -> Self {
        Self { window, open: Mutex::new(HashMap::new()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Burst>> {
        // A poisoned map only means a panic elsewhere mid-update of a counter.
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The rows to write for one more event `rec` of kind `key`: the event itself when it opens
    /// a window (after the summary of the window before it, if that one had repeats), nothing
    /// when it repeats within an open window.
    pub fn admit(&self, key: &str, rec: Record, now: Instant) -> Vec<Record> {
        let mut open = self.lock();
        let mut out = Vec::new();
        let key = if open.len() >= MAX_KEYS && !open.contains_key(key) {
            out.extend(self.close_expired(&mut open, now));
            if open.len() >= MAX_KEYS { OVERFLOW } else { key }
        } else {
            key
        };
        match open.get_mut(key) {
            Some(b) if now.saturating_duration_since(b.opened) < self.window => {
                b.repeats += 1;
                return out;
            }
            Some(_) => {
                if let Some(b) = open.remove(key) {
                    out.extend(summary(b));
                }
            }
            None => {}
        }
        open.insert(key.to_owned(), Burst { opened: now, opened_at: Utc::now(), repeats: 0, first: rec.clone() });
        out.push(rec);
        out
    }

    /// Summaries of windows that have closed, which are forgotten.
    pub fn due(&self, now: Instant) -> Vec<Record> {
        let mut open = self.lock();
        self.close_expired(&mut open, now)
    }

    fn close_expired(&self, open: &mut HashMap<String, Burst>, now: Instant) -> Vec<Record> {
        let closed: Vec<String> =
            open.iter().filter(|(_, b)| now.saturating_duration_since(b.opened) >= self.window).map(|(k, _)| k.clone()).collect();
        closed.into_iter().filter_map(|k| open.remove(&k)).filter_map(summary).collect()
    }
}

/// The row that sums up a closed window, if anything repeated in it.
fn summary(b: Burst) -> Option<Record> {
    (b.repeats > 0).then(|| Record {
        detail: format!(
            "{} more like this between {} and {} (counted, not logged one by one): {}",
            b.repeats,
            b.opened_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
            b.first.detail
        ),
        ..b.first
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::audit::Outcome;

    fn rec(detail: &str) -> Record {
        Record {
            user_id: String::new(),
            user_name: "someone".into(),
            client_ip: "10.0.0.1".into(),
            action: "auth/login".into(),
            scope: "/".into(),
            resource: "/users/someone".into(),
            outcome: Outcome::Denied,
            detail: detail.into(),
        }
    }

    #[test]
    fn a_burst_is_one_row_then_one_counted_row() {
        let b = Bursts::new(Duration::from_secs(60));
        let t0 = Instant::now();
        assert_eq!(b.admit("k", rec("throttled"), t0).len(), 1);
        for i in 0..999 {
            assert!(b.admit("k", rec("throttled"), t0 + Duration::from_millis(i)).is_empty());
        }
        assert!(b.due(t0 + Duration::from_secs(59)).is_empty());
        let rows = b.due(t0 + Duration::from_secs(60));
        assert_eq!(rows.len(), 1);
        assert!(rows[0].detail.starts_with("999 more like this"), "{}", rows[0].detail);
        // A new burst opens a new window.
        assert_eq!(b.admit("k", rec("throttled"), t0 + Duration::from_secs(61)).len(), 1);
    }

    #[test]
    fn a_window_closed_by_the_next_event_is_summed_up_before_it() {
        let b = Bursts::new(Duration::from_secs(10));
        let t0 = Instant::now();
        b.admit("k", rec("x"), t0);
        b.admit("k", rec("x"), t0);
        let rows = b.admit("k", rec("x"), t0 + Duration::from_secs(11));
        assert_eq!(rows.len(), 2);
        assert!(rows[0].detail.starts_with("1 more like this"));
        assert_eq!(rows[1].detail, "x");
    }

    #[test]
    fn many_kinds_share_one_overflow_count() {
        let b = Bursts::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let written: usize = (0..MAX_KEYS + 500).map(|i| b.admit(&format!("k{i}"), rec("x"), t0).len()).sum();
        assert_eq!(written, MAX_KEYS + 1);
    }
}
