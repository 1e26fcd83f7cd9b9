//! Bounds a caller could otherwise push past: segments of large items stay small in bytes, and a
//! restore job removes only what it wrote itself — never a database or container somebody made
//! under the same name meanwhile.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use backup::keys::KeyWrapKey;
use backup::restore::{DatabaseSelection, owned_rid, remove};
use backup::ship::SegmentBounds;
use backup::storage::BackupStorage;
use engine::store::{self, ContainerSpec, WriteMode};
use migrations::{Migrator, MigratorTrait};
use sea_orm::{Database, DatabaseConnection, EntityTrait};
use serde_json::json;

async fn sqlite() -> (DatabaseConnection, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::connect(format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display())).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    (db, dir)
}

fn spec(id: &str) -> ContainerSpec {
    ContainerSpec::from_body(&json!({"id": id, "partitionKey": {"paths": ["/k"]}})).unwrap()
}

#[tokio::test]
async fn segments_of_large_items_are_bounded_by_bytes() {
    let (db, dir) = sqlite().await;
    store::create_database(&db, "a", "db", None).await.unwrap();
    store::create_container(&db, "a", "db", spec("c")).await.unwrap();
    for i in 0..10 {
        let doc = json!({"id": format!("i{i}"), "k": "p", "blob": "x".repeat(5000)});
        store::write_item(&db, "a", "db", "c", None, doc, WriteMode::Create).await.unwrap();
    }
    let storage = BackupStorage::local(&dir.path().join("b")).unwrap();
    let kek = KeyWrapKey::service(&[7u8; 32]);
    // 12 changes (database, container, ten 5 KB items) with room for 1 000 entries but 12 KB:
    // a segment closes once it holds 12 KB, so at most three items (and, in the first, the
    // database and container).
    let shipped = backup::ship::ship_account(&db, &storage, &kek, "a", SegmentBounds { entries: 1000, bytes: 12 * 1024 }).await.unwrap();
    assert_eq!(shipped.entries, 12);
    let segments = backup::entities::backup_segment::Entity::find().all(&db).await.unwrap();
    assert!(segments.len() >= 4, "{segments:?}");
    assert!(segments.iter().all(|s| s.last_seq - s.first_seq < 5), "{segments:?}");
    // And they restore exactly.
    let (state, _) = backup::replay::account_at(&db, &storage, &kek, "a", chrono::Utc::now(), backup::replay::Items::All).await.unwrap();
    assert_eq!(state.item_count(), 10);
}

#[tokio::test]
async fn a_restore_job_removes_only_what_it_created() {
    let (db, _dir) = sqlite().await;
    // What a job created: a database, and a container in a database that existed before it.
    store::create_database_as(&db, "a", "restored", None, Some(owned_rid("job-1", "restored", None))).await.unwrap();
    store::create_database(&db, "a", "kept", None).await.unwrap();
    let mut mine = spec("mine");
    mine.rid = Some(owned_rid("job-1", "kept", Some("mine")));
    store::create_container(&db, "a", "kept", mine).await.unwrap();
    store::create_container(&db, "a", "kept", spec("theirs")).await.unwrap();
    // Somebody made a database of a name the job was restoring, after the job's runner died.
    store::create_database(&db, "a", "recreated", None).await.unwrap();

    let selection = vec![
        DatabaseSelection { database: "restored".into(), containers: vec![] },
        DatabaseSelection { database: "recreated".into(), containers: vec![] },
        DatabaseSelection { database: "kept".into(), containers: vec!["mine".into(), "theirs".into()] },
    ];
    // Another job's cleanup touches none of it.
    remove(&db, "job-2", "a", &selection).await.unwrap();
    assert_eq!(store::list_databases(&db, "a").await.unwrap().len(), 3);

    remove(&db, "job-1", "a", &selection).await.unwrap();
    let dbs: Vec<String> = store::list_databases(&db, "a").await.unwrap().into_iter().map(|d| d.id).collect();
    assert_eq!(dbs, ["kept", "recreated"]);
    let (_, colls) = store::list_containers(&db, "a", "kept").await.unwrap();
    assert_eq!(colls.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["theirs"]);
    // With the whole account selected, only the job's own resources go as well.
    remove(&db, "job-1", "a", &[]).await.unwrap();
    assert_eq!(store::list_databases(&db, "a").await.unwrap().len(), 2);
}

#[tokio::test]
async fn the_event_feed_and_resources_at_a_time_read_no_segment() {
    let (db, dir) = sqlite().await;
    store::create_database(&db, "a", "db", None).await.unwrap();
    store::create_container(&db, "a", "db", spec("kept")).await.unwrap();
    store::create_container(&db, "a", "db", spec("dropped")).await.unwrap();
    for i in 0..50 {
        store::write_item(&db, "a", "db", "kept", None, json!({"id": format!("i{i}"), "k": "p"}), WriteMode::Create).await.unwrap();
    }
    let before_drop = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    store::delete_container(&db, "a", "db", "dropped").await.unwrap();
    let storage = BackupStorage::local(&dir.path().join("b")).unwrap();
    let kek = KeyWrapKey::service(&[7u8; 32]);
    backup::ship::ship_account(&db, &storage, &kek, "a", SegmentBounds { entries: 10, bytes: usize::MAX }).await.unwrap();

    // Every segment object gone from storage: the catalog answers from its rows alone.
    std::fs::remove_dir_all(dir.path().join("b")).unwrap();
    let events = backup::catalog::events(&db, &storage, &kek, "a").await.unwrap();
    let kinds: Vec<(&str, &str)> = events.iter().map(|e| (e.kind.as_str(), e.container.as_str())).collect();
    assert_eq!(kinds, [("Delete", "dropped"), ("Create", "dropped"), ("Create", "kept"), ("Create", "")]);
    let then = backup::catalog::resources_at(&db, &storage, &kek, "a", before_drop).await.unwrap();
    assert_eq!(then.databases["db"].containers.keys().collect::<Vec<_>>(), ["dropped", "kept"]);
    let now = backup::catalog::resources_at(&db, &storage, &kek, "a", chrono::Utc::now()).await.unwrap();
    assert_eq!(now.databases["db"].containers.keys().collect::<Vec<_>>(), ["kept"]);
}

#[tokio::test]
async fn a_restore_of_one_container_rebuilds_only_its_items() {
    let (db, dir) = sqlite().await;
    store::create_database(&db, "a", "db", None).await.unwrap();
    for c in ["wanted", "other"] {
        store::create_container(&db, "a", "db", spec(c)).await.unwrap();
        for i in 0..20 {
            store::write_item(&db, "a", "db", c, None, json!({"id": format!("i{i}"), "k": "p"}), WriteMode::Create).await.unwrap();
        }
    }
    let storage = BackupStorage::local(&dir.path().join("b")).unwrap();
    let kek = KeyWrapKey::service(&[7u8; 32]);
    backup::ship::ship_account(&db, &storage, &kek, "a", SegmentBounds::DEFAULT).await.unwrap();
    let selection = [DatabaseSelection { database: "db".into(), containers: vec!["wanted".into()] }];
    let (state, _) =
        backup::replay::account_at(&db, &storage, &kek, "a", chrono::Utc::now(), backup::replay::Items::Of(&selection)).await.unwrap();
    let containers = &state.databases["db"].containers;
    assert_eq!(containers["wanted"].items.len(), 20);
    assert!(containers["other"].items.is_empty(), "items of containers not being restored are not held");
}
