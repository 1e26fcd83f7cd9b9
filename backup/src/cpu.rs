//! Where backup's CPU-heavy work runs: sealing and opening chunks and segments (zstd, AES-GCM).
//!
//! All of it goes to **one thread per process, at the lowest scheduling priority** (nice 19):
//! - one thread, so backups and restores together take at most one core for it, whatever runs
//!   at once, and the async workers never stall on a large chunk;
//! - the lowest priority, so the data plane's writes — and the service database's own
//!   processes, PostgreSQL's backends among them — come first, and a snapshot merge uses what
//!   CPU is left. On an idle machine it runs as fast as at normal priority. Nice 19 rather
//!   than `SCHED_IDLE`: under a load that never lets up, backup work still gets a small share
//!   instead of none (and `SCHED_IDLE` measured no better for the foreground: the foreground
//!   waits on round trips, not on the CPU the backup thread holds).
//!
//! The thread counts the time its jobs take ([`busy`]), so that paced work ([`crate::pace`])
//! is charged for the sealing it hands over as well as for its own steps.

use std::panic::AssertUnwindSafe;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Sender, channel};
use std::time::{Duration, Instant};
use thread_priority::{ThreadPriority, set_current_thread_priority};

use crate::error::BackupError;

type Job = Box<dyn FnOnce() + Send>;

/// Nanoseconds the backup thread has spent running jobs since the process started.
static BUSY_NANOS: AtomicU64 = AtomicU64::new(0);

/// How long the backup thread has spent running jobs since the process started.
pub fn busy() -> Duration {
    Duration::from_nanos(BUSY_NANOS.load(Ordering::Relaxed))
}

/// The queue to the backup thread, which is started on first use.
fn queue() -> &'static Sender<Job> {
    static QUEUE: OnceLock<Sender<Job>> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let (tx, rx) = channel::<Job>();
        let started = std::thread::Builder::new().name("rewind-backup-cpu".into()).spawn(move || {
            if let Err(e) = set_current_thread_priority(ThreadPriority::Min) {
                tracing::warn!(error = ?e, "backup work runs at normal priority: lowering it failed");
            }
            for job in rx {
                job();
            }
        });
        if let Err(e) = started {
            // The receiver went with the closure: every job is refused with an error below.
            tracing::error!(error = %e, "the backup thread could not start");
        }
        tx
    })
}

/// Runs `f` on the backup thread and waits for it without blocking the async workers.
///
/// # Errors
/// The closure's error, or [`BackupError::Invalid`] if it panicked or the thread is gone.
pub(crate) async fn run<T: Send + 'static>(f: impl FnOnce() -> Result<T, BackupError> + Send + 'static) -> Result<T, BackupError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let t = Instant::now();
        // A panic is reported to this job's caller; the thread goes on with the next job.
        let result = std::panic::catch_unwind(AssertUnwindSafe(f));
        // Counted before the caller hears of it, so that it sees its own job counted.
        BUSY_NANOS.fetch_add(u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
        let _ = tx.send(result);
    });
    queue().send(job).map_err(|_| BackupError::Invalid("the backup thread is not running".into()))?;
    match rx.await {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => Err(BackupError::Invalid("a backup task panicked".into())),
        Err(_) => Err(BackupError::Invalid("the backup thread is not running".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The calling thread's nice value as the kernel reports it (field 19 of its stat line).
    fn nice() -> Result<i32, BackupError> {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").map_err(|e| BackupError::Invalid(e.to_string()))?;
        // The command name (field 2) is in parentheses and may hold spaces: count after it.
        let after = &stat[stat.rfind(')').ok_or_else(|| BackupError::Invalid(stat.clone()))? + 2..];
        after.split(' ').nth(16).and_then(|f| f.parse().ok()).ok_or_else(|| BackupError::Invalid(stat.clone()))
    }

    #[tokio::test]
    async fn jobs_run_at_the_lowest_priority_and_a_panic_is_an_error_not_the_end() {
        assert_eq!(nice().unwrap(), 0, "the test itself runs at normal priority");
        assert_eq!(run(nice).await.unwrap(), 19);
        let failed = run::<()>(|| panic!("boom")).await;
        assert!(matches!(&failed, Err(BackupError::Invalid(m)) if m.contains("panicked")), "{failed:?}");
        assert_eq!(run(|| Ok(41 + 1)).await.unwrap(), 42);

        let before = busy();
        run(|| {
            std::thread::sleep(Duration::from_millis(20));
            Ok(())
        })
        .await
        .unwrap();
        assert!(busy() - before >= Duration::from_millis(20), "counted {:?}", busy() - before);
    }
}
