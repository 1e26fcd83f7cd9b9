//! Continuous backup and restore on SQLite:
//!
//! 1. foreground item writes/s with no backup and with the backup shipper running as the server
//!    runs it (a pass a second), alternated over several rounds (SPEC §3: within 5 %);
//! 2. backup lag: from the last write to the moment it is restorable (target about 1 s);
//! 3. backing up: Rewind's shipping of the whole log against the reference, SQLite's own online
//!    copy of the database file (`VACUUM INTO`);
//! 4. restoring N items: read the log from backup storage, then stream it into a new account, against the
//!    reference: the same item rows bulk-inserted by plain sea-orm with no change log or checks.
//!
//! `cargo run --release -p rewind-bench --bin backup [-- N]` (N items, default 3000).

use anyhow::Result;
use backup::keys::KeyWrapKey;
use backup::storage::BackupStorage;
use chrono::Utc;
use engine::entities::item;
use engine::store::{self, ContainerSpec, WriteMode};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, EntityTrait};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const ACCOUNT: &str = "bench-account";

fn doc(i: usize) -> Value {
    json!({ "id": format!("item-{i}"), "tenant": format!("t{}", i % 16), "n": i, "text": "x".repeat(200) })
}

async fn fresh_db(dir: &tempfile::TempDir, name: &str) -> Result<DatabaseConnection> {
    use migrations::MigratorTrait;
    let db = Database::connect(format!("sqlite://{}?mode=rwc", dir.path().join(name).display())).await?;
    db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
    migrations::Migrator::up(&db, None).await?;
    Ok(db)
}

async fn with_container(db: &DatabaseConnection) -> Result<()> {
    store::create_database(db, ACCOUNT, "bench", None).await?;
    let spec = ContainerSpec::from_body(&json!({"id": "items", "partitionKey": {"paths": ["/tenant"]}}))?;
    store::create_container(db, ACCOUNT, "bench", spec).await?;
    Ok(())
}

/// Writes `n` items one transaction each; returns writes/s.
async fn write(db: &DatabaseConnection, from: usize, n: usize) -> Result<f64> {
    let t = Instant::now();
    for i in from..from + n {
        store::write_item(db, ACCOUNT, "bench", "items", None, doc(i), WriteMode::Create).await?;
    }
    Ok(n as f64 / t.elapsed().as_secs_f64())
}

/// The backup worker's loop for one account: a pass, then a second's pause.
fn shipper(db: DatabaseConnection, storage: BackupStorage, kek: KeyWrapKey, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = backup::ship::ship_account(&db, &storage, &kek, ACCOUNT, backup::ship::SegmentBounds::DEFAULT).await {
                eprintln!("ship failed: {e}");
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    })
}

#[tokio::main]
async fn main() -> Result<()> {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(3000);
    println!("Rewind continuous-backup benchmark on SQLite, {n} items of ~260 bytes");
    let dir = tempfile::tempdir()?;
    let kek = KeyWrapKey::service(&[42u8; 32]);

    // 1. Foreground writes without and with the shipper, alternating, fresh database each run.
    let rounds = 3;
    let per = n / rounds;
    let (mut without, mut with) = (Vec::new(), Vec::new());
    let mut last = None;
    for r in 0..rounds {
        let db = fresh_db(&dir, &format!("plain-{r}.db")).await?;
        with_container(&db).await?;
        without.push(write(&db, 0, per).await?);

        let db = fresh_db(&dir, &format!("shipped-{r}.db")).await?;
        let storage = BackupStorage::local(&dir.path().join(format!("backups-{r}")))?;
        with_container(&db).await?;
        let stop = CancellationToken::new();
        let task = shipper(db.clone(), storage.clone(), kek.clone(), stop.clone());
        with.push(write(&db, 0, per).await?);
        stop.cancel();
        task.await?;
        last = Some((db, storage));
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (a, b) = (mean(&without), mean(&with));
    println!("writes/s, no backup:        {a:>9.0}   (rounds: {})", fmt(&without));
    println!("writes/s, shipper running:  {b:>9.0}   (rounds: {})", fmt(&with));
    println!("difference:                 {:>9.1} %  (goal: within 5 %)", (b / a - 1.0) * 100.0);

    // 2. Lag: a write, then how long until the account is restorable past it.
    let (db, storage) = last.ok_or_else(|| anyhow::anyhow!("no rounds ran"))?;
    let stop = CancellationToken::new();
    let task = shipper(db.clone(), storage.clone(), kek.clone(), stop.clone());
    let mut lags = Vec::new();
    for i in 0..5 {
        tokio::time::sleep(Duration::from_millis(137 * (i + 1))).await;
        store::write_item(&db, ACCOUNT, "bench", "items", None, doc(1_000_000 + i as usize), WriteMode::Create).await?;
        let written = Utc::now();
        let t = Instant::now();
        loop {
            let s = backup::entities::backup_state::Entity::find_by_id(ACCOUNT.to_owned()).one(&db).await?;
            if s.is_some_and(|s| s.backed_up_through >= written) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        lags.push(t.elapsed().as_secs_f64());
    }
    stop.cancel();
    task.await?;
    println!(
        "write → restorable, s:      {:>9.2}   max {:.2} (goal: about 1 s; Cosmos DB: 100 s)",
        mean(&lags),
        lags.iter().copied().fold(0.0, f64::max)
    );

    // 3. Backing up the whole log again, from scratch, against SQLite's online copy.
    let db = fresh_db(&dir, "full.db").await?;
    with_container(&db).await?;
    for i in 0..n {
        store::write_item(&db, ACCOUNT, "bench", "items", None, doc(i), WriteMode::Create).await?;
    }
    let storage = BackupStorage::local(&dir.path().join("backups-full"))?;
    let t = Instant::now();
    let shipped = backup::ship::ship_account(&db, &storage, &kek, ACCOUNT, backup::ship::SegmentBounds::DEFAULT).await?;
    let ship_s = t.elapsed().as_secs_f64();
    let state = backup::entities::backup_state::Entity::find_by_id(ACCOUNT.to_owned()).one(&db).await?;
    let stored = state.map_or(0, |s| s.bytes);
    let copy = dir.path().join("copy.db");
    let t = Instant::now();
    db.execute_unprepared(&format!("VACUUM INTO '{}'", copy.display())).await?;
    let vacuum_s = t.elapsed().as_secs_f64();
    let copy_bytes = std::fs::metadata(&copy)?.len();
    println!(
        "back up {} changes:        {:>9.3} s   {} segments, {:.2} MB sealed (compressed + encrypted)",
        shipped.entries,
        ship_s,
        shipped.segments,
        stored as f64 / 1e6
    );
    println!("reference, VACUUM INTO:     {vacuum_s:>9.3} s   {:.2} MB plain copy of the whole database", copy_bytes as f64 / 1e6);

    // 4. Restore all of it into a new account, against a bare bulk insert of the same rows.
    let t = Instant::now();
    let pit = backup::replay::PointInTime::open(
        &db,
        &storage,
        &kek,
        ACCOUNT,
        backup::replay::Bound::Time(shipped.through),
        backup::replay::Items::All,
    )
    .await?;
    let stats = pit.stats();
    let chosen = pit.resources().clone();
    let replay_s = t.elapsed().as_secs_f64();
    let (progress, _) = tokio::sync::watch::channel(backup::restore::Progress::default());
    let t = Instant::now();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let done = backup::restore::apply(
        &db,
        "bench-restore",
        "restored",
        &pit,
        &chosen,
        &[],
        false,
        backup::restore::Recording::Seeded { storage: &storage, kek: &kek, chunks: backup::chunk::ChunkBounds::DEFAULT },
        &progress,
        &stop,
    )
    .await
    .map_err(|(e, _)| e)?;
    let apply_s = t.elapsed().as_secs_f64();
    anyhow::ensure!(done.items_done as usize == n, "restored {} of {n} items", done.items_done);
    println!(
        "restore: rebuild from backup {:>6.3} s ({} segments, {} entries), write {:.3} s → {:>7.0} items/s overall",
        replay_s,
        stats.segments,
        stats.entries,
        apply_s,
        n as f64 / (replay_s + apply_s)
    );
    let plain = fresh_db(&dir, "bulk.db").await?;
    let rows: Vec<item::ActiveModel> = (0..n)
        .map(|i| {
            let d = doc(i);
            item::Model {
                container_rid: "c".into(),
                pk: json!([d["tenant"]]).to_string(),
                id: format!("item-{i}"),
                rid: format!("r{i}"),
                body: d.to_string(),
                ts: 0,
                etag: "\"e\"".into(),
                expires_at: None,
            }
            .into()
        })
        .collect();
    let t = Instant::now();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(engine::store::import_batch_items(&plain, engine::store::ImportLog::Logged)).collect();
        item::Entity::insert_many(chunk).exec(&plain).await?;
    }
    let bulk_s = t.elapsed().as_secs_f64();
    println!(
        "reference, bare bulk insert {bulk_s:>6.3} s → {:>7.0} items/s (same rows, same batches, no log, no checks)",
        n as f64 / bulk_s
    );
    Ok(())
}

fn fmt(v: &[f64]) -> String {
    v.iter().map(|x| format!("{x:.0}")).collect::<Vec<_>>().join(", ")
}
