//! Restore memory does not grow with the container: restoring ten times the items (streamed
//! from a chunked snapshot plus a log tail into a new account) peaks at about the same heap.
//!
//! Measured as the process's peak resident memory (Linux `VmHWM`, reset through
//! `/proc/self/clear_refs` before the restore) above its resident memory then; this file holds
//! one test so nothing else runs meanwhile, and the database has one connection, so SQLite's
//! page caches stay one.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use backup::chunk::ChunkBounds;
use backup::keys::KeyWrapKey;
use backup::replay::{Bound, Items, PointInTime};
use backup::ship::SegmentBounds;
use backup::snapshot::SnapshotPolicy;
use backup::storage::BackupStorage;
use engine::store::{self, ContainerSpec, WriteMode};
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database};
use serde_json::json;
use std::sync::atomic::AtomicBool;

/// A field of `/proc/self/status`, in bytes.
fn status_bytes(field: &str) -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<usize>().unwrap() * 1024
}

const POLICY: SnapshotPolicy = SnapshotPolicy { chunks: ChunkBounds { bytes: 256 * 1024 }, every: 1, ..SnapshotPolicy::DEFAULT };

fn seeded<'a>(storage: &'a BackupStorage, kek: &'a KeyWrapKey) -> backup::restore::Recording<'a> {
    backup::restore::Recording::Seeded { storage, kek, chunks: POLICY.chunks }
}

/// Peak resident memory growth while restoring a container of `n` ~1 KiB items.
async fn restore_peak(n: usize) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let mut options = sea_orm::ConnectOptions::new(format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display()));
    options.max_connections(1).sqlx_logging(false);
    let db = Database::connect(options).await.unwrap();
    db.execute_unprepared("PRAGMA journal_mode=WAL").await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    let storage = BackupStorage::local(&dir.path().join("b")).unwrap();
    let kek = KeyWrapKey::service(&[7u8; 32]);
    store::create_database(&db, "a", "db", None).await.unwrap();
    let spec = ContainerSpec::from_body(&json!({"id": "c", "partitionKey": {"paths": ["/k"]}})).unwrap();
    store::create_container(&db, "a", "db", spec).await.unwrap();
    let text = "x".repeat(1000);
    for from in (0..n).step_by(500) {
        let docs = (from..(from + 500).min(n)).map(|i| json!({"id": format!("i{i:06}"), "k": format!("p{}", i % 13), "t": text})).collect();
        store::import_items(&db, "a", "db", "c", docs, store::ImportLog::Logged).await.unwrap();
    }
    let bounds = SegmentBounds { entries: 5_000, bytes: usize::MAX };
    backup::ship::ship_account(&db, &storage, &kek, "a", bounds).await.unwrap();
    while backup::snapshot::take_if_due(&db, &storage, &kek, "a", POLICY).await.unwrap().is_some() {}
    // A tail of log after the last snapshot.
    for i in 0..200 {
        let doc = json!({"id": format!("i{i:06}"), "k": format!("p{}", i % 13), "t": "changed"});
        store::write_item(&db, "a", "db", "c", None, doc, WriteMode::Upsert).await.unwrap();
    }
    backup::ship::ship_account(&db, &storage, &kek, "a", bounds).await.unwrap();

    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let before = status_bytes("VmRSS:");
    let pit = PointInTime::open(&db, &storage, &kek, "a", Bound::Time(chrono::Utc::now()), Items::All).await.unwrap();
    let chosen = pit.resources().clone();
    let (progress, _) = tokio::sync::watch::channel(backup::restore::Progress::default());
    let done =
        backup::restore::apply(&db, "job", "target", &pit, &chosen, &[], false, seeded(&storage, &kek), &progress, &AtomicBool::new(false))
            .await
            .map_err(|(e, _)| e)
            .unwrap();
    let peak = status_bytes("VmHWM:").saturating_sub(before);
    assert_eq!(done.items_done, n as u64);
    peak
}

#[tokio::test(flavor = "current_thread")]
async fn restore_memory_does_not_grow_with_the_container() {
    let small = restore_peak(3_000).await;
    let large = restore_peak(30_000).await;
    let mib = |b: usize| b as f64 / (1024.0 * 1024.0);
    println!("restore memory growth: {:.1} MiB for 3 000 items, {:.1} MiB for 30 000", mib(small), mib(large));
    // 30 000 items are about 30 MiB of JSON (several times that as parsed values); holding
    // them would show here.
    assert!(large < small + (8 << 20), "{:.1} MiB for 10x the items vs {:.1} MiB", mib(large), mib(small));
    assert!(large < 16 << 20, "{:.1} MiB", mib(large));
}
