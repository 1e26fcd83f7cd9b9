//! Backup verification over a `Zone` account's two copies — a local folder and S3 (moto) or
//! Azure Blob (Azurite), each in turn the damaged one: a segment altered, a chunk truncated, a
//! segment renamed and a journal record deleted in one store are each named by object and
//! store (deep; the presence check names all but the altered one, whose size is right), the
//! undamaged store has nothing to report, and a restore still gives exactly the live account
//! from the other copy. `scripts/emulators.sh` starts the emulators (the test command does).

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use backup::chunk::ChunkBounds;
use backup::entities::{backup_segment, backup_snapshot_chunk};
use backup::journal::{self, Record};
use backup::keys::KeyWrapKey;
use backup::pace::PacePolicy;
use backup::replay::{Bound, Items, PointInTime};
use backup::ship::SegmentBounds;
use backup::snapshot::SnapshotPolicy;
use backup::storage::{BackupStorage, Store};
use backup::verify::{Depth, Problem};
use domain::Redundancy;
use engine::store::{self, ContainerSpec, WriteMode};
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const ACCOUNT: &str = "a";

#[derive(Debug, Clone, Copy)]
enum Kind {
    S3,
    Azure,
}

fn emulator(kind: Kind) -> Store {
    let prefix = format!("v-{:016x}", rand::random::<u64>());
    match kind {
        Kind::S3 => Store::open(&format!("s3://rewind-tests/{prefix}"), &common::s3_options()).unwrap(),
        Kind::Azure => Store::open(&format!("az://rewind-tests/{prefix}"), &common::azure_options()).unwrap(),
    }
}

/// The live account and its backups, `Zone`-redundant over `primary` and `zone`: a container of
/// 200 items shipped in several segments, a snapshot in small chunks, a journal.
async fn backed_up(primary: Store, zone: Store, dir: &std::path::Path) -> (DatabaseConnection, BackupStorage, KeyWrapKey) {
    let db = Database::connect(format!("sqlite://{}?mode=rwc", dir.join("t.db").display())).await.unwrap();
    db.execute_unprepared("PRAGMA journal_mode=WAL").await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    let storage = BackupStorage::new(primary, Some(zone), None).writing_for(Redundancy::Zone).unwrap();
    let kek = KeyWrapKey::service(&[3u8; 32]);
    store::create_database(&db, ACCOUNT, "db", None).await.unwrap();
    let spec = ContainerSpec::from_body(&json!({"id": "c", "partitionKey": {"paths": ["/k"]}})).unwrap();
    store::create_container(&db, ACCOUNT, "db", spec).await.unwrap();
    let bounds = SegmentBounds { entries: 40, bytes: usize::MAX };
    for i in 0..200 {
        let doc = json!({"id": format!("i{i:03}"), "k": format!("p{}", i % 5), "n": i});
        store::write_item(&db, ACCOUNT, "db", "c", None, doc, WriteMode::Create).await.unwrap();
        if i == 120 {
            backup::ship::ship_account(&db, &storage, &kek, ACCOUNT, bounds).await.unwrap();
            let policy =
                SnapshotPolicy { every: 1, chunks: ChunkBounds { bytes: 600 }, pace: PacePolicy::FLAT_OUT, ..SnapshotPolicy::DEFAULT };
            backup::snapshot::take_if_due(&db, &storage, &kek, ACCOUNT, policy).await.unwrap().unwrap();
        }
    }
    backup::ship::ship_account(&db, &storage, &kek, ACCOUNT, bounds).await.unwrap();
    let key = kek.data_key(&db, &storage, ACCOUNT).await.unwrap();
    journal::start(&db, &storage, ACCOUNT).await.unwrap();
    journal::append(&db, &storage, &key, ACCOUNT, &Record::Account { account: json!({"name": "a"}) }).await.unwrap();
    journal::append_pending(&db, &storage, &key, ACCOUNT).await.unwrap();
    (db, storage, kek)
}

fn live(v: &str) -> Value {
    let mut v: Value = serde_json::from_str(v).unwrap();
    v.as_object_mut().unwrap().retain(|k, _| !k.starts_with('_'));
    v
}

async fn items_live(db: &DatabaseConnection) -> BTreeMap<String, Value> {
    let (_, _, batch) = store::list_items(db, ACCOUNT, "db", "c", None, 10_000, usize::MAX).await.unwrap();
    batch.items.iter().map(|i| (i.id.clone(), live(&i.body))).collect()
}

async fn items_restored(db: &DatabaseConnection, storage: &BackupStorage, kek: &KeyWrapKey) -> BTreeMap<String, Value> {
    let pit = PointInTime::open(db, storage, kek, ACCOUNT, Bound::Time(chrono::Utc::now()), Items::All).await.unwrap();
    let mut items = pit.items("db", "c").await.unwrap();
    let mut out = BTreeMap::new();
    while let Some(i) = items.next().await.unwrap() {
        out.insert(i.id, live(&i.body));
    }
    out
}

/// Damages four objects in the folder `root` (one store's copy): returns (object, what the
/// deep verification must say of it).
async fn damage(db: &DatabaseConnection, root: &std::path::Path) -> Vec<(String, &'static str)> {
    let segments = backup_segment::Entity::find()
        .filter(backup_segment::Column::AccountId.eq(ACCOUNT))
        .order_by_asc(backup_segment::Column::FirstSeq)
        .all(db)
        .await
        .unwrap();
    assert!(segments.len() >= 4, "{} segments", segments.len());
    let chunk = backup_snapshot_chunk::Entity::find()
        .filter(backup_snapshot_chunk::Column::AccountId.eq(ACCOUNT))
        .filter(backup_snapshot_chunk::Column::Idx.eq(2))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let (altered, renamed) = (&segments[1].object_key, &segments[2].object_key);
    let mut bytes = std::fs::read(root.join(altered)).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    std::fs::write(root.join(altered), bytes).unwrap();
    let bytes = std::fs::read(root.join(&chunk.object_key)).unwrap();
    std::fs::write(root.join(&chunk.object_key), &bytes[..bytes.len() - 7]).unwrap();
    std::fs::rename(root.join(renamed), root.join(format!("{renamed}.moved"))).unwrap();
    let record = journal::record_object(ACCOUNT, 1);
    std::fs::remove_file(root.join(&record)).unwrap();
    vec![
        (altered.clone(), "does not match its manifest hash"),
        (chunk.object_key.clone(), "does not match its manifest hash"),
        (renamed.clone(), "missing"),
        (record, "missing"),
    ]
}

fn named<'a>(problems: &'a [Problem], object: &str) -> Vec<&'a Problem> {
    problems.iter().filter(|p| p.object == object).collect()
}

#[tokio::test]
async fn a_damaged_copy_is_named_by_object_and_store_and_the_restore_reads_the_other() {
    // (damaged store is the primary?, the emulator store's kind)
    for (primary_damaged, kind) in [(true, Kind::S3), (false, Kind::S3), (false, Kind::Azure)] {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("copy");
        let (folder_store, other) = (Store::local(&folder).unwrap(), emulator(kind));
        let (primary, zone) = if primary_damaged { (folder_store.clone(), other.clone()) } else { (other.clone(), folder_store.clone()) };
        let (db, storage, kek) = backed_up(primary, zone, dir.path()).await;
        let case = format!("{kind:?}, folder is the {}", if primary_damaged { "primary" } else { "zone store" });

        let clean = backup::verify::account(&db, &storage, &kek, ACCOUNT, Redundancy::Zone, Depth::Deep).await.unwrap();
        assert!(clean.problems.is_empty(), "{case}: {:?}", clean.problems);
        assert!(clean.objects > 20, "{case}: {} object copies", clean.objects);

        let damaged = damage(&db, &folder).await;
        let deep = backup::verify::account(&db, &storage, &kek, ACCOUNT, Redundancy::Zone, Depth::Deep).await.unwrap();
        for (object, what) in &damaged {
            let found = named(&deep.problems, object);
            assert_eq!(found.len(), 1, "{case}: {object} in {:?}", deep.problems);
            assert_eq!(found[0].store, folder_store.label(), "{case}: {}", found[0]);
            assert!(found[0].what.contains(what), "{case}: {}", found[0]);
        }
        assert_eq!(deep.problems.len(), damaged.len(), "{case}: nothing else: {:?}", deep.problems);

        let presence = backup::verify::account(&db, &storage, &kek, ACCOUNT, Redundancy::Zone, Depth::Presence).await.unwrap();
        assert!(named(&presence.problems, &damaged[0].0).is_empty(), "{case}: same size, so not seen without reading");
        assert!(named(&presence.problems, &damaged[1].0)[0].what.contains("bytes, its manifest says"), "{case}: {:?}", presence.problems);
        assert!(named(&presence.problems, &damaged[2].0)[0].what.contains("missing"), "{case}");
        assert!(named(&presence.problems, &damaged[3].0)[0].what.contains("missing"), "{case}");

        // The restore reads each damaged object from the other copy and equals the live account.
        let reading = storage.reporting();
        assert_eq!(items_restored(&db, &reading, &kek).await, items_live(&db).await, "{case}");
        if primary_damaged {
            assert!(!reading.fallbacks().is_empty(), "{case}: the damaged primary was read past");
        }
    }
}
