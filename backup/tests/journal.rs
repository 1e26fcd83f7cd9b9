//! The backup catalog in backup storage: the key is stored before first use, journal records
//! form a chain that two writers extend one after the other, and recovery rebuilds the catalog
//! from storage alone — refusing an altered or missing record, naming segments missing from the
//! log's end, and refusing a master key the backups were not made with.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use backup::BackupError;
use backup::entities::{backup_journal, backup_key};
use backup::journal::{self, Record};
use backup::keys::KeyWrapKey;
use backup::ship::SegmentBounds;
use backup::storage::BackupStorage;
use engine::store::{self, ContainerSpec, WriteMode};
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, IntoActiveModel, Set};
use serde_json::json;

const ACCOUNT: &str = "a";

async fn sqlite(dir: &std::path::Path, name: &str) -> DatabaseConnection {
    let db = Database::connect(format!("sqlite://{}?mode=rwc", dir.join(name).display())).await.unwrap();
    db.execute_unprepared("PRAGMA journal_mode=WAL").await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    db
}

struct Setup {
    dir: tempfile::TempDir,
    db: DatabaseConnection,
    storage: BackupStorage,
    kek: KeyWrapKey,
}

/// An account with a container and `passes` shipping passes of a few items each.
async fn shipped(passes: usize) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite(dir.path(), "live.db").await;
    let storage = BackupStorage::local(&dir.path().join("b")).unwrap();
    let kek = KeyWrapKey::service(&[7u8; 32]);
    store::create_database(&db, ACCOUNT, "db", None).await.unwrap();
    let spec = ContainerSpec::from_body(&json!({"id": "c", "partitionKey": {"paths": ["/k"]}})).unwrap();
    store::create_container(&db, ACCOUNT, "db", spec).await.unwrap();
    for pass in 0..passes {
        for i in 0..3 {
            let doc = json!({"id": format!("p{pass}-{i}"), "k": "x"});
            store::write_item(&db, ACCOUNT, "db", "c", None, doc, WriteMode::Create).await.unwrap();
        }
        backup::ship::ship_account(&db, &storage, &kek, ACCOUNT, SegmentBounds::DEFAULT).await.unwrap();
    }
    Setup { dir, db, storage, kek }
}

fn account(n: u32) -> Record {
    Record::Account { account: json!({"name": "a", "version": n}) }
}

async fn recover_into_fresh(s: &Setup, kek: &KeyWrapKey) -> (DatabaseConnection, Result<backup::recover::Recovered, BackupError>) {
    static FRESH: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = FRESH.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let fresh = sqlite(s.dir.path(), &format!("fresh-{n}.db")).await;
    let result = backup::recover::account(&fresh, &s.storage, kek, ACCOUNT).await;
    (fresh, result)
}

#[tokio::test]
async fn the_key_is_in_backup_storage_before_anything_is_sealed_under_it() {
    let s = shipped(1).await;
    let stored = journal::stored_key(&s.storage, ACCOUNT).await.unwrap();
    let row = backup_key::Entity::find_by_id(ACCOUNT.to_owned()).one(&s.db).await.unwrap().unwrap();
    assert_eq!(stored.wrapped_key, row.wrapped_key);
    // A key from before the journal is stored when the journal starts.
    std::fs::remove_dir_all(s.dir.path().join("b/accounts/a/keys")).unwrap();
    assert!(journal::stored_key(&s.storage, ACCOUNT).await.is_err());
    journal::start(&s.db, &s.storage, ACCOUNT).await.unwrap();
    assert_eq!(journal::stored_key(&s.storage, ACCOUNT).await.unwrap().wrapped_key, row.wrapped_key);
}

#[tokio::test]
async fn two_writers_extend_one_chain_and_recovery_reads_it_back() {
    let s = shipped(2).await;
    let key = s.kek.data_key(&s.db, &s.storage, ACCOUNT).await.unwrap();
    journal::start(&s.db, &s.storage, ACCOUNT).await.unwrap();
    journal::append(&s.db, &s.storage, &key, ACCOUNT, &account(1)).await.unwrap();
    // A second writer whose view of the head is behind (as a replica's can be) takes record 1's
    // number, finds it taken, and writes after it.
    let head = backup_journal::Entity::find_by_id(ACCOUNT.to_owned()).one(&s.db).await.unwrap().unwrap();
    let stale =
        backup_journal::ActiveModel { last_n: Set(0), last_sha256: Set(backup::ship::GENESIS.to_owned()), ..head.into_active_model() };
    stale.update(&s.db).await.unwrap();
    let after = journal::append(&s.db, &s.storage, &key, ACCOUNT, &account(2)).await.unwrap();
    assert_eq!(after.last_n, 2);

    let (fresh, recovered) = recover_into_fresh(&s, &s.kek).await;
    let recovered = recovered.unwrap();
    assert_eq!(recovered.records, 2);
    assert_eq!(recovered.account, Some(json!({"name": "a", "version": 2})));
    assert_eq!(recovered.segments, 2);
    assert!(recovered.problems.is_empty(), "{:?}", recovered.problems);
    let head = backup_journal::Entity::find_by_id(ACCOUNT.to_owned()).one(&fresh).await.unwrap().unwrap();
    assert_eq!((head.last_n, head.last_sha256), (after.last_n, after.last_sha256));
    // The recovered database carries on the chain.
    journal::append(&fresh, &s.storage, &key, ACCOUNT, &account(3)).await.unwrap();
    let (_, again) = recover_into_fresh(&s, &s.kek).await;
    assert_eq!(again.unwrap().records, 3);
}

#[tokio::test]
async fn an_altered_or_missing_record_stops_the_recovery_naming_it() {
    let s = shipped(1).await;
    let key = s.kek.data_key(&s.db, &s.storage, ACCOUNT).await.unwrap();
    journal::start(&s.db, &s.storage, ACCOUNT).await.unwrap();
    for n in 1..=3 {
        journal::append(&s.db, &s.storage, &key, ACCOUNT, &account(n)).await.unwrap();
    }
    let record = |n: i64| s.dir.path().join("b").join(journal::record_object(ACCOUNT, n));

    let mut bytes = std::fs::read(record(2)).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(record(2), &bytes).unwrap();
    let err = recover_into_fresh(&s, &s.kek).await.1.unwrap_err().to_string();
    assert!(err.contains(&journal::record_object(ACCOUNT, 2)), "{err}");

    std::fs::remove_file(record(2)).unwrap();
    let err = recover_into_fresh(&s, &s.kek).await.1.unwrap_err().to_string();
    assert!(err.contains("where record 2 belongs"), "{err}");

    // Record 3 moved into record 2's place: its identity says otherwise.
    std::fs::rename(record(3), record(2)).unwrap();
    let err = recover_into_fresh(&s, &s.kek).await.1.unwrap_err().to_string();
    assert!(err.contains(&journal::record_object(ACCOUNT, 2)), "{err}");
}

#[tokio::test]
async fn segments_missing_from_the_end_of_the_log_are_reported_and_the_rest_recovered() {
    let s = shipped(3).await;
    let key = s.kek.data_key(&s.db, &s.storage, ACCOUNT).await.unwrap();
    journal::start(&s.db, &s.storage, ACCOUNT).await.unwrap();
    journal::append(&s.db, &s.storage, &key, ACCOUNT, &account(1)).await.unwrap();
    let log = s.dir.path().join("b/accounts/a/log");
    let mut segments: Vec<_> = std::fs::read_dir(&log).unwrap().map(|e| e.unwrap().path()).collect();
    segments.sort();
    assert_eq!(segments.len(), 3);
    std::fs::remove_file(&segments[2]).unwrap();

    let recovered = recover_into_fresh(&s, &s.kek).await.1.unwrap();
    assert_eq!(recovered.segments, 2);
    assert!(recovered.problems.iter().any(|p| p.contains("segments are missing")), "{:?}", recovered.problems);
}

#[tokio::test]
async fn another_master_key_opens_nothing() {
    let s = shipped(1).await;
    let key = s.kek.data_key(&s.db, &s.storage, ACCOUNT).await.unwrap();
    journal::start(&s.db, &s.storage, ACCOUNT).await.unwrap();
    journal::append(&s.db, &s.storage, &key, ACCOUNT, &account(1)).await.unwrap();
    let other = KeyWrapKey::service(&[8u8; 32]);
    let err = recover_into_fresh(&s, &other).await.1.unwrap_err();
    assert!(matches!(err, BackupError::KeyUnavailable { .. }), "{err}");
}
