//! Retention, with the clock passed in: a continuous account's sweep removes the snapshots and
//! segments no restore inside the window needs — keeping the snapshot the window starts from and
//! the chunks later snapshots carried over — from every store, after which restores inside the
//! window are exact, verification finds nothing wrong and a recovery from storage lists nothing
//! that is gone; a periodic account keeps its newest copies; a deleted account past retention
//! loses everything.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use backup::chunk::ChunkBounds;
use backup::entities::{backup_point, backup_segment, backup_snapshot, backup_snapshot_chunk, backup_state};
use backup::journal::{self, Record};
use backup::keys::{KeyWrapKey, Wrapper};
use backup::pace::PacePolicy;
use backup::replay::{Bound, Items, PointInTime};
use backup::retention::Keep;
use backup::ship::SegmentBounds;
use backup::snapshot::SnapshotPolicy;
use backup::storage::BackupStorage;
use backup::verify::Depth;
use chrono::{DateTime, Duration, Utc};
use domain::Redundancy;
use engine::store::{self, ContainerSpec, WriteMode};
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const ACCOUNT: &str = "a";

async fn sqlite(dir: &Path, name: &str) -> DatabaseConnection {
    let db = Database::connect(format!("sqlite://{}?mode=rwc", dir.join(name).display())).await.unwrap();
    db.execute_unprepared("PRAGMA journal_mode=WAL").await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    db
}

/// Full snapshots (no deltas) in chunks of a few items.
const FULL: SnapshotPolicy = SnapshotPolicy {
    every: 1,
    log_bytes: i64::MAX,
    chunks: ChunkBounds { bytes: 300 },
    max_deltas: 0,
    full_after_percent: 1_000,
    pace: PacePolicy::FLAT_OUT,
};

struct World {
    dir: tempfile::TempDir,
    db: DatabaseConnection,
    storage: BackupStorage,
    kek: KeyWrapKey,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite(dir.path(), "live.db").await;
    let storage = BackupStorage::local(&dir.path().join("b")).unwrap().writing_for(Redundancy::Geo).unwrap();
    let kek = KeyWrapKey::service(&[5u8; 32]);
    store::create_database(&db, ACCOUNT, "db", None).await.unwrap();
    let spec = ContainerSpec::from_body(&json!({"id": "c", "partitionKey": {"paths": ["/k"]}})).unwrap();
    store::create_container(&db, ACCOUNT, "db", spec).await.unwrap();
    World { dir, db, storage, kek }
}

impl World {
    async fn write(&self, id: usize, n: i64) {
        let doc = json!({"id": format!("i{id:03}"), "k": format!("p{}", id % 4), "n": n});
        store::write_item(&self.db, ACCOUNT, "db", "c", None, doc, WriteMode::Upsert).await.unwrap();
    }

    async fn ship(&self) {
        backup::ship::ship_account(&self.db, &self.storage, &self.kek, ACCOUNT, SegmentBounds { entries: 15, bytes: usize::MAX })
            .await
            .unwrap();
    }

    /// Takes the snapshots due until none is (a snapshot is due at each shipped segment's end);
    /// returns the last one's change.
    async fn snapshot(&self) -> i64 {
        let mut last = None;
        while let Some(seq) = backup::snapshot::take_if_due(&self.db, &self.storage, &self.kek, ACCOUNT, FULL).await.unwrap() {
            last = Some(seq);
        }
        last.unwrap()
    }

    async fn live(&self) -> BTreeMap<String, Value> {
        let (_, _, batch) = store::list_items(&self.db, ACCOUNT, "db", "c", None, 10_000, usize::MAX).await.unwrap();
        batch.items.iter().map(|i| (i.id.clone(), fields(&i.body))).collect()
    }

    /// Whether every store holds (`true`) or none holds (`false`) the object.
    fn stored(&self, object: &str) -> Option<bool> {
        let copies: Vec<bool> = ["b", "b-geo"].iter().map(|s| self.dir.path().join(s).join(object).exists()).collect();
        if copies.iter().all(|c| *c) {
            Some(true)
        } else if copies.iter().all(|c| !*c) {
            Some(false)
        } else {
            None
        }
    }
}

fn fields(body: &str) -> Value {
    let mut v: Value = serde_json::from_str(body).unwrap();
    v.as_object_mut().unwrap().retain(|k, _| !k.starts_with('_'));
    v
}

async fn restored(db: &DatabaseConnection, storage: &BackupStorage, kek: &KeyWrapKey, at: DateTime<Utc>) -> BTreeMap<String, Value> {
    let pit = PointInTime::open(db, storage, kek, ACCOUNT, Bound::Time(at), Items::All).await.unwrap();
    let mut items = pit.items("db", "c").await.unwrap();
    let mut out = BTreeMap::new();
    while let Some(i) = items.next().await.unwrap() {
        out.insert(i.id, fields(&i.body));
    }
    out
}

async fn chunk_objects(db: &DatabaseConnection, seq: i64) -> BTreeSet<String> {
    backup_snapshot_chunk::Entity::find()
        .filter(backup_snapshot_chunk::Column::AccountId.eq(ACCOUNT))
        .filter(backup_snapshot_chunk::Column::Seq.eq(seq))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.object_key)
        .collect()
}

async fn pause() {
    tokio::time::sleep(std::time::Duration::from_millis(15)).await;
}

#[tokio::test]
async fn a_continuous_sweep_keeps_what_the_window_needs_and_no_more() {
    let w = world().await;
    for i in 0..60 {
        w.write(i, 0).await;
    }
    w.ship().await;
    let first = w.snapshot().await;
    for i in [3, 4, 50, 61, 62] {
        w.write(i, 1).await;
    }
    w.ship().await;
    let second = w.snapshot().await;
    pause().await;
    let (t2, model2) = (Utc::now(), w.live().await);
    pause().await;
    for i in [7, 8, 9] {
        store::delete_item(&w.db, ACCOUNT, "db", "c", &format!("[\"p{}\"]", i % 4), &format!("i{i:03}"), None).await.unwrap();
    }
    w.write(70, 2).await;
    w.ship().await;
    pause().await;
    let (t3, model3) = (Utc::now(), w.live().await);
    // The journal holds both snapshots before the sweep.
    let key = w.kek.data_key(&w.db, &w.storage, ACCOUNT).await.unwrap();
    journal::start(&w.db, &w.storage, ACCOUNT).await.unwrap();
    journal::append(&w.db, &w.storage, &key, ACCOUNT, &Record::Account { account: json!({"name": "a"}) }).await.unwrap();
    journal::append_pending(&w.db, &w.storage, &key, ACCOUNT).await.unwrap();

    let (first_chunks, second_chunks) = (chunk_objects(&w.db, first).await, chunk_objects(&w.db, second).await);
    let carried: BTreeSet<_> = first_chunks.intersection(&second_chunks).cloned().collect();
    let only_first: BTreeSet<_> = first_chunks.difference(&second_chunks).cloned().collect();
    assert!(!carried.is_empty() && !only_first.is_empty(), "the second snapshot carried some chunks over and rewrote others");
    let old_segments: Vec<String> = backup_segment::Entity::find()
        .filter(backup_segment::Column::AccountId.eq(ACCOUNT))
        .filter(backup_segment::Column::LastSeq.lte(second))
        .all(&w.db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.object_key)
        .collect();
    assert!(old_segments.len() >= 4, "{first} {second} {old_segments:?}");
    let second_taken = backup_snapshot::Entity::find_by_id((ACCOUNT.to_owned(), second)).one(&w.db).await.unwrap().unwrap().taken_at;

    // The window now begins between the second snapshot and the last changes.
    let swept = backup::retention::sweep(&w.db, &w.storage, &w.kek, ACCOUNT, Keep::Window { oldest: t2 }).await.unwrap();
    let snapshots_before_second = backup_snapshot::Entity::find().filter(backup_snapshot::Column::Seq.lt(second)).count(&w.db).await;
    assert_eq!(snapshots_before_second.unwrap(), 0, "{swept:?}");
    assert!(swept.snapshots >= 2 && swept.segments == old_segments.len(), "{swept:?}");
    assert!(backup_snapshot::Entity::find_by_id((ACCOUNT.to_owned(), first)).one(&w.db).await.unwrap().is_none());
    for object in old_segments.iter().chain(&only_first) {
        assert_eq!(w.stored(object), Some(false), "{object} is gone from every store");
    }
    for object in &carried {
        assert_eq!(w.stored(object), Some(true), "{object}, carried over, stays");
    }
    let state = backup_state::Entity::find_by_id(ACCOUNT.to_owned()).one(&w.db).await.unwrap().unwrap();
    assert_eq!(state.restorable_from, Some(second_taken));

    // Inside the window everything restores exactly; a second sweep finds nothing to do.
    assert_eq!(restored(&w.db, &w.storage, &w.kek, t2).await, model2);
    assert_eq!(restored(&w.db, &w.storage, &w.kek, t3).await, model3);
    let again = backup::retention::sweep(&w.db, &w.storage, &w.kek, ACCOUNT, Keep::Window { oldest: t2 }).await.unwrap();
    assert!(again.is_empty(), "{again:?}");
    let report = backup::verify::account(&w.db, &w.storage, &w.kek, ACCOUNT, Redundancy::Geo, Depth::Deep).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);

    // A recovery from storage lists only what is left, and restores the same.
    let fresh = sqlite(w.dir.path(), "fresh.db").await;
    let recovered = backup::recover::account(&fresh, &w.storage, &w.kek, ACCOUNT).await.unwrap();
    assert!(recovered.problems.is_empty(), "{:?}", recovered.problems);
    assert_eq!(backup_snapshot::Entity::find().count(&fresh).await.unwrap(), 1);
    let state = backup_state::Entity::find_by_id(ACCOUNT.to_owned()).one(&fresh).await.unwrap().unwrap();
    assert_eq!(state.restorable_from, Some(second_taken));
    assert_eq!(restored(&fresh, &w.storage, &w.kek, t3).await, model3);

    // Idle since a snapshot of its last change: the log's last segment stays, so the log (and a
    // recovery) still says how far backups reach.
    let last = w.snapshot().await;
    journal::append_pending(&w.db, &w.storage, &key, ACCOUNT).await.unwrap();
    pause().await;
    let t4 = Utc::now();
    backup::retention::sweep(&w.db, &w.storage, &w.kek, ACCOUNT, Keep::Window { oldest: t4 }).await.unwrap();
    let left = backup_segment::Entity::find().filter(backup_segment::Column::AccountId.eq(ACCOUNT)).all(&w.db).await.unwrap();
    assert_eq!(left.iter().map(|s| s.last_seq).collect::<Vec<_>>(), vec![last], "the last segment stays");
    let fresh = sqlite(w.dir.path(), "fresh-idle.db").await;
    let recovered = backup::recover::account(&fresh, &w.storage, &w.kek, ACCOUNT).await.unwrap();
    assert!(recovered.problems.is_empty(), "{:?}", recovered.problems);
    assert_eq!(recovered.through.map(|(seq, _)| seq), Some(last));
    assert_eq!(restored(&fresh, &w.storage, &w.kek, t4).await, model3);
}

#[tokio::test]
async fn a_periodic_account_keeps_its_newest_copies_and_a_deleted_one_loses_everything() {
    let w = world().await;
    let mut points = Vec::new();
    for round in 0..4 {
        for i in 0..20 {
            w.write(i, round).await;
        }
        let point = backup::periodic::take_full(&w.db, &w.storage, &w.kek, ACCOUNT, ChunkBounds { bytes: 300 }).await.unwrap();
        points.push(point);
        pause().await;
    }
    let objects = |seq| chunk_objects(&w.db, seq);
    // Copies go only once the journal in backup storage holds the ones that stay.
    let later = Utc::now() + Duration::hours(10);
    let unjournaled =
        backup::retention::sweep(&w.db, &w.storage, &w.kek, ACCOUNT, Keep::Points { since: later, newest: 2, deleted_since: later })
            .await
            .unwrap();
    assert!(unjournaled.is_empty(), "{unjournaled:?}");
    let key = w.kek.data_key(&w.db, &w.storage, ACCOUNT).await.unwrap();
    journal::start(&w.db, &w.storage, ACCOUNT).await.unwrap();
    journal::append_pending(&w.db, &w.storage, &key, ACCOUNT).await.unwrap();
    let oldest_two: Vec<BTreeSet<String>> = vec![objects(points[0].seq).await, objects(points[1].seq).await];

    // Every backup is older than retention: the newest two stay.
    let swept =
        backup::retention::sweep(&w.db, &w.storage, &w.kek, ACCOUNT, Keep::Points { since: later, newest: 2, deleted_since: later })
            .await
            .unwrap();
    assert_eq!((swept.points, swept.snapshots), (2, 2), "{swept:?}");
    let left: Vec<DateTime<Utc>> = backup_point::Entity::find().all(&w.db).await.unwrap().into_iter().map(|p| p.taken_at).collect();
    assert_eq!(left.len(), 2);
    assert!(left.contains(&points[3].taken_at) && left.contains(&points[2].taken_at));
    for object in oldest_two.iter().flatten() {
        assert_eq!(w.stored(object), Some(false), "{object}");
    }
    let report = backup::verify::account(&w.db, &w.storage, &w.kek, ACCOUNT, Redundancy::Geo, Depth::Deep).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);

    // A backup whose point is not recorded yet (a sweep between its snapshot and its point)
    // keeps its snapshot.
    w.write(0, 99).await;
    let pending = backup::periodic::take_full(&w.db, &w.storage, &w.kek, ACCOUNT, ChunkBounds { bytes: 300 }).await.unwrap();
    backup_point::Entity::delete_by_id((ACCOUNT.to_owned(), pending.taken_at)).exec(&w.db).await.unwrap();
    backup::retention::sweep(&w.db, &w.storage, &w.kek, ACCOUNT, Keep::Points { since: later, newest: 2, deleted_since: later })
        .await
        .unwrap();
    assert!(backup_snapshot::Entity::find_by_id((ACCOUNT.to_owned(), pending.seq)).one(&w.db).await.unwrap().is_some());
    for object in objects(pending.seq).await {
        assert_eq!(w.stored(&object), Some(true), "{object}");
    }

    // A rotation to a customer key: the sweep removes the superseded wrapping from every store.
    let keys = tempfile::tempdir().unwrap();
    let key: [u8; 32] = rand::random();
    std::fs::write(keys.path().join("c1.key"), base64::Engine::encode(&base64::engine::general_purpose::STANDARD, key)).unwrap();
    let kek = w.kek.clone().with_customer_keys(Some(keys.path().to_path_buf()));
    kek.rotate(&w.db, &w.storage, ACCOUNT, &Wrapper::Customer("c1".into())).await.unwrap();
    let wrappings = |store: &str| walk(&w.dir.path().join(store).join("accounts").join(ACCOUNT).join("keys")).len();
    assert_eq!((wrappings("b"), wrappings("b-geo")), (2, 2));
    let swept = backup::retention::sweep(&w.db, &w.storage, &kek, ACCOUNT, Keep::Points { since: later, newest: 2, deleted_since: later })
        .await
        .unwrap();
    assert!(swept.objects >= 2, "{swept:?}");
    assert_eq!((wrappings("b"), wrappings("b-geo")), (1, 1));
    assert_eq!(journal::stored_key(&w.storage, ACCOUNT).await.unwrap().wrapped_by, "customer:c1");
    let report = backup::verify::account(&w.db, &w.storage, &kek, ACCOUNT, Redundancy::Geo, Depth::Deep).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    // The service key alone opens nothing now.
    let report = backup::verify::account(&w.db, &w.storage, &w.kek, ACCOUNT, Redundancy::Geo, Depth::Deep).await.unwrap();
    assert!(report.problems.iter().any(|p| p.what.contains("\"c1\"")), "{:?}", report.problems);

    // Deleted longer ago than its retention: nothing is left, in any store or the catalog.
    let purged = backup::retention::sweep(&w.db, &w.storage, &w.kek, ACCOUNT, Keep::Nothing).await.unwrap();
    assert!(purged.objects > 0 && purged.points == 2, "{purged:?}");
    for store in ["b", "b-geo"] {
        let folder = w.dir.path().join(store).join("accounts").join(ACCOUNT);
        let left = walk(&folder);
        assert!(left.is_empty(), "{store}: {left:?}");
    }
    assert_eq!(backup_point::Entity::find().count(&w.db).await.unwrap(), 0);
    assert_eq!(backup_snapshot::Entity::find().count(&w.db).await.unwrap(), 0);
}

#[tokio::test]
async fn the_last_backup_of_a_deleted_container_stays_thirty_days() {
    let w = world().await;
    let spec = ContainerSpec::from_body(&json!({"id": "gone", "partitionKey": {"paths": ["/k"]}})).unwrap();
    store::create_container(&w.db, ACCOUNT, "db", spec).await.unwrap();
    store::write_item(&w.db, ACCOUNT, "db", "gone", None, json!({"id": "g1", "k": "x"}), WriteMode::Create).await.unwrap();
    let mut points = Vec::new();
    for round in 0..4 {
        if round == 2 {
            store::delete_container(&w.db, ACCOUNT, "db", "gone").await.unwrap();
        }
        w.write(round, 1).await;
        points.push(backup::periodic::take_full(&w.db, &w.storage, &w.kek, ACCOUNT, ChunkBounds { bytes: 300 }).await.unwrap());
        pause().await;
    }
    let held = |p: &backup_point::Model| backup::retention::point_containers(p).unwrap();
    assert_eq!((held(&points[1]).len(), held(&points[2]).len()), (2, 1), "{points:?}");
    let key = w.kek.data_key(&w.db, &w.storage, ACCOUNT).await.unwrap();
    journal::start(&w.db, &w.storage, ACCOUNT).await.unwrap();
    journal::append_pending(&w.db, &w.storage, &key, ACCOUNT).await.unwrap();
    let left = || async {
        let mut left: Vec<DateTime<Utc>> = backup_point::Entity::find().all(&w.db).await.unwrap().into_iter().map(|p| p.taken_at).collect();
        left.sort();
        left
    };

    // Every backup older than retention: the newest two stay, and the last that held the deleted
    // container; the one before it goes.
    let later = Utc::now() + Duration::hours(10);
    let keep = Keep::Points { since: later, newest: 2, deleted_since: later - Duration::days(30) };
    let swept = backup::retention::sweep(&w.db, &w.storage, &w.kek, ACCOUNT, keep).await.unwrap();
    assert_eq!(swept.points, 1, "{swept:?}");
    assert_eq!(left().await, vec![points[1].taken_at, points[2].taken_at, points[3].taken_at]);
    let report = backup::verify::account(&w.db, &w.storage, &w.kek, ACCOUNT, Redundancy::Geo, Depth::Deep).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    // A second sweep keeps it still; thirty days after that backup, it goes.
    assert!(backup::retention::sweep(&w.db, &w.storage, &w.kek, ACCOUNT, keep).await.unwrap().is_empty());
    let keep = Keep::Points { since: later, newest: 2, deleted_since: points[1].taken_at + Duration::milliseconds(1) };
    let swept = backup::retention::sweep(&w.db, &w.storage, &w.kek, ACCOUNT, keep).await.unwrap();
    assert_eq!(swept.points, 1, "{swept:?}");
    assert_eq!(left().await, vec![points[2].taken_at, points[3].taken_at]);
}

/// The files under `dir` (none if it is gone).
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .flat_map(|e| {
            let p = e.unwrap().path();
            if p.is_dir() { walk(&p) } else { vec![p] }
        })
        .collect()
}
