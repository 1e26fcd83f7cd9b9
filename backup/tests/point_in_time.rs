//! Property: after random changes, shipped in small segments with base snapshots (in chunks of
//! a couple of items, so containers span many chunks) taken along the way, with the live log
//! pruned as it ships, rebuilding the account from backup storage at the instant after any change gives
//! exactly what the account held then.
//! Runs on SQLite, and on PostgreSQL (`REWIND_TEST_POSTGRES_URL` or the local default server).

#![allow(clippy::unwrap_used, clippy::panic)] // a failed unwrap is a failed test

use backup::chunk::ChunkBounds;
use backup::keys::KeyWrapKey;
use backup::pace::PacePolicy;
use backup::replay::AccountAt;
use backup::snapshot::SnapshotPolicy;
use backup::storage::BackupStorage;
use chrono::{DateTime, Utc};
use engine::store::{self, ContainerSpec, WriteMode};
use migrations::{Migrator, MigratorTrait};
use proptest::prelude::*;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, EntityTrait};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const ACCOUNT: &str = "acct-pitr";
/// A snapshot every 4 shipped changes, in chunks of about two items (containers span many
/// chunks), deltas stacked up to two deep between full ones.
const POLICY: SnapshotPolicy = SnapshotPolicy {
    every: 4,
    log_bytes: i64::MAX,
    chunks: ChunkBounds { bytes: 300 },
    max_deltas: 2,
    full_after_percent: 1_000,
    pace: PacePolicy::FLAT_OUT,
};

#[derive(Debug, Clone)]
enum Op {
    Upsert(u8, u8, i64),
    Delete(u8, u8),
    NewContainer(u8),
    DropContainer(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u8..8, 0u8..2, any::<i64>()).prop_map(|(i, c, v)| Op::Upsert(i, c, v)),
        4 => (0u8..8, 0u8..2).prop_map(|(i, c)| Op::Delete(i, c)),
        1 => (0u8..2).prop_map(Op::NewContainer),
        1 => (0u8..2).prop_map(Op::DropContainer),
    ]
}

fn coll(c: u8) -> String {
    format!("c{c}")
}

async fn apply(db: &DatabaseConnection, op: &Op) {
    // Missing containers and items are expected outcomes of random operations.
    let _ = match op {
        Op::Upsert(i, c, v) => {
            let doc = json!({"id": format!("i{i}"), "pk": "p", "v": v});
            store::write_item(db, ACCOUNT, "db", &coll(*c), None, doc, WriteMode::Upsert).await.map(|_| ())
        }
        Op::Delete(i, c) => store::delete_item(db, ACCOUNT, "db", &coll(*c), "[\"p\"]", &format!("i{i}"), None).await,
        Op::NewContainer(c) => {
            let spec = ContainerSpec::from_body(&json!({"id": coll(*c), "partitionKey": {"paths": ["/pk"]}})).unwrap();
            store::create_container(db, ACCOUNT, "db", spec).await.map(|_| ())
        }
        Op::DropContainer(c) => store::delete_container(db, ACCOUNT, "db", &coll(*c)).await,
    };
}

type Contents = BTreeMap<String, BTreeMap<String, Value>>;

async fn contents(db: &DatabaseConnection) -> Contents {
    let mut out = Contents::new();
    let (_, colls) = store::list_containers(db, ACCOUNT, "db").await.unwrap();
    for c in colls {
        let (_, _, batch) = store::list_items(db, ACCOUNT, "db", &c.id, None, 10_000, usize::MAX).await.unwrap();
        let items = batch.items;
        out.insert(c.id.clone(), items.iter().map(|i| (i.id.clone(), serde_json::from_str(&i.body).unwrap())).collect());
    }
    out
}

/// The databases and containers of a rebuilt account, with their settings, without items.
fn settings(state: &AccountAt) -> BTreeMap<String, (Value, BTreeMap<String, Value>)> {
    state
        .databases
        .iter()
        .map(|(id, d)| (id.clone(), (d.body.clone(), d.containers.iter().map(|(c, x)| (c.clone(), x.body.clone())).collect())))
        .collect()
}

fn replayed(state: &AccountAt) -> Contents {
    let mut out = Contents::new();
    if let Some(d) = state.databases.get("db") {
        for (cid, c) in &d.containers {
            let items = c
                .items
                .iter()
                .map(|((_, id), doc)| {
                    let mut v: Value = serde_json::from_str(doc).unwrap();
                    v.as_object_mut().unwrap().retain(|k, _| !k.starts_with('_'));
                    (id.clone(), v)
                })
                .collect();
            out.insert(cid.clone(), items);
        }
    }
    out
}

async fn check(db: DatabaseConnection, ops: Vec<Op>) {
    let dir = tempfile::tempdir().unwrap();
    let storage = BackupStorage::local(dir.path()).unwrap();
    let kek = KeyWrapKey::service(&[7u8; 32]);
    store::create_database(&db, ACCOUNT, "db", None).await.unwrap();
    apply(&db, &Op::NewContainer(0)).await;

    // The state after each change, and an instant between it and the next change.
    let mut checkpoints: Vec<(DateTime<Utc>, Contents)> = Vec::new();
    for (n, op) in ops.iter().enumerate() {
        apply(&db, op).await;
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        checkpoints.push((Utc::now(), contents(&db).await));
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        // Ship now and then, in segments of three entries, while changes go on.
        if n % 3 == 2 {
            let shipped =
                backup::ship::ship_account(&db, &storage, &kek, ACCOUNT, backup::ship::SegmentBounds { entries: 3, bytes: usize::MAX })
                    .await
                    .unwrap();
            // The live log keeps only what is not shipped yet (pruned a little at a time).
            engine::changelog::prune(&db, ACCOUNT, shipped.shipped_seq, 4).await.unwrap();
            // And a base snapshot once 4 more changes are shipped.
            backup::snapshot::take_if_due(&db, &storage, &kek, ACCOUNT, POLICY).await.unwrap();
        }
    }
    let shipped = backup::ship::ship_account(&db, &storage, &kek, ACCOUNT, backup::ship::SegmentBounds { entries: 3, bytes: usize::MAX })
        .await
        .unwrap();
    assert!(shipped.through >= checkpoints.last().unwrap().0);
    let snapshot = backup::snapshot::take_if_due(&db, &storage, &kek, ACCOUNT, POLICY).await.unwrap();
    if let Some(seq) = snapshot {
        // A restore after the newest snapshot replays only the log after it.
        let (_, stats) = backup::replay::account_at(&db, &storage, &kek, ACCOUNT, Utc::now(), backup::replay::Items::All).await.unwrap();
        let total = engine::entities::sequence::Entity::find_by_id(ACCOUNT.to_owned()).one(&db).await.unwrap().unwrap().last_seq;
        assert_eq!(stats.entries, usize::try_from(total - seq).unwrap(), "entries replayed after the snapshot at {seq}");
    }

    for (at, expected) in &checkpoints {
        let (state, _) = backup::replay::account_at(&db, &storage, &kek, ACCOUNT, *at, backup::replay::Items::All).await.unwrap();
        assert_eq!(&replayed(&state), expected, "state at {at} differs");
        // The catalog says which containers existed then, with their settings, from its rows.
        let resources = backup::catalog::resources_at(&db, &storage, &kek, ACCOUNT, *at).await.unwrap();
        assert_eq!(settings(&resources), settings(&state), "resources at {at} differ");
    }
    // A catalog built afterwards from the segments (an account shipped before the catalog
    // existed) holds the same events as the one recorded while shipping.
    let recorded = backup::catalog::events(&db, &storage, &kek, ACCOUNT).await.unwrap();
    backup::entities::backup_event::Entity::delete_many().exec(&db).await.unwrap();
    backup::entities::backup_state::Entity::update_many()
        .col_expr(backup::entities::backup_state::Column::CatalogedSeq, sea_orm::sea_query::Expr::value(0))
        .exec(&db)
        .await
        .unwrap();
    assert_eq!(backup::catalog::events(&db, &storage, &kek, ACCOUNT).await.unwrap(), recorded);
    // Everything shipped can leave the live database; what is not shipped stays.
    while engine::changelog::prune(&db, ACCOUNT, shipped.shipped_seq, 4).await.unwrap() > 0 {}
    assert!(engine::changelog::read(&db, ACCOUNT, 0, 100_000).await.unwrap().is_empty());
    // Another master key cannot read the backup, and says so.
    let other = KeyWrapKey::service(&[8u8; 32]);
    let err = backup::replay::account_at(&db, &storage, &other, ACCOUNT, Utc::now(), backup::replay::Items::All).await.unwrap_err();
    assert!(err.to_string().contains("cannot be decrypted"), "{err}");
}

async fn sqlite() -> (DatabaseConnection, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let db = Database::connect(&url).await.unwrap();
    db.execute_unprepared("PRAGMA journal_mode=WAL").await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    (db, dir)
}

async fn postgres() -> (DatabaseConnection, String, String) {
    let admin = std::env::var("REWIND_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let name = format!("rewind_b_{n:x}{:x}", std::process::id());
    let conn = Database::connect(&admin).await.expect("PostgreSQL for the postgres tier");
    conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
    let (prefix, _) = admin.rsplit_once('/').unwrap();
    let db = Database::connect(&format!("{prefix}/{name}")).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    (db, admin, name)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

    #[test]
    fn sqlite_backups_rebuild_every_past_state(ops in prop::collection::vec(op(), 1..50)) {
        rt().block_on(async {
            let (db, _dir) = sqlite().await;
            check(db, ops).await;
        });
    }

    #[test]
    fn postgres_backups_rebuild_every_past_state(ops in prop::collection::vec(op(), 1..50)) {
        rt().block_on(async {
            let (db, admin, name) = postgres().await;
            check(db.clone(), ops).await;
            drop(db);
            let conn = Database::connect(&admin).await.unwrap();
            conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.unwrap();
        });
    }
}
