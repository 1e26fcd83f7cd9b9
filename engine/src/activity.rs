//! How busy the data plane is, for background work that should step aside while it serves
//! requests (see `backup::pace`): a process-wide count of engine operations begun — item and
//! resource writes, reads, queries. One relaxed atomic add per operation; nothing is stored.

use std::sync::atomic::{AtomicU64, Ordering};

static OPERATIONS: AtomicU64 = AtomicU64::new(0);

/// Counts one data-plane operation.
pub fn note() {
    OPERATIONS.fetch_add(1, Ordering::Relaxed);
}

/// Operations begun since the process started: two readings that differ mean the data plane
/// was busy in between.
pub fn operations() -> u64 {
    OPERATIONS.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_operation_moves_the_count() {
        let before = operations();
        note();
        note();
        assert!(operations() >= before + 2);
    }
}
