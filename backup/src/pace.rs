//! Background work that steps aside for the data plane. A snapshot merge can wait; requests
//! cannot. While the data plane is busy (its operations counted by `engine::activity`) a merge
//! runs at most a share of the time, in short slices with rests between them; while it is idle
//! the merge runs flat out. What it hands to the backup thread ([`crate::cpu`]) — sealing and
//! opening chunks — counts as its work too: measured, that was more than its own steps.
//!
//! Running the merge's sealing at the lowest CPU priority ([`crate::cpu`]) was not enough: on
//! PostgreSQL a write is a chain of round trips, and what a merge costs it is latency at each
//! wake-up, not a share of the CPU — so the merge must run less while writes happen, not only
//! at a lower priority.

use std::time::{Duration, Instant};

/// Between rests, the work still lets the runtime's other tasks (requests) run this often: a
/// slice can be long, a request must not wait for it.
const YIELD_EVERY: Duration = Duration::from_millis(1);

/// A rest is taken in pieces this long, and ends early after a piece in which the data plane
/// did nothing: a merge notices soon that it went quiet.
const REST_PIECE: Duration = Duration::from_millis(20);

/// How a merge yields to the data plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacePolicy {
    /// The share of the time (per cent, 1–100) background work may run while the data plane is
    /// busy; 100 never rests.
    pub busy_share_percent: u32,
    /// How long a slice of work runs before the pace is checked.
    pub slice: Duration,
}

impl PacePolicy {
    /// What the service uses: a twentieth of the time while requests are being served. (The
    /// size benchmark measured merges paced to 3, 5 or 10 % costing a single writer about the
    /// same, and slices of 5 or 50 ms no different beyond its run-to-run spread: what remains is
    /// the merge being there at all, not its share — see the README's Measurements.)
    pub const DEFAULT: Self = Self { busy_share_percent: 5, slice: Duration::from_millis(5) };
    /// Never rests.
    pub const FLAT_OUT: Self = Self { busy_share_percent: 100, slice: Duration::from_millis(5) };
}

/// Paces one piece of background work: call [`Pace::step`] between its small steps.
pub struct Pace {
    policy: PacePolicy,
    /// How many data-plane operations have begun so far (`engine::activity::operations` in the
    /// service).
    busy: fn() -> u64,
    /// How long the backup thread has worked so far ([`crate::cpu::busy`] in the service).
    helper: fn() -> Duration,
    slice_start: Instant,
    helper_at_start: Duration,
    seen: u64,
    last_yield: Instant,
}

impl Pace {
    pub fn new(policy: PacePolicy, busy: fn() -> u64, helper: fn() -> Duration) -> Self {
        let now = Instant::now();
        Self { policy, busy, helper, slice_start: now, helper_at_start: helper(), seen: busy(), last_yield: now }
    }

    /// Never rests (for work that is the foreground, such as a restore).
    pub fn unpaced() -> Self {
        Self::new(PacePolicy::FLAT_OUT, || 0, || Duration::ZERO)
    }

    /// Paces against the service's data plane, counting the backup thread's work as its own
    /// (all of it, shipping's and restores' too: when the thread is busy, a merge waits longer).
    pub fn data_plane(policy: PacePolicy) -> Self {
        Self::new(policy, engine::activity::operations, crate::cpu::busy)
    }

    /// Once a slice has been worked: if the data plane did anything during it, rests long
    /// enough that the slice was at most the policy's share of the time.
    pub async fn step(&mut self) {
        // Its own time and the backup thread's, which run side by side (counting both twice
        // while it waits for the thread errs on the side of the data plane).
        let worked = self.slice_start.elapsed() + (self.helper)().saturating_sub(self.helper_at_start);
        if worked < self.policy.slice {
            if self.last_yield.elapsed() >= YIELD_EVERY {
                tokio::task::yield_now().await;
                self.last_yield = Instant::now();
            }
            return;
        }
        let share = self.policy.busy_share_percent.clamp(1, 100);
        if share < 100 && (self.busy)() != self.seen {
            // Not capped: a slice can be long (a step that waited for a chunk to be sealed),
            // and the share must hold for it too.
            let mut rest = worked * (100 - share) / share;
            while !rest.is_zero() {
                let piece = rest.min(REST_PIECE);
                let before = (self.busy)();
                tokio::time::sleep(piece).await;
                rest -= piece;
                if (self.busy)() == before {
                    break;
                }
            }
        }
        self.seen = (self.busy)();
        self.slice_start = Instant::now();
        self.last_yield = self.slice_start;
        self.helper_at_start = (self.helper)();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    static OPS: AtomicU64 = AtomicU64::new(0);

    fn ops() -> u64 {
        OPS.load(Ordering::Relaxed)
    }

    /// What a helper thread worked for the paced work, in microseconds.
    static HELPED: AtomicU64 = AtomicU64::new(0);

    fn helped() -> Duration {
        Duration::from_micros(HELPED.load(Ordering::Relaxed))
    }

    fn unhelped() -> Duration {
        Duration::ZERO
    }

    /// Works `total` in pieces of `piece`, stepping between them; returns how long it took.
    async fn work_in(pace: &mut Pace, total: Duration, piece: Duration) -> Duration {
        let start = Instant::now();
        let mut done = Duration::ZERO;
        while done < total {
            let t = Instant::now();
            while t.elapsed() < piece {
                std::hint::spin_loop();
            }
            done += t.elapsed();
            pace.step().await;
        }
        start.elapsed()
    }

    async fn work(pace: &mut Pace, total: Duration) -> Duration {
        work_in(pace, total, Duration::from_millis(1)).await
    }

    #[tokio::test]
    async fn work_runs_flat_out_while_the_data_plane_is_idle_and_at_its_share_while_it_is_busy() {
        let policy = PacePolicy { busy_share_percent: 20, slice: Duration::from_millis(5) };
        let idle = work(&mut Pace::new(policy, ops, unhelped), Duration::from_millis(100)).await;
        assert!(idle < Duration::from_millis(150), "idle: {idle:?}");

        // Requests on a thread of their own, one every 0.2 ms (so that a step with little work
        // of its own sees one).
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let busy = std::thread::spawn({
            let stop = stop.clone();
            move || {
                while !stop.load(Ordering::Relaxed) {
                    OPS.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
        });
        let paced = work(&mut Pace::new(policy, ops, unhelped), Duration::from_millis(100)).await;
        // Steps far apart (as when one waits for a chunk to be sealed) keep the share too.
        let long_steps = work_in(&mut Pace::new(policy, ops, unhelped), Duration::from_millis(200), Duration::from_millis(100)).await;
        // Work handed to a helper thread counts: 2 ms of its own and 3 ms of the helper's per
        // step, 25 steps: 125 ms of work.
        let with_helper = {
            let mut pace = Pace::new(policy, ops, helped);
            let start = Instant::now();
            for _ in 0..25 {
                let t = Instant::now();
                while t.elapsed() < Duration::from_millis(2) {
                    std::hint::spin_loop();
                }
                HELPED.fetch_add(3_000, Ordering::Relaxed);
                pace.step().await;
            }
            start.elapsed()
        };
        stop.store(true, Ordering::Relaxed);
        busy.join().unwrap();
        // 100 ms of work at a fifth of the time: about 500 ms.
        assert!(paced >= Duration::from_millis(400), "busy: {paced:?}");
        // 200 ms of work in two 100 ms steps, each followed by 400 ms of rest.
        assert!(long_steps >= Duration::from_millis(900), "busy, long steps: {long_steps:?}");
        // 125 ms of work at a fifth of the time: 25 rests of 20 ms after 50 ms of its own, about
        // 550 ms. Counting its own work only, it would rest 24 ms after every third step: 240 ms.
        assert!(with_helper >= Duration::from_millis(400), "busy, with a helper: {with_helper:?}");

        let flat = work(&mut Pace::new(PacePolicy::FLAT_OUT, ops, unhelped), Duration::from_millis(100)).await;
        assert!(flat < Duration::from_millis(150), "flat out: {flat:?}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_long_slice_still_lets_other_tasks_of_the_runtime_run() {
        // One thread: the other task runs only when the paced work yields.
        let polled = std::sync::Arc::new(AtomicU64::new(0));
        let other = tokio::spawn({
            let polled = polled.clone();
            async move {
                loop {
                    polled.fetch_add(1, Ordering::Relaxed);
                    tokio::task::yield_now().await;
                }
            }
        });
        let policy = PacePolicy { busy_share_percent: 100, slice: Duration::from_millis(50) };
        // 30 ms of work in 0.1 ms pieces, all inside one 50 ms slice.
        work_in(&mut Pace::new(policy, ops, unhelped), Duration::from_millis(30), Duration::from_micros(100)).await;
        other.abort();
        let n = polled.load(Ordering::Relaxed);
        assert!(n >= 10, "the other task ran {n} times during 30 ms of paced work");
    }
}
