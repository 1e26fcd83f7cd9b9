//! Queries run page by page over a real container, read in tiny batches (3 rows, or a few
//! bytes), give exactly what one evaluation over every item gives: the scan's keyset positions,
//! batch boundaries, continuation tokens and ORDER BY rounds agree on SQLite and PostgreSQL —
//! there on a database whose default collation is a language's (ICU `en`), where `B` sorts
//! after `a`, so that the scan must still come in byte order.

#![allow(clippy::unwrap_used, clippy::panic)] // a failed unwrap is a failed test

use engine::query::page::{Batching, Context, page};
use engine::query::{PageLimits, QueryGate};
use engine::store::{self, ContainerSpec};
use engine::throughput::Throttle;
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use std::sync::Arc;

const QUERIES: &[&str] = &[
    "SELECT * FROM c",
    "SELECT VALUE c.n FROM c WHERE c.n % 3 = 0",
    "SELECT * FROM c ORDER BY c.n DESC",
    "SELECT VALUE c.id FROM c ORDER BY c.g, c.n OFFSET 5 LIMIT 17",
    "SELECT DISTINCT VALUE c.g FROM c",
    "SELECT DISTINCT VALUE c.g FROM c ORDER BY c.g DESC",
    "SELECT TOP 11 c.id, c.g FROM c WHERE c.n > 20",
    "SELECT VALUE COUNT(1) FROM c",
    "SELECT MIN(c.n) AS lo, MAX(c.n) AS hi, SUM(c.n) AS s, AVG(c.n) AS a FROM c",
];

async fn seed(db: &DatabaseConnection) {
    store::create_database(db, "a", "db", None).await.unwrap();
    let mut spec = ContainerSpec::from_body(&json!({"id": "c", "partitionKey": {"paths": ["/p"]}})).unwrap();
    spec.throughput = Some(engine::limits::MAX_THROUGHPUT);
    store::create_container(db, "a", "db", spec).await.unwrap();
    let partitions = ["a", "B", "_z", "Ä", "b1"];
    let docs = (0..80)
        .map(|i| json!({"id": format!("{}{i:03}", if i % 2 == 0 { "X" } else { "y" }), "p": partitions[i % 5], "n": i, "g": format!("g{}", i % 7)}))
        .collect();
    store::import_items(db, "a", "db", "c", docs, store::ImportLog::Logged).await.unwrap();
}

/// Every result of `sql`, following continuation tokens.
async fn paged(db: &DatabaseConnection, sql: &str, batching: Batching, max_items: usize) -> Vec<Value> {
    let (gate, throttle) = (QueryGate::new(2), Throttle::default());
    let cx = Context { gate: &gate, throttle: &throttle, account_id: "a", database: "db", container: "c", partition_key: None, batching };
    let q = Arc::new(engine::query::parse(sql, &[]).unwrap());
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..1000 {
        let p = page(db, cx, Arc::clone(&q), token.as_deref(), PageLimits { max_items, max_bytes: 1 << 20 }).await.unwrap();
        assert!(p.results.len() <= max_items);
        out.extend(p.results);
        match p.continuation {
            Some(t) => token = Some(t),
            None => return out,
        }
    }
    panic!("{sql}: paging did not end");
}

/// The same query in one pass over every item, in scan order.
async fn at_once(db: &DatabaseConnection, sql: &str) -> Vec<Value> {
    let (d, c, batch) = store::list_items(db, "a", "db", "c", None, 1000, usize::MAX).await.unwrap();
    let docs: Vec<Value> = batch.items.iter().map(|i| store::item_json(&d, &c, i).unwrap()).collect();
    engine::query::run(&engine::query::parse(sql, &[]).unwrap(), docs).unwrap()
}

async fn check(db: DatabaseConnection) {
    seed(&db).await;
    for sql in QUERIES {
        let expected = at_once(&db, sql).await;
        for (batching, max_items) in
            [(Batching { rows: 3, bytes: 1 << 20 }, 4), (Batching { rows: 100, bytes: 10 }, 7), (Batching::DEFAULT, 1000)]
        {
            assert_eq!(paged(&db, sql, batching, max_items).await, expected, "{sql} with {batching:?}, pages of {max_items}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_paged_queries_equal_one_pass() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::connect(format!("sqlite://{}?mode=rwc", dir.path().join("q.db").display())).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    check(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_paged_queries_equal_one_pass() {
    let admin = std::env::var("REWIND_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let name = format!("rewind_q_{}", std::process::id());
    let conn = Database::connect(&admin).await.expect("PostgreSQL for the postgres tier");
    conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.unwrap();
    conn.execute_unprepared(&format!("CREATE DATABASE {name} LOCALE_PROVIDER icu ICU_LOCALE 'en' TEMPLATE template0")).await.unwrap();
    let (prefix, _) = admin.rsplit_once('/').unwrap();
    let db = Database::connect(format!("{prefix}/{name}")).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    check(db.clone()).await;
    drop(db);
    conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.unwrap();
}
