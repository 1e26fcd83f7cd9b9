//! Provisioned throughput: what requests cost in request units, and a token bucket of them per
//! container (or per database for shared throughput). A request reserves its estimated charge
//! when it starts and settles the difference when its actual charge is known. A request whose
//! estimate the bucket cannot cover gets 429 with `x-ms-retry-after-ms` saying when it could be;
//! reserving up front keeps a burst of concurrent requests from all starting at once and driving
//! the bucket deep into debt. The data plane and the portal's explorer draw on the same buckets.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::entities::{container, database};
use crate::error::EngineError;

/// Request units for reading `bytes` of JSON: 1 RU per started KB, as Cosmos DB charges a point read.
pub fn read_charge(bytes: usize) -> f64 {
    (bytes.div_ceil(1024).max(1)) as f64
}

/// Request units for writing `bytes` of JSON: about 5.7 RU per started KB (an indexed write).
pub fn write_charge(bytes: usize) -> f64 {
    5.71 * (bytes.div_ceil(1024).max(1)) as f64
}

/// The fixed part of a query page's charge.
pub const QUERY_OVERHEAD: f64 = 2.3;

/// Request units for evaluating `steps` expression nodes: a query pays for the work its
/// expressions make the server do, not only for the bytes it reads.
pub fn eval_charge(steps: u64) -> f64 {
    steps as f64 / 1000.0
}

/// The bucket key and RU/s that pay for requests to a container: its own throughput (manual or
/// autoscale maximum) or, in a shared-throughput database, the database's.
pub fn budget(d: &database::Model, c: &container::Model) -> (String, u32) {
    let (key, ru) = match (c.autoscale_max.or(c.throughput), d.throughput) {
        (Some(ru), _) => (c.rid.clone(), ru),
        (None, Some(ru)) => (d.rid.clone(), ru),
        (None, None) => (c.rid.clone(), crate::limits::MIN_THROUGHPUT),
    };
    (key, u32::try_from(ru).unwrap_or(400))
}

/// A 429 that says when to come back.
pub fn throttled(wait: Duration) -> EngineError {
    let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1);
    EngineError::TooManyRequests {
        message: format!("request rate is large: the container's provisioned throughput is used up; retry after {ms} ms"),
        retry_after_ms: ms,
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    /// Estimated charges of refused requests expected back: each refused request is told to
    /// wait until the bucket covers those refused before it as well, which spreads a burst of
    /// retries out in time instead of having them all return at once.
    backlog: f64,
    at: Instant,
}

/// Buckets keyed by the resource that owns the throughput.
///
/// With several replicas each holds its own buckets and enforces its **share** of every
/// resource's throughput (RU/s ÷ replicas): exact when the load balancer spreads requests evenly,
/// stricter than configured when it does not. A bucket shared in the database would put a write on
/// every data-plane request — more than the cheapest reads cost themselves.
#[derive(Debug, Default)]
pub struct Throttle {
    buckets: Mutex<HashMap<String, Bucket>>,
    /// How many replicas share each resource's throughput (0 counts as 1).
    replicas: u32,
}

impl Throttle {
    /// Buckets for one of `replicas` replicas.
    pub fn for_replicas(replicas: u32) -> Self {
        Self { buckets: Mutex::default(), replicas }
    }

    /// This replica's share of `ru_per_s`, at least 1 RU/s.
    fn rate(&self, ru_per_s: u32) -> f64 {
        (f64::from(ru_per_s) / f64::from(self.replicas.max(1))).max(1.0)
    }

    fn refill(b: &mut Bucket, ru_per_s: f64, now: Instant) {
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        // One second of throughput is the most a bucket holds (Cosmos DB's burst allowance).
        b.tokens = (b.tokens + elapsed * ru_per_s).min(ru_per_s);
        // Refused clients that never come back must not inflate waits forever.
        b.backlog = (b.backlog - elapsed * ru_per_s * 0.5).max(0.0);
        b.at = now;
    }

    /// Reserves `estimate` request units if the bucket holds them (or is full, so that a request
    /// costlier than one second of throughput can still run), else says how long to wait.
    pub fn admit(&self, key: &str, ru_per_s: u32, estimate: f64, now: Instant) -> Result<(), Duration> {
        let rate = self.rate(ru_per_s);
        let mut map = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let b = map.entry(key.to_owned()).or_insert(Bucket { tokens: rate, backlog: 0.0, at: now });
        Self::refill(b, rate, now);
        if b.tokens >= estimate || b.tokens >= rate {
            b.tokens -= estimate;
            b.backlog = (b.backlog - estimate).max(0.0);
            Ok(())
        } else {
            b.backlog += estimate.min(rate);
            Err(Duration::from_secs_f64(((b.backlog - b.tokens) / rate).max(0.001)))
        }
    }

    /// [`Throttle::admit`], refusing with a 429.
    ///
    /// # Errors
    /// [`EngineError::TooManyRequests`] with the wait.
    pub fn reserve(&self, key: &str, ru_per_s: u32, estimate: f64) -> Result<(), EngineError> {
        self.admit(key, ru_per_s, estimate, Instant::now()).map_err(throttled)
    }

    /// Takes (or, if negative, gives back) `charge` request units.
    pub fn debit(&self, key: &str, ru_per_s: u32, charge: f64, now: Instant) {
        let rate = self.rate(ru_per_s);
        let mut map = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let b = map.entry(key.to_owned()).or_insert(Bucket { tokens: rate, backlog: 0.0, at: now });
        Self::refill(b, rate, now);
        b.tokens -= charge;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_of_several_replicas_enforces_its_share() {
        let (one, of_four) = (Throttle::default(), Throttle::for_replicas(4));
        let t0 = Instant::now();
        // A full bucket holds one second of throughput: 400 RU alone, 100 RU as one of four.
        assert!(one.admit("c", 400, 300.0, t0).is_ok());
        assert!(of_four.admit("c", 400, 90.0, t0).is_ok());
        assert!(of_four.admit("c", 400, 90.0, t0).is_err());
        // A quarter of a second later the share has refilled 25 RU, the whole 100 RU.
        assert!(of_four.admit("c", 400, 90.0, t0 + Duration::from_millis(250)).is_err());
        assert!(of_four.admit("c", 400, 90.0, t0 + Duration::from_millis(1_300)).is_ok());
    }

    #[test]
    fn a_bucket_in_debt_refuses_until_refilled() {
        let t = Throttle::default();
        let t0 = Instant::now();
        assert!(t.admit("c", 400, 10.0, t0).is_ok());
        t.debit("c", 400, 590.0, t0); // 400 in the bucket, 600 spent: 200 in debt
        let wait = t.admit("c", 400, 10.0, t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.525).abs() < 0.01, "{wait:?}");
        let second = t.admit("c", 400, 10.0, t0).unwrap_err();
        assert!(second > wait, "later refusals wait longer: {second:?} vs {wait:?}");
        assert!(t.admit("c", 400, 10.0, t0 + Duration::from_millis(600)).is_ok());
    }

    #[test]
    fn reservations_stop_a_burst_at_the_budget() {
        let t = Throttle::default();
        let t0 = Instant::now();
        let admitted = (0..100).filter(|_| t.admit("c", 400, 10.0, t0).is_ok()).count();
        assert_eq!(admitted, 40);
    }

    #[test]
    fn buckets_hold_at_most_one_second_of_throughput() {
        let t = Throttle::default();
        let t0 = Instant::now();
        t.debit("c", 1000, 0.0, t0);
        t.debit("c", 1000, 1500.0, t0 + Duration::from_secs(60));
        assert!(t.admit("c", 1000, 1.0, t0 + Duration::from_secs(60)).is_err());
    }
}
