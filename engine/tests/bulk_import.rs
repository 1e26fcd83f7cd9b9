//! Restored items written without log entries — through `COPY` on PostgreSQL, a multi-row
//! `INSERT` on SQLite — are stored exactly as the logged path stores them, whatever characters
//! their ids, partition keys and bodies hold; a batch with a duplicate id writes nothing; a
//! batch for a container deleted meanwhile is refused by name.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use engine::entities::item;
use engine::store::{self, ContainerSpec, ImportLog};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

/// Ids and keys with the characters `COPY`'s text format reserves (tab, newline, carriage
/// return, backslash in the canonical JSON of a key), and others besides.
fn docs() -> Vec<Value> {
    let awkward = ["plain", "tab\there", "line\nbreak", "carriage\rreturn", "quote\"d", "\\N", "ünï 漢字 🦀", "comma,semi;"];
    awkward
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            [
                json!({"id": format!("{i}-{}", s.replace('\\', "")), "k": s, "body": format!("C:\\dir\\{s}"), "nested": {"tab": "\t", "nul": null}}),
                json!({"id": format!("{i}-ttl"), "k": s, "ttl": 3600}),
            ]
        })
        .collect()
}

/// The stored rows of a container as (pk, id, body, has an expiry): everything but the fresh
/// system properties.
async fn stored(db: &DatabaseConnection, container: &str) -> Vec<(String, String, String, bool)> {
    let (_, coll) = store::get_container(db, "a", "db", container).await.unwrap();
    item::Entity::find()
        .filter(item::Column::ContainerRid.eq(coll.rid))
        .order_by_asc(item::Column::Pk)
        .order_by_asc(item::Column::Id)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.pk, r.id, r.body, r.expires_at.is_some()))
        .collect()
}

async fn check(db: &DatabaseConnection) {
    store::create_database(db, "a", "db", None).await.unwrap();
    for id in ["logged", "unlogged", "dupes", "gone"] {
        let spec = ContainerSpec::from_body(&json!({"id": id, "partitionKey": {"paths": ["/k"]}, "defaultTtl": -1})).unwrap();
        store::create_container(db, "a", "db", spec).await.unwrap();
    }
    store::import_items(db, "a", "db", "logged", docs(), ImportLog::Logged).await.unwrap();
    store::import_items(db, "a", "db", "unlogged", docs(), ImportLog::Unlogged).await.unwrap();
    let (logged, unlogged) = (stored(db, "logged").await, stored(db, "unlogged").await);
    assert_eq!(unlogged.len(), docs().len());
    assert_eq!(unlogged, logged);
    for doc in docs() {
        let (pk, id) = (json!([doc["k"]]).to_string(), doc["id"].as_str().unwrap().to_string());
        let read = store::read_item(db, "a", "db", "unlogged", &pk, &id).await.unwrap();
        let read: Value = serde_json::from_str(&read.item.body).unwrap();
        assert_eq!((&read["k"], &read["body"], &read["nested"]), (&doc["k"], &doc["body"], &doc["nested"]), "{id:?}");
    }

    let mut twice = docs();
    twice.push(docs()[3].clone());
    let e = store::import_items(db, "a", "db", "dupes", twice, ImportLog::Unlogged).await.unwrap_err();
    assert_eq!(e.status(), 500, "{e}");
    assert!(stored(db, "dupes").await.is_empty(), "a failed batch wrote nothing");

    let (d, coll) = store::get_container(db, "a", "db", "gone").await.unwrap();
    let prepared = store::prepare_import(&d, &coll, docs()).unwrap();
    store::delete_container(db, "a", "db", "gone").await.unwrap();
    let e = store::write_import(db, prepared, ImportLog::Unlogged).await.unwrap_err();
    assert_eq!(e.status(), 404, "{e}");
    assert!(e.to_string().contains("\"gone\""), "{e}");
    let left = item::Entity::find().filter(item::Column::ContainerRid.eq(coll.rid)).all(db).await.unwrap();
    assert!(left.is_empty(), "nothing stays behind for a deleted container");
}

#[tokio::test]
async fn sqlite_unlogged_imports_store_what_logged_ones_do() {
    let (db, _dir) = common::sqlite().await;
    check(&db).await;
}

#[tokio::test]
async fn postgres_unlogged_imports_store_what_logged_ones_do() {
    let pg = common::postgres().await;
    check(&pg.db).await;
    pg.drop().await;
}
