//! Property: however writers interleave, the change log numbers every committed change exactly
//! once, with no gap, and replaying it gives exactly the container's final contents.
//! Runs on SQLite, and on PostgreSQL when `REWIND_TEST_POSTGRES_URL` (or the default local
//! server) is reachable — `scripts/test.sh` makes that tier mandatory in CI.

#![allow(clippy::unwrap_used, clippy::panic)] // a failed unwrap is a failed test

use std::collections::BTreeMap;

mod common;

use engine::store::{self, ContainerSpec, WriteMode};
use proptest::prelude::*;
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
enum Op {
    Create(u8, u8, i64),
    Upsert(u8, u8, i64),
    Replace(u8, u8, i64),
    Delete(u8, u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..6, 0u8..3, any::<i64>()).prop_map(|(i, p, v)| Op::Create(i, p, v)),
        (0u8..6, 0u8..3, any::<i64>()).prop_map(|(i, p, v)| Op::Upsert(i, p, v)),
        (0u8..6, 0u8..3, any::<i64>()).prop_map(|(i, p, v)| Op::Replace(i, p, v)),
        (0u8..6, 0u8..3).prop_map(|(i, p)| Op::Delete(i, p)),
    ]
}

const ACCOUNT: &str = "acct-1";

async fn apply(db: &DatabaseConnection, op: Op) {
    let doc = |i: u8, p: u8, v: i64| json!({ "id": format!("item{i}"), "tenant": format!("t{p}"), "v": v });
    let pk = |p: u8| format!("[\"t{p}\"]");
    // Conflicts, missing items and precondition failures are expected outcomes of random
    // operations; a database error (a lock timeout, say) is not.
    let result = match op {
        Op::Create(i, p, v) => store::write_item(db, ACCOUNT, "db", "c", None, doc(i, p, v), WriteMode::Create).await.map(|_| ()),
        Op::Upsert(i, p, v) => store::write_item(db, ACCOUNT, "db", "c", None, doc(i, p, v), WriteMode::Upsert).await.map(|_| ()),
        Op::Replace(i, p, v) => {
            store::replace_item(db, ACCOUNT, "db", "c", &pk(p), &format!("item{i}"), doc(i, p, v), None).await.map(|_| ())
        }
        Op::Delete(i, p) => store::delete_item(db, ACCOUNT, "db", "c", &pk(p), &format!("item{i}"), None).await,
    };
    if let Err(e @ engine::EngineError::Db(_)) = result {
        panic!("unexpected database error: {e}");
    }
}

/// A user-field view of an item: (pk, id) → body without system properties.
fn user_fields(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.retain(|k, _| !k.starts_with('_'));
    }
    v
}

async fn check(db: DatabaseConnection, ops: Vec<Op>) {
    store::create_database(&db, ACCOUNT, "db", None).await.unwrap();
    let spec = ContainerSpec::from_body(&json!({"id": "c", "partitionKey": {"paths": ["/tenant"], "kind": "Hash"}})).unwrap();
    store::create_container(&db, ACCOUNT, "db", spec).await.unwrap();

    // Four concurrent writers.
    let mut tasks = Vec::new();
    for chunk in ops.chunks(ops.len().div_ceil(4).max(1)) {
        let (db, chunk) = (db.clone(), chunk.to_vec());
        tasks.push(tokio::spawn(async move {
            for op in chunk {
                apply(&db, op).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }

    let log = engine::changelog::read(&db, ACCOUNT, 0, 1_000_000).await.unwrap();
    for (n, entry) in log.iter().enumerate() {
        assert_eq!(entry.seq, n as i64 + 1, "gap or duplicate at position {n}");
    }
    let mut replayed: BTreeMap<(String, String), Value> = BTreeMap::new();
    for e in log.iter().filter(|e| e.resource_type == domain::resource::ResourceType::Item) {
        let key = (e.pk.clone().unwrap(), e.item_id.clone().unwrap());
        match &e.body {
            Some(b) => {
                replayed.insert(key, user_fields(&serde_json::from_str(b).unwrap()));
            }
            None => {
                replayed.remove(&key);
            }
        }
    }
    let (d, c, batch) = store::list_items(&db, ACCOUNT, "db", "c", None, 1_000_000, usize::MAX).await.unwrap();
    let items = batch.items;
    let actual: BTreeMap<(String, String), Value> =
        items.iter().map(|i| ((i.pk.clone(), i.id.clone()), user_fields(&store::item_json(&d, &c, i).unwrap()))).collect();
    assert_eq!(replayed, actual);
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

    #[test]
    fn sqlite_change_log_replays_to_the_final_state(ops in prop::collection::vec(op(), 1..60)) {
        rt().block_on(async {
            let (db, _dir) = common::sqlite().await;
            check(db, ops).await;
        });
    }

    #[test]
    fn postgres_change_log_replays_to_the_final_state(ops in prop::collection::vec(op(), 1..60)) {
        rt().block_on(async {
            let pg = common::postgres().await;
            check(pg.db.clone(), ops).await;
            pg.drop().await;
        });
    }
}
