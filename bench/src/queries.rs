//! Queries over a large container on SQLite: how long a page takes and how much memory it needs,
//! beside the same question asked of SQLite directly (`json_extract` over the same rows) in the
//! same run. The point is the memory column: a page holds a page, never the container.
//!
//! `cargo run --release -p rewind-bench --bin queries [-- N]` (N items of ~1 KB, default
//! 1 150 000, just over 1 GiB of item bodies).

use anyhow::Result;
use engine::query::page::{Context, page};
use engine::query::{PageLimits, QueryGate};
use engine::store::{self, ContainerSpec};
use engine::throughput::Throttle;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;

const ACCOUNT: &str = "bench-account";

fn doc(i: usize) -> Value {
    json!({ "id": format!("item-{i:08}"), "tenant": format!("t{}", i % 64), "n": i, "text": "x".repeat(900) })
}

/// Peak resident memory since the last reset, in MiB (Linux).
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

/// Resets the peak so the next reading covers only what follows.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

async fn measure<F, Fut, T>(what: F) -> Result<(T, f64, f64)>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    reset_peak();
    let t = Instant::now();
    let out = what().await?;
    Ok((out, t.elapsed().as_secs_f64(), peak_mib()))
}

#[tokio::main]
async fn main() -> Result<()> {
    use migrations::MigratorTrait;
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1_150_000);
    let dir = tempfile::tempdir()?;
    let db: DatabaseConnection = Database::connect(format!("sqlite://{}?mode=rwc", dir.path().join("q.db").display())).await?;
    db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
    migrations::Migrator::up(&db, None).await?;
    store::create_database(&db, ACCOUNT, "bench", None).await?;
    let mut spec = ContainerSpec::from_body(&json!({"id": "items", "partitionKey": {"paths": ["/tenant"]}}))?;
    // The most throughput a container may have, so that throughput does not pace the scans.
    spec.throughput = Some(engine::limits::MAX_THROUGHPUT);
    store::create_container(&db, ACCOUNT, "bench", spec).await?;
    let t = Instant::now();
    for from in (0..n).step_by(2000) {
        let docs = (from..(from + 2000).min(n)).map(doc).collect();
        store::import_items(&db, ACCOUNT, "bench", "items", docs, store::ImportLog::Logged).await?;
    }
    let (_, coll) = store::get_container(&db, ACCOUNT, "bench", "items").await?;
    let bytes: i64 = db
        .query_one_raw(Statement::from_sql_and_values(
            sea_orm::DatabaseBackend::Sqlite,
            "SELECT SUM(LENGTH(body)) AS b FROM items WHERE container_rid = ?",
            [coll.rid.clone().into()],
        ))
        .await?
        .map_or(Ok(0), |r| r.try_get("", "b"))?;
    println!(
        "Rewind query pages on SQLite: {n} items, {:.2} GiB of item bodies (loaded in {:.0} s); process peak after loading {:.0} MiB",
        bytes as f64 / f64::from(1 << 30),
        t.elapsed().as_secs_f64(),
        peak_mib()
    );

    let gate = QueryGate::for_this_machine();
    let throttle = Throttle::default();
    let cx = Context {
        gate: &gate,
        throttle: &throttle,
        account_id: ACCOUNT,
        database: "bench",
        container: "items",
        partition_key: None,
        batching: engine::query::page::Batching::DEFAULT,
    };
    let limits = PageLimits { max_items: 100, max_bytes: engine::limits::MAX_PAGE_BYTES };
    let middle = n / 2;
    let cases = [
        (
            "COUNT over everything",
            "SELECT VALUE COUNT(1) FROM c".to_owned(),
            "SELECT COUNT(*) FROM items WHERE container_rid = ?".to_owned(),
        ),
        (
            "WHERE matching one item",
            format!("SELECT * FROM c WHERE c.n = {middle}"),
            format!("SELECT body FROM items WHERE container_rid = ? AND json_extract(body, '$.n') = {middle}"),
        ),
        (
            "ORDER BY, first page of 100",
            "SELECT * FROM c ORDER BY c.n DESC".to_owned(),
            "SELECT body FROM items WHERE container_rid = ? ORDER BY json_extract(body, '$.n') DESC LIMIT 100".to_owned(),
        ),
        (
            "DISTINCT over 64 values",
            "SELECT DISTINCT VALUE c.tenant FROM c".to_owned(),
            "SELECT DISTINCT json_extract(body, '$.tenant') FROM items WHERE container_rid = ?".to_owned(),
        ),
    ];
    println!(
        "{:<30} {:>10} {:>12} {:>10} │ {:>12} {:>12} {:>10}",
        "query", "Rewind s", "items/s", "peak MiB", "SQLite s", "items/s", "peak MiB"
    );
    for (name, sql, reference) in cases {
        let q = Arc::new(engine::query::parse(&sql, &[])?);
        let ((results, charge), secs, peak) = measure(|| async {
            // Follow continuations to the first page that has results, as a client would.
            let mut token: Option<String> = None;
            let mut charge = 0.0;
            loop {
                let p = page(&db, cx, Arc::clone(&q), token.as_deref(), limits).await?;
                charge += p.charge;
                if !p.results.is_empty() || p.continuation.is_none() {
                    return Ok((p.results.len(), charge));
                }
                token = p.continuation;
            }
        })
        .await?;
        let (_, ref_secs, ref_peak) = measure(|| async {
            Ok(db
                .query_all_raw(Statement::from_sql_and_values(sea_orm::DatabaseBackend::Sqlite, &reference, [coll.rid.clone().into()]))
                .await?
                .len())
        })
        .await?;
        println!(
            "{name:<30} {secs:>10.2} {:>12.0} {peak:>10.0} │ {ref_secs:>12.2} {:>12.0} {ref_peak:>10.0}   ({results} results, {charge:.0} RU)",
            n as f64 / secs,
            n as f64 / ref_secs
        );
    }
    Ok(())
}
