//! Time to live: expired items vanish from reads at once and are purged later with an `expire`
//! entry in the change log.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use engine::store::{self, ContainerSpec, WriteMode};
use migrations::{Migrator, MigratorTrait};
use sea_orm::Database;
use serde_json::json;

#[tokio::test]
async fn expired_items_disappear_at_once_and_are_purged_with_a_log_entry() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::connect(format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display())).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    store::create_database(&db, "a", "db", None).await.unwrap();
    let spec = ContainerSpec::from_body(&json!({"id": "c", "partitionKey": {"paths": ["/k"]}, "defaultTtl": -1})).unwrap();
    store::create_container(&db, "a", "db", spec).await.unwrap();
    store::write_item(&db, "a", "db", "c", None, json!({"id": "short", "k": "x", "ttl": 1}), WriteMode::Create).await.unwrap();
    store::write_item(&db, "a", "db", "c", None, json!({"id": "forever", "k": "x"}), WriteMode::Create).await.unwrap();

    assert!(store::read_item(&db, "a", "db", "c", "[\"x\"]", "short").await.is_ok());
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let err = store::read_item(&db, "a", "db", "c", "[\"x\"]", "short").await.unwrap_err();
    assert_eq!(err.status(), 404);
    assert!(store::read_item(&db, "a", "db", "c", "[\"x\"]", "forever").await.is_ok());

    let purged = store::purge_expired(&db, store::now_ts(), 100).await.unwrap();
    assert_eq!(purged, 1);
    assert_eq!(store::purge_expired(&db, store::now_ts(), 100).await.unwrap(), 0);
    let log = engine::changelog::read(&db, "a", 0, 100).await.unwrap();
    let last = log.last().unwrap();
    assert_eq!((last.op.as_str(), last.item_id.as_deref(), last.body.as_deref()), ("expire", Some("short"), None));
    // The id is free again.
    store::write_item(&db, "a", "db", "c", None, json!({"id": "short", "k": "x"}), WriteMode::Create).await.unwrap();
}
