//! Chunked base snapshots and streaming restores: a container spans many chunks; a merge killed
//! part-way is run again and keeps what it stored (nothing lost, nothing stored twice); a
//! container deleted and made again after a snapshot does not bring the old items back; an
//! altered or dropped chunk is named, and nothing is restored from it; a full merge carries the
//! chunks no change touched over as they are.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use backup::chunk::ChunkBounds;
use backup::entities::{backup_snapshot, backup_snapshot_chunk};
use backup::keys::KeyWrapKey;
use backup::pace::PacePolicy;
use backup::replay::{Bound, Items, PointInTime};
use backup::ship::SegmentBounds;
use backup::snapshot::SnapshotPolicy;
use backup::storage::BackupStorage;
use engine::store::{self, ContainerSpec, WriteMode};
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const ACCOUNT: &str = "a";

async fn sqlite() -> (DatabaseConnection, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::connect(format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display())).await.unwrap();
    db.execute_unprepared("PRAGMA journal_mode=WAL").await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    (db, dir)
}

fn spec(id: &str) -> ContainerSpec {
    ContainerSpec::from_body(&json!({"id": id, "partitionKey": {"paths": ["/k"]}})).unwrap()
}

/// Small chunks (a few items each) and a snapshot after every shipped change, deltas up to two
/// deep.
const POLICY: SnapshotPolicy = SnapshotPolicy {
    every: 1,
    log_bytes: i64::MAX,
    chunks: ChunkBounds { bytes: 512 },
    max_deltas: 2,
    full_after_percent: 1_000,
    pace: PacePolicy::FLAT_OUT,
};

async fn load(db: &DatabaseConnection, container: &str, n: usize) {
    let docs: Vec<Value> = (0..n).map(|i| json!({"id": format!("i{i:05}"), "k": format!("p{}", i % 7), "n": i})).collect();
    for part in docs.chunks(200) {
        store::import_items(db, ACCOUNT, "db", container, part.to_vec(), store::ImportLog::Logged).await.unwrap();
    }
}

/// A fresh service database and backup folder: database "db" holding `containers` (name, item
/// count), all shipped.
async fn shipped(containers: &[(&str, usize)]) -> (DatabaseConnection, tempfile::TempDir, BackupStorage, KeyWrapKey) {
    let (db, dir) = sqlite().await;
    let storage = BackupStorage::local(&dir.path().join("b")).unwrap();
    let kek = KeyWrapKey::service(&[7u8; 32]);
    store::create_database(&db, ACCOUNT, "db", None).await.unwrap();
    for &(c, n) in containers {
        store::create_container(&db, ACCOUNT, "db", spec(c)).await.unwrap();
        load(&db, c, n).await;
    }
    ship(&db, &storage, &kek).await;
    (db, dir, storage, kek)
}

async fn ship(db: &DatabaseConnection, storage: &BackupStorage, kek: &KeyWrapKey) {
    // One segment per pass, so a snapshot covers the whole pass.
    backup::ship::ship_account(db, storage, kek, ACCOUNT, SegmentBounds { entries: 1_000_000, bytes: usize::MAX }).await.unwrap();
}

/// Item id → user fields, from the live account.
async fn live(db: &DatabaseConnection, container: &str) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let mut after = None;
    loop {
        let (_, _, batch) = store::list_items(db, ACCOUNT, "db", container, after, 500, usize::MAX).await.unwrap();
        for i in &batch.items {
            out.insert(i.id.clone(), user_fields(&i.body));
        }
        after = batch.items.last().map(|l| engine::scan::Position { pk: l.pk.clone(), id: l.id.clone() });
        if !batch.more {
            return out;
        }
    }
}

fn user_fields(body: &str) -> Value {
    let mut v: Value = serde_json::from_str(body).unwrap();
    v.as_object_mut().unwrap().retain(|k, _| !k.starts_with('_'));
    v
}

/// Item id → user fields, streamed from the backup as of now; checks the stream's order.
async fn restored(db: &DatabaseConnection, storage: &BackupStorage, kek: &KeyWrapKey, container: &str) -> BTreeMap<String, Value> {
    let pit = PointInTime::open(db, storage, kek, ACCOUNT, Bound::Time(chrono::Utc::now()), Items::All).await.unwrap();
    let mut items = pit.items("db", container).await.unwrap();
    let (mut out, mut last) = (BTreeMap::new(), None);
    while let Some(i) = items.next().await.unwrap() {
        let key = (i.pk.clone(), i.id.clone());
        assert!(last.as_ref().is_none_or(|l| l < &key), "items stream in (partition key, id) order");
        last = Some(key);
        out.insert(i.id, user_fields(&i.body));
    }
    out
}

#[tokio::test]
async fn a_merge_killed_part_way_is_run_again_and_stores_nothing_twice() {
    let (db, dir, storage, kek) = shipped(&[("c", 3_000)]).await;

    // Kill the merge once some of its chunks are stored.
    let chunk_dir = dir.path().join("b/accounts/a/snapshots");
    let merge = {
        let (db, storage, kek) = (db.clone(), storage.clone(), kek.clone());
        tokio::spawn(async move { backup::snapshot::take_if_due(&db, &storage, &kek, ACCOUNT, POLICY).await })
    };
    let stored = |d: &std::path::Path| walk(d).len();
    while stored(&chunk_dir) < 20 && !merge.is_finished() {
        tokio::time::sleep(std::time::Duration::from_micros(200)).await;
    }
    merge.abort();
    assert!(merge.await.unwrap_err().is_cancelled(), "the merge was killed before it finished");
    assert_eq!(backup_snapshot::Entity::find().count(&db).await.unwrap(), 0, "a killed merge records no snapshot");
    let before = stored(&chunk_dir);
    assert!(before >= 20);

    // Run again: the snapshot completes, keeping the chunks stored already.
    let seq = backup::snapshot::take_if_due(&db, &storage, &kek, ACCOUNT, POLICY).await.unwrap().unwrap();
    let snapshot = backup_snapshot::Entity::find_by_id((ACCOUNT.to_owned(), seq)).one(&db).await.unwrap().unwrap();
    assert!(snapshot.chunks > 100, "3 000 items in 512-byte chunks: {} chunks", snapshot.chunks);
    assert_eq!(stored(&chunk_dir), usize::try_from(snapshot.chunks).unwrap(), "every stored chunk is listed, none twice");
    assert_eq!(snapshot.items, 3_000);

    // A restore now reads the snapshot alone, and gets exactly the live items.
    let pit = PointInTime::open(&db, &storage, &kek, ACCOUNT, Bound::Time(chrono::Utc::now()), Items::All).await.unwrap();
    assert_eq!(pit.stats().entries, 0, "no log after the snapshot");
    assert_eq!(restored(&db, &storage, &kek, "c").await, live(&db, "c").await);
}

#[tokio::test]
async fn merges_carry_changes_and_a_container_made_again_starts_empty() {
    let (db, _dir, storage, kek) = shipped(&[("kept", 200), ("again", 200)]).await;
    backup::snapshot::take_if_due(&db, &storage, &kek, ACCOUNT, POLICY).await.unwrap().unwrap();

    // After the snapshot: changes in one container; the other deleted and made again.
    store::write_item(&db, ACCOUNT, "db", "kept", None, json!({"id": "i00003", "k": "p3", "n": -1}), WriteMode::Upsert).await.unwrap();
    store::delete_item(&db, ACCOUNT, "db", "kept", "[\"p5\"]", "i00005", None).await.unwrap();
    store::write_item(&db, ACCOUNT, "db", "kept", None, json!({"id": "new", "k": "p0"}), WriteMode::Create).await.unwrap();
    store::delete_container(&db, ACCOUNT, "db", "again").await.unwrap();
    store::create_container(&db, ACCOUNT, "db", spec("again")).await.unwrap();
    store::write_item(&db, ACCOUNT, "db", "again", None, json!({"id": "only", "k": "p"}), WriteMode::Create).await.unwrap();
    ship(&db, &storage, &kek).await;

    // Streamed from the snapshot plus the tail, from a delta on it, and from a full snapshot
    // merged from both: all exact.
    for (round, full) in [("tail", false), ("delta", true), ("full", false)] {
        assert_eq!(restored(&db, &storage, &kek, "kept").await, live(&db, "kept").await, "{round}");
        let again = restored(&db, &storage, &kek, "again").await;
        assert_eq!(again.keys().collect::<Vec<_>>(), ["only"], "{round}: the old container's items stay gone");
        if round == "tail" {
            backup::snapshot::take_if_due(&db, &storage, &kek, ACCOUNT, POLICY).await.unwrap().unwrap();
        } else if full {
            // One more change, and a full snapshot (no deltas allowed).
            store::write_item(&db, ACCOUNT, "db", "kept", None, json!({"id": "last", "k": "p0"}), WriteMode::Create).await.unwrap();
            ship(&db, &storage, &kek).await;
            let policy = SnapshotPolicy { max_deltas: 0, ..POLICY };
            backup::snapshot::take_if_due(&db, &storage, &kek, ACCOUNT, policy).await.unwrap().unwrap();
        }
    }
    let kinds: Vec<Option<i64>> = backup_snapshot::Entity::find().all(&db).await.unwrap().into_iter().map(|s| s.parent_seq).collect();
    assert_eq!(kinds.len(), 3);
    assert_eq!((kinds[0], kinds[1].is_some(), kinds[2]), (None, true, None), "full, delta, full");
}

#[tokio::test]
async fn a_full_merge_rewrites_only_the_chunks_that_changed() {
    let (db, dir, storage, kek) = shipped(&[("c", 3_000), ("still", 3_000)]).await;
    // Chunks of about 20 items: with only two or three, boundaries take several chunks to
    // realign after a change.
    let full = SnapshotPolicy { max_deltas: 0, chunks: ChunkBounds { bytes: 4096 }, ..POLICY };
    let first = backup::snapshot::take_if_due(&db, &storage, &kek, ACCOUNT, full).await.unwrap().unwrap();
    let files = walk(&dir.path().join("b/accounts/a/snapshots")).len();

    // A few changes in one container: an update, a deletion, a new item between two others.
    store::write_item(&db, ACCOUNT, "db", "c", None, json!({"id": "i01500", "k": "p2", "n": -1}), WriteMode::Upsert).await.unwrap();
    store::delete_item(&db, ACCOUNT, "db", "c", "[\"p5\"]", "i02000", None).await.unwrap();
    store::write_item(&db, ACCOUNT, "db", "c", None, json!({"id": "i00700x", "k": "p0"}), WriteMode::Create).await.unwrap();
    ship(&db, &storage, &kek).await;
    let second = backup::snapshot::take_if_due(&db, &storage, &kek, ACCOUNT, full).await.unwrap().unwrap();
    let chunks = |seq: i64| {
        let db = db.clone();
        async move {
            let all = backup_snapshot_chunk::Entity::find().all(&db).await.unwrap();
            all.into_iter().filter(|c| c.seq == seq && c.idx > 0).collect::<Vec<_>>()
        }
    };
    let (before, after) = (chunks(first).await, chunks(second).await);
    let written = after.iter().filter(|c| c.sealed_seq.is_none()).count();
    let carried = after.iter().filter(|c| c.sealed_seq == Some(first)).count();
    assert!(before.len() > 200, "6 000 items in 4 KiB chunks: {}", before.len());
    assert_eq!(written + carried, after.len());
    assert!(
        written <= 12,
        "three changes rewrite the chunks they fall in (and the next, where boundaries realign): {written} of {}",
        after.len()
    );
    assert_eq!(walk(&dir.path().join("b/accounts/a/snapshots")).len(), files + written + 1, "only those and chunk 0 are stored");
    for c in after.iter().filter(|c| c.sealed_seq.is_some()) {
        let origin = before.iter().find(|b| b.idx == c.sealed_idx.unwrap()).unwrap();
        assert_eq!((&c.object_key, &c.sha256, c.items), (&origin.object_key, &origin.sha256, origin.items));
    }
    // Exact from the merged snapshot, which holds no log after it.
    let pit = PointInTime::open(&db, &storage, &kek, ACCOUNT, Bound::Time(chrono::Utc::now()), Items::All).await.unwrap();
    assert_eq!(pit.stats().entries, 0);
    for c in ["c", "still"] {
        assert_eq!(restored(&db, &storage, &kek, c).await, live(&db, c).await, "{c}");
    }

    // Chunks carried over twice keep the identity they were sealed with; a delta in between
    // changes nothing about that.
    store::write_item(&db, ACCOUNT, "db", "still", None, json!({"id": "i00001", "k": "p1", "n": -2}), WriteMode::Upsert).await.unwrap();
    ship(&db, &storage, &kek).await;
    backup::snapshot::take_if_due(&db, &storage, &kek, ACCOUNT, SnapshotPolicy { chunks: full.chunks, ..POLICY }).await.unwrap().unwrap();
    store::delete_item(&db, ACCOUNT, "db", "c", "[\"p0\"]", "i00700x", None).await.unwrap();
    ship(&db, &storage, &kek).await;
    let third = backup::snapshot::take_if_due(&db, &storage, &kek, ACCOUNT, full).await.unwrap().unwrap();
    let from_first = chunks(third).await.iter().filter(|c| c.sealed_seq == Some(first)).count();
    assert!(from_first * 10 > before.len() * 9, "most chunks are still the first snapshot's objects: {from_first} of {}", before.len());
    for c in ["c", "still"] {
        assert_eq!(restored(&db, &storage, &kek, c).await, live(&db, c).await, "{c}");
    }

    // A carried-over chunk pointed at another object is caught by the snapshot's list hash.
    let victim = chunks(third).await.into_iter().find(|c| c.sealed_seq == Some(first)).unwrap();
    let other = before.iter().find(|b| b.idx != victim.sealed_idx.unwrap() && b.container_id == victim.container_id).unwrap();
    let mut altered: backup_snapshot_chunk::ActiveModel = victim.clone().into();
    altered.sealed_idx = sea_orm::ActiveValue::Set(Some(other.idx));
    altered.object_key = sea_orm::ActiveValue::Set(other.object_key.clone());
    altered.sha256 = sea_orm::ActiveValue::Set(other.sha256.clone());
    sea_orm::ActiveModelTrait::update(altered, &db).await.unwrap();
    let err = stream_all(&db, &storage, &kek).await.unwrap_err().to_string();
    assert!(err.contains("does not match its manifest"), "{err}");
}

#[tokio::test]
async fn a_merge_checks_the_item_count_of_every_chunk_it_opens_also_the_last() {
    let (db, _dir, storage, kek) = shipped(&[("c", 500)]).await;
    let full = SnapshotPolicy { max_deltas: 0, chunks: ChunkBounds { bytes: 4096 }, ..POLICY };
    backup::snapshot::take_if_due(&db, &storage, &kek, ACCOUNT, full).await.unwrap().unwrap();
    // The last chunk's manifest line claims one item more than it holds (its hash does not
    // cover the count), and a change falls in it: the merge opens it, and only it.
    let last = backup_snapshot_chunk::Entity::find().all(&db).await.unwrap().into_iter().max_by_key(|c| c.idx).unwrap();
    let mut altered: backup_snapshot_chunk::ActiveModel = last.clone().into();
    altered.items = sea_orm::ActiveValue::Set(last.items + 1);
    sea_orm::ActiveModelTrait::update(altered, &db).await.unwrap();
    store::write_item(&db, ACCOUNT, "db", "c", None, json!({"id": "i99999", "k": "p6"}), WriteMode::Create).await.unwrap();
    ship(&db, &storage, &kek).await;
    let err = backup::snapshot::take_if_due(&db, &storage, &kek, ACCOUNT, full).await.unwrap_err().to_string();
    assert!(err.contains(&last.object_key) && err.contains("its manifest says"), "{err}");
}

#[tokio::test]
async fn an_altered_or_missing_chunk_is_named() {
    let (db, dir, storage, kek) = shipped(&[("c", 100)]).await;
    backup::snapshot::take_if_due(&db, &storage, &kek, ACCOUNT, POLICY).await.unwrap().unwrap();
    let chunks = backup_snapshot_chunk::Entity::find().all(&db).await.unwrap();
    let victim = &chunks[chunks.len() / 2];
    let path = dir.path().join("b").join(&victim.object_key);

    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len() / 2;
    bytes[n] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let err = stream_all(&db, &storage, &kek).await.unwrap_err().to_string();
    assert!(err.contains(&victim.object_key) && err.contains("does not match"), "{err}");

    std::fs::remove_file(&path).unwrap();
    let err = stream_all(&db, &storage, &kek).await.unwrap_err().to_string();
    assert!(err.contains(&victim.object_key) && err.contains("missing"), "{err}");
}

async fn stream_all(db: &DatabaseConnection, storage: &BackupStorage, kek: &KeyWrapKey) -> Result<usize, backup::BackupError> {
    let pit = PointInTime::open(db, storage, kek, ACCOUNT, Bound::Time(chrono::Utc::now()), Items::All).await?;
    let mut items = pit.items("db", "c").await?;
    let mut n = 0;
    while items.next().await?.is_some() {
        n += 1;
    }
    Ok(n)
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.extension().is_some_and(|x| x == "chunk") {
            out.push(p);
        }
    }
    out
}

#[tokio::test]
async fn a_job_lease_has_one_holder_until_it_runs_out() {
    use backup::lease::{acquire, release};
    let (db, _dir) = sqlite().await;
    let soon = chrono::Utc::now() + chrono::Duration::seconds(30);
    assert!(acquire(&db, "snapshot/a", "one", soon).await.unwrap());
    assert!(!acquire(&db, "snapshot/a", "two", soon).await.unwrap(), "held by another");
    assert!(acquire(&db, "snapshot/a", "one", soon).await.unwrap(), "its holder renews it");
    assert!(acquire(&db, "snapshot/b", "two", soon).await.unwrap(), "leases are per job");
    // A holder that dies stops renewing: once the lease runs out, another takes the job over.
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    assert!(acquire(&db, "snapshot/c", "dead", past).await.unwrap());
    assert!(acquire(&db, "snapshot/c", "two", soon).await.unwrap());
    release(&db, "snapshot/a", "two").await.unwrap();
    assert!(!acquire(&db, "snapshot/a", "two", soon).await.unwrap(), "only its holder releases it");
    release(&db, "snapshot/a", "one").await.unwrap();
    assert!(acquire(&db, "snapshot/a", "two", soon).await.unwrap());
}

#[tokio::test]
async fn a_seeded_restore_is_backed_up_from_its_first_second() {
    let (db, _dir, storage, kek) = shipped(&[("c", 500)]).await;

    // Restore into a new account, seeding its backup: no item reaches its change log.
    let pit = PointInTime::open(&db, &storage, &kek, ACCOUNT, Bound::Time(chrono::Utc::now()), Items::All).await.unwrap();
    let chosen = pit.resources().clone();
    let (progress, _) = tokio::sync::watch::channel(backup::restore::Progress::default());
    let recording = backup::restore::Recording::Seeded { storage: &storage, kek: &kek, chunks: POLICY.chunks };
    let stop = std::sync::atomic::AtomicBool::new(false);
    backup::restore::apply(&db, "job", "t", &pit, &chosen, &[], false, recording, &progress, &stop).await.map_err(|(e, _)| e).unwrap();
    let logged = engine::changelog::read(&db, "t", 0, 10_000).await.unwrap();
    assert_eq!(logged.len(), 2, "the database and the container, not the items: {logged:?}");
    let seed = backup_snapshot::Entity::find_by_id(("t".to_owned(), 2)).one(&db).await.unwrap().unwrap();
    assert_eq!(seed.items, 500);

    // The restored account changes, ships, and restores to exactly what it holds.
    store::write_item(&db, "t", "db", "c", None, json!({"id": "after", "k": "p1"}), WriteMode::Create).await.unwrap();
    store::delete_item(&db, "t", "db", "c", "[\"p1\"]", "i00001", None).await.unwrap();
    backup::ship::ship_account(&db, &storage, &kek, "t", SegmentBounds::DEFAULT).await.unwrap();
    let pit = PointInTime::open(&db, &storage, &kek, "t", Bound::Time(chrono::Utc::now()), Items::All).await.unwrap();
    let mut items = pit.items("db", "c").await.unwrap();
    let mut got = BTreeMap::new();
    while let Some(i) = items.next().await.unwrap() {
        got.insert(i.id, user_fields(&i.body));
    }
    let mut want = BTreeMap::new();
    let (_, _, batch) = store::list_items(&db, "t", "db", "c", None, 10_000, usize::MAX).await.unwrap();
    for i in &batch.items {
        want.insert(i.id.clone(), user_fields(&i.body));
    }
    assert_eq!(got.len(), 500);
    assert_eq!(got, want);
}

#[tokio::test]
async fn a_restore_killed_while_writing_is_cleaned_up_and_run_again_exactly() {
    let (db, _dir, storage, kek) = shipped(&[("c", 6_000)]).await;
    let restore = |db: DatabaseConnection, storage: BackupStorage, kek: KeyWrapKey| async move {
        let pit = PointInTime::open(&db, &storage, &kek, ACCOUNT, Bound::Time(chrono::Utc::now()), Items::All).await?;
        let chosen = pit.resources().clone();
        let (progress, _) = tokio::sync::watch::channel(backup::restore::Progress::default());
        let recording = backup::restore::Recording::Seeded { storage: &storage, kek: &kek, chunks: POLICY.chunks };
        let stop = std::sync::atomic::AtomicBool::new(false);
        backup::restore::apply(&db, "job", "t", &pit, &chosen, &[], false, recording, &progress, &stop).await.map_err(|(e, _)| e)
    };

    // Killed once part of the items are written.
    let run = tokio::spawn(restore(db.clone(), storage.clone(), kek.clone()));
    let mut written = 0;
    while written == 0 && !run.is_finished() {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        written = store::count_items(&db, "t", "db", "c").await.unwrap_or(0);
    }
    run.abort();
    assert!(run.await.unwrap_err().is_cancelled(), "killed before it finished");
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let partial = store::count_items(&db, "t", "db", "c").await.unwrap();
    assert!(partial > 0 && partial < 6_000, "{partial} items written when killed");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(store::count_items(&db, "t", "db", "c").await.unwrap(), partial, "nothing writes after the kill");
    assert_eq!(backup_snapshot::Entity::find_by_id(("t".to_owned(), 2)).one(&db).await.unwrap(), None, "no seeded snapshot recorded");

    // What a resumed job does: remove what the dead one wrote (by its resource ids), start over.
    backup::restore::remove(&db, "job", "t", &[]).await.unwrap();
    assert!(store::list_databases(&db, "t").await.unwrap().is_empty());
    let done = restore(db.clone(), storage.clone(), kek.clone()).await.unwrap();
    assert_eq!(done.items_done, 6_000);
    let mut source = live(&db, "c").await;
    let mut restored = BTreeMap::new();
    let (_, _, batch) = store::list_items(&db, "t", "db", "c", None, 100_000, usize::MAX).await.unwrap();
    for i in &batch.items {
        restored.insert(i.id.clone(), user_fields(&i.body));
    }
    assert_eq!(std::mem::take(&mut restored), std::mem::take(&mut source), "exact: nothing lost, nothing twice");
    let seeded = backup_snapshot::Entity::find().all(&db).await.unwrap().into_iter().filter(|s| s.account_id == "t").collect::<Vec<_>>();
    assert_eq!(seeded.len(), 1);
    assert_eq!(seeded[0].items, 6_000);
}

#[tokio::test]
async fn work_under_a_lease_renews_it_and_shuts_others_out_until_it_ends() {
    use backup::lease::{Term, while_held};
    let (db, _dir) = sqlite().await;
    let term = Term { lease: std::time::Duration::from_millis(600), renew: std::time::Duration::from_millis(100) };
    let (db2, started) = (db.clone(), std::sync::Arc::new(tokio::sync::Notify::new()));
    let signal = started.clone();
    let long = tokio::spawn(async move {
        while_held(&db2, "job", "one", term, async move {
            signal.notify_one();
            // Twice the lease: only renewals keep it.
            tokio::time::sleep(std::time::Duration::from_millis(1_300)).await;
            7
        })
        .await
        .unwrap()
    });
    started.notified().await;
    for _ in 0..4 {
        assert_eq!(while_held(&db, "job", "two", term, async { 1 }).await.unwrap(), None, "held by one");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(long.await.unwrap(), Some(7));
    // Given up when the work ended: the next holder gets it at once.
    assert_eq!(while_held(&db, "job", "two", term, async { 2 }).await.unwrap(), Some(2));
}
