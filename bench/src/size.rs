//! Backup and restore at real size (issue 9), each figure beside a reference measured in the
//! same run on the same machine:
//!
//! - shipping the log, catching base snapshots up (deltas and full merges, as the worker does),
//!   full snapshot merges (after a change in every 997th item, rewriting every chunk, and after
//!   one change, carrying untouched chunks over), and a periodic full backup — MB/s, MB/s per
//!   core of CPU used,
//!   peak memory — beside `restic backup` of the same items exported as JSON lines;
//! - restoring everything into a new account — items/s, MB/s, peak memory — beside a bare
//!   sorted bulk insert of the same rows (and, on PostgreSQL, `COPY`) and `restic restore`;
//! - the restore page's event feed and "what existed then" with the account's history;
//! - continuous-backup lag p50/p99 under a steady write load, and foreground writes/s without
//!   a snapshot merge, with merges paced against the writes (as the service runs them) and with
//!   merges running flat out.
//!
//! Memory is the process's peak resident set during the phase (Linux `VmHWM`, reset before
//! each phase) above its resident set when the phase began.
//!
//! `cargo run --release -p rewind-bench --bin size -- [--gib 1] [--item-kib 1] [--postgres URL] [--no-restic] [--pace PERCENT] [--pace-slice-ms MS]`

use anyhow::{Context, Result, bail};
use backup::chunk::ChunkBounds;
use backup::keys::KeyWrapKey;
use backup::pace::PacePolicy;
use backup::replay::{Bound, Items, PointInTime};
use backup::snapshot::SnapshotPolicy;
use backup::storage::BackupStorage;
use chrono::Utc;
use engine::entities::item;
use engine::store::{self, ContainerSpec, ImportLog, WriteMode};
use sea_orm::{ColumnTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const SOURCE: &str = "bench-source";
const TENANTS: usize = 64;

struct Args {
    gib: f64,
    item_kib: usize,
    postgres: Option<String>,
    /// Leave out the restic references (their export and restored copy need about three times
    /// the data's size in disk).
    no_restic: bool,
    /// The share of the time paced merges may run while writes go on (the service's default
    /// unless given).
    pace_percent: u32,
    /// How long a paced merge works before it rests, in milliseconds.
    pace_slice_ms: u64,
}

fn args() -> Result<Args> {
    let mut a = Args {
        gib: 1.0,
        item_kib: 1,
        postgres: None,
        no_restic: false,
        pace_percent: PacePolicy::DEFAULT.busy_share_percent,
        pace_slice_ms: PacePolicy::DEFAULT.slice.as_millis() as u64,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--no-restic" {
            a.no_restic = true;
            continue;
        }
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--gib" => a.gib = value.parse()?,
            "--item-kib" => a.item_kib = value.parse()?,
            "--postgres" => a.postgres = Some(value),
            "--pace" => a.pace_percent = value.parse()?,
            "--pace-slice-ms" => a.pace_slice_ms = value.parse()?,
            _ => bail!("unknown flag {flag}"),
        }
    }
    Ok(a)
}

/// An item of about the filler's size. Its text varies per item, in hex of a pseudo-random
/// stream, so it compresses about as well as real data (2×), not like a repeated letter.
fn doc(i: usize, filler: &str) -> Value {
    let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut text = String::with_capacity(filler.len());
    while text.len() < filler.len() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        text.push_str(&format!("{x:016x}"));
    }
    text.truncate(filler.len());
    json!({ "id": format!("item-{i:09}"), "tenant": format!("t{:02}", i % TENANTS), "n": i, "text": text })
}

// ---------------------------------------------------------------- measuring

fn status_kib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()).unwrap_or(0.0)
}

/// CPU seconds this process has used (user + system).
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // After the command name: state is field 0, utime 11, stime 12; 100 ticks a second.
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU seconds the whole machine has been busy (every core, every process), from `/proc/stat`.
fn machine_busy_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<f64> = stat.lines().next().unwrap_or_default().split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal …: all but idle and iowait is busy.
    let total: f64 = ticks.iter().take(8).sum();
    let idle = ticks.get(3).copied().unwrap_or(0.0) + ticks.get(4).copied().unwrap_or(0.0);
    (total - idle) / 100.0
}

/// What a phase took: wall seconds, CPU seconds, peak memory growth in MiB.
struct Took {
    secs: f64,
    cpu: f64,
    peak_mib: f64,
}

impl Took {
    fn mbs(&self, bytes: f64) -> f64 {
        bytes / 1e6 / self.secs
    }
    fn per_core(&self, bytes: f64) -> f64 {
        bytes / 1e6 / self.cpu.max(1e-9)
    }
}

async fn phase<T, Fut: std::future::Future<Output = Result<T>>>(f: impl FnOnce() -> Fut) -> Result<(T, Took)> {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let rss = status_kib("VmRSS:");
    let (t, c) = (Instant::now(), cpu_secs());
    let out = f().await?;
    let took = Took { secs: t.elapsed().as_secs_f64(), cpu: cpu_secs() - c, peak_mib: (status_kib("VmHWM:") - rss).max(0.0) / 1024.0 };
    Ok((out, took))
}

/// Runs a program under `/usr/bin/time`: wall seconds, CPU seconds, peak memory in MiB.
fn external(program: &str, args: &[&str], env: &[(&str, &str)]) -> Result<Took> {
    let out = std::process::Command::new("/usr/bin/time")
        .arg("-f")
        .arg("TIMED %e %U %S %M")
        .arg(program)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .with_context(|| format!("running {program}"))?;
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        bail!("{program} {args:?} failed: {err}");
    }
    let line = err.lines().find(|l| l.starts_with("TIMED ")).context("no timing")?;
    let v: Vec<f64> = line.split_whitespace().skip(1).map(|x| x.parse().unwrap_or(0.0)).collect();
    Ok(Took { secs: v[0], cpu: v[1] + v[2], peak_mib: v[3] / 1024.0 })
}

fn row(what: &str, took: &Took, bytes: f64, items: Option<f64>) {
    let items = items.map_or_else(String::new, |n| format!("{:>10.0} items/s", n / took.secs));
    println!(
        "  {what:<44} {:>8.1} s {:>8.0} MB/s {:>8.0} MB/s/core {:>8.0} MiB peak {items}",
        took.secs,
        took.mbs(bytes),
        took.per_core(bytes),
        took.peak_mib
    );
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(((v.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(f64::NAN)
}

// ---------------------------------------------------------------- the run

async fn connect(a: &Args, dir: &std::path::Path) -> Result<(DatabaseConnection, Option<(String, String)>)> {
    use migrations::MigratorTrait;
    let (db, pg) = match &a.postgres {
        None => {
            let db = Database::connect(format!("sqlite://{}?mode=rwc", dir.join("rewind.db").display())).await?;
            db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
            (db, None)
        }
        Some(admin) => {
            let name = format!("rewind_size_{}", std::process::id());
            Database::connect(admin.as_str()).await?.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
            let (prefix, _) = admin.rsplit_once('/').context("a PostgreSQL URL ends in /database")?;
            (Database::connect(format!("{prefix}/{name}")).await?, Some((admin.clone(), name)))
        }
    };
    migrations::Migrator::up(&db, None).await?;
    Ok((db, pg))
}

async fn ship_all(db: &DatabaseConnection, storage: &BackupStorage, kek: &KeyWrapKey, account: &str) -> Result<()> {
    loop {
        let last = engine::changelog::last_seq(db, account).await?;
        let s = backup::ship::ship_account(db, storage, kek, account, backup::ship::SegmentBounds::DEFAULT).await?;
        while engine::changelog::prune(db, account, s.shipped_seq, 10_000).await? > 0 {}
        if s.shipped_seq >= last {
            return Ok(());
        }
    }
}

async fn latest_segment_end(db: &DatabaseConnection, account: &str) -> Result<i64> {
    Ok(backup::entities::backup_state::Entity::find_by_id(account.to_owned()).one(db).await?.map_or(0, |s| s.shipped_seq))
}

#[tokio::main]
async fn main() -> Result<()> {
    let a = args()?;
    let dir = tempfile::tempdir_in(std::env::var("BENCH_DIR").unwrap_or_else(|_| "/tmp".into()))?;
    let (db, pg) = connect(&a, dir.path()).await?;
    let storage = BackupStorage::local(&dir.path().join("backups"))?;
    let kek = KeyWrapKey::service(&[42u8; 32]);
    let item_bytes = a.item_kib * 1024;
    let filler = "x".repeat(item_bytes.saturating_sub(90));
    let n = ((a.gib * f64::from(1 << 30)) / item_bytes as f64) as usize;
    let backend = if pg.is_some() { "PostgreSQL" } else { "SQLite" };
    println!("Rewind backup at size: {backend}, {n} items of ~{} KiB, {} cores", a.item_kib, std::thread::available_parallelism()?);

    // Load.
    store::create_database(&db, SOURCE, "bench", None).await?;
    let mut spec = ContainerSpec::from_body(&json!({"id": "items", "partitionKey": {"paths": ["/tenant"]}}))?;
    spec.throughput = Some(engine::limits::MAX_THROUGHPUT);
    store::create_container(&db, SOURCE, "bench", spec).await?;
    // SQLite takes at most 32 766 bound values per statement.
    let per_batch = ((4 << 20) / item_bytes).clamp(1, 2_000);
    let mut data = 0f64;
    let t = Instant::now();
    for from in (0..n).step_by(per_batch.max(1)) {
        let docs: Vec<Value> = (from..(from + per_batch).min(n)).map(|i| doc(i, &filler)).collect();
        data += docs.iter().map(|d| d.to_string().len() as f64).sum::<f64>();
        store::import_items(&db, SOURCE, "bench", "items", docs, ImportLog::Logged).await?;
    }
    println!("loaded {:.2} GB of items in {:.0} s", data / 1e9, t.elapsed().as_secs_f64());

    println!("backing up ({:.2} GB of items)", data / 1e9);
    let (_, took) = phase(|| ship_all(&db, &storage, &kek, SOURCE)).await?;
    row("ship the change log (continuous)", &took, data, Some(n as f64));
    let (steps, took) = phase(|| async {
        let mut steps = 0;
        while backup::snapshot::take_if_due(&db, &storage, &kek, SOURCE, SnapshotPolicy::DEFAULT).await?.is_some() {
            steps += 1;
        }
        Ok(steps)
    })
    .await?;
    row(&format!("base snapshots caught up ({steps} deltas/merges)"), &took, data, Some(n as f64));
    // Full merges: after a change in every 997th item (every chunk rewritten: what a merge costs
    // at worst), then after one change (the chunks it does not touch are carried over).
    let full = SnapshotPolicy { max_deltas: 0, ..SnapshotPolicy::DEFAULT };
    let merge_after = |ids: Vec<usize>| {
        let (db, storage, kek, filler) = (db.clone(), storage.clone(), kek.clone(), filler.clone());
        async move {
            for i in ids {
                store::write_item(&db, SOURCE, "bench", "items", None, doc(i, &filler), WriteMode::Upsert).await?;
            }
            ship_all(&db, &storage, &kek, SOURCE).await?;
            let seq = latest_segment_end(&db, SOURCE).await?;
            let (_, took) = phase(|| async { Ok(backup::snapshot::take(&db, &storage, &kek, SOURCE, seq, full).await?) }).await?;
            let chunks = backup::entities::backup_snapshot_chunk::Entity::find()
                .filter(backup::entities::backup_snapshot_chunk::Column::AccountId.eq(SOURCE))
                .filter(backup::entities::backup_snapshot_chunk::Column::Seq.eq(seq))
                .all(&db)
                .await?;
            let carried = chunks.iter().filter(|c| c.sealed_seq.is_some()).count();
            anyhow::Ok((took, carried, chunks.len()))
        }
    };
    // (997: prime, so the changes fall in every tenant's range, not in every eighth.)
    let (snap, carried, of) = merge_after((0..n).step_by(997).collect()).await?;
    row(&format!("full snapshot merge, every 997th item changed ({carried} of {of} chunks carried over)"), &snap, data, Some(n as f64));
    let (carried_merge, carried, of) = merge_after(vec![n / 2]).await?;
    row(&format!("full snapshot merge, one item changed ({carried} of {of} chunks carried over)"), &carried_merge, data, Some(n as f64));
    store::write_item(&db, SOURCE, "bench", "items", None, doc(1, "changed"), WriteMode::Upsert).await?;
    let (_, took) = phase(|| async { Ok(backup::periodic::take_full(&db, &storage, &kek, SOURCE, ChunkBounds::DEFAULT).await?) }).await?;
    row("periodic full backup (consistent read)", &took, data, Some(n as f64));

    // restic, of the same items exported as JSON lines.
    let restic = if a.no_restic {
        None
    } else {
        let export = dir.path().join("export");
        std::fs::create_dir_all(&export)?;
        {
            let mut out = std::io::BufWriter::new(std::fs::File::create(export.join("items.jsonl"))?);
            let mut after = None;
            loop {
                let (_, _, batch) = store::list_items(&db, SOURCE, "bench", "items", after, 2_000, 16 << 20).await?;
                for i in &batch.items {
                    out.write_all(i.body.as_bytes())?;
                    out.write_all(b"\n")?;
                }
                after = batch.items.last().map(|l| engine::scan::Position { pk: l.pk.clone(), id: l.id.clone() });
                if !batch.more {
                    break;
                }
            }
        }
        let repo = dir.path().join("restic");
        let repo = repo.to_string_lossy();
        let env = [("RESTIC_PASSWORD", "bench"), ("RESTIC_CACHE_DIR", "/tmp/restic-cache-bench")];
        external("restic", &["init", "--repo", &repo, "--quiet"], &env)?;
        let took = external("restic", &["backup", "--repo", &repo, "--quiet", &export.to_string_lossy()], &env)?;
        row("reference: restic backup (JSON lines)", &took, data, Some(n as f64));
        // The export is not needed again; its room is.
        std::fs::remove_dir_all(&export)?;
        Some((repo.to_string(), env, took.mbs(data)))
    };

    // Restore.
    println!("restoring");
    let (done, took) = phase(|| async {
        let pit = PointInTime::open(&db, &storage, &kek, SOURCE, Bound::Time(Utc::now()), Items::All).await?;
        let chosen = pit.resources().clone();
        let (progress, _) = tokio::sync::watch::channel(backup::restore::Progress::default());
        let recording = backup::restore::Recording::Seeded { storage: &storage, kek: &kek, chunks: ChunkBounds::DEFAULT };
        let stop = AtomicBool::new(false);
        let done = backup::restore::apply(&db, "bench-job", "bench-restored", &pit, &chosen, &[], false, recording, &progress, &stop)
            .await
            .map_err(|(e, _)| e)?;
        Ok(done)
    })
    .await?;
    anyhow::ensure!(done.items_done as usize == n, "restored {} of {n}", done.items_done);
    row("restore into a new account (seeded backup)", &took, data, Some(n as f64));
    let restore_secs = took.secs;

    // The same rows, sorted, bulk-inserted with nothing else.
    let mut keys: Vec<(String, usize)> = (0..n).map(|i| (json!([format!("t{:02}", i % TENANTS)]).to_string(), i)).collect();
    keys.sort();
    let (_, took) = phase(|| async {
        for part in keys.chunks(per_batch.max(1)) {
            let rows: Vec<item::ActiveModel> = part
                .iter()
                .map(|(pk, i)| {
                    item::Model {
                        container_rid: "bare".into(),
                        pk: pk.clone(),
                        id: format!("item-{i:09}"),
                        rid: format!("r{i}"),
                        body: doc(*i, &filler).to_string(),
                        ts: 0,
                        etag: "\"e\"".into(),
                        expires_at: None,
                    }
                    .into()
                })
                .collect();
            item::Entity::insert_many(rows).exec(&db).await?;
        }
        Ok(())
    })
    .await?;
    row("reference: bare sorted bulk insert", &took, data, Some(n as f64));
    println!("  restore / bare insert: {:.0} % (goal ≥ 75 %)", took.secs / restore_secs * 100.0);
    if let Some((admin, name)) = &pg {
        let csv = dir.path().join("rows.csv");
        {
            let field = |v: &str| format!("\"{}\"", v.replace('"', "\"\""));
            let mut out = std::io::BufWriter::new(std::fs::File::create(&csv)?);
            for (pk, i) in &keys {
                let body = doc(*i, &filler).to_string();
                let fields = ["copied", pk.as_str(), &format!("item-{i:09}"), &format!("r{i}"), &body, "0", "\"e\""];
                let line: Vec<String> = fields.iter().map(|f| field(f)).collect();
                writeln!(out, "{}", line.join(","))?;
            }
        }
        let (prefix, _) = admin.rsplit_once('/').context("URL")?;
        let url = format!("{prefix}/{name}");
        let copy = format!("\\copy items (container_rid, pk, id, rid, body, ts, etag) FROM '{}' CSV", csv.display());
        let took = external("psql", &[&url, "-q", "-c", &copy], &[])?;
        row("reference: PostgreSQL COPY (psql \\copy)", &took, data, Some(n as f64));
        println!("  restore / COPY: {:.0} % (restores into a new account write through COPY too)", took.secs / restore_secs * 100.0);
    }
    if let Some((repo, env, restic_backup_mbs)) = &restic {
        let target = dir.path().join("restic-restored");
        let took = external("restic", &["restore", "latest", "--repo", repo, "--quiet", "--target", &target.to_string_lossy()], env)?;
        row("reference: restic restore", &took, data, Some(n as f64));
        std::fs::remove_dir_all(&target)?;
        println!(
            "  full snapshot merge vs restic backup: {:.0} vs {:.0} MB/s; per core {:.0} MB/s rewriting every chunk, {:.0} MB/s carrying chunks over (goal ≥ 200)",
            snap.mbs(data),
            restic_backup_mbs,
            snap.per_core(data),
            carried_merge.per_core(data)
        );
    } else {
        println!(
            "  full snapshot merge: {:.0} MB/s; per core {:.0} MB/s rewriting every chunk, {:.0} MB/s carrying chunks over (goal ≥ 200)",
            snap.mbs(data),
            snap.per_core(data),
            carried_merge.per_core(data)
        );
    }

    // The restore page with this much history.
    let changes = engine::changelog::last_seq(&db, SOURCE).await?;
    let mut feed = Vec::new();
    let mut at = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        backup::catalog::events(&db, &storage, &kek, SOURCE).await?;
        feed.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        backup::catalog::resources_at(&db, &storage, &kek, SOURCE, Utc::now()).await?;
        at.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "restore page with {changes} changes of history: event feed {:.1} ms, resources at a time {:.1} ms (median of 7; goal ≤ 100 ms)",
        percentile(&mut feed, 0.5),
        percentile(&mut at, 0.5)
    );

    // Lag under a steady load, and writes with a full merge running.
    let max_rate = {
        let t = Instant::now();
        let mut k = 0;
        while t.elapsed() < Duration::from_secs(5) {
            store::write_item(&db, SOURCE, "bench", "items", None, doc(k % n, "rate"), WriteMode::Upsert).await?;
            k += 1;
        }
        k as f64 / t.elapsed().as_secs_f64()
    };
    let rate = (0.8 * max_rate).min(2_000.0);
    let stop = tokio_util::sync::CancellationToken::new();
    let shipper = {
        let (db, storage, kek, stop) = (db.clone(), storage.clone(), kek.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.is_cancelled() {
                if let Ok(s) = backup::ship::ship_account(&db, &storage, &kek, SOURCE, backup::ship::SegmentBounds::DEFAULT).await {
                    let _ = engine::changelog::prune(&db, SOURCE, s.shipped_seq, 10_000).await;
                }
                tokio::select! { () = stop.cancelled() => {}, () = tokio::time::sleep(rewind_server::workers::backup_shipper::PAUSE) => {} }
            }
        })
    };
    let commits: Arc<Mutex<Vec<chrono::DateTime<Utc>>>> = Arc::default();
    let lags: Arc<Mutex<Vec<f64>>> = Arc::default();
    let monitor = {
        let (db, commits, lags, stop) = (db.clone(), commits.clone(), lags.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.is_cancelled() {
                let through = backup::entities::backup_state::Entity::find_by_id(SOURCE.to_owned()).one(&db).await.ok().flatten();
                if let Some(through) = through.map(|s| s.backed_up_through) {
                    let now = Utc::now();
                    let mut c = commits.lock().await;
                    let covered: Vec<_> = c.iter().copied().filter(|t| *t <= through).collect();
                    c.retain(|t| *t > through);
                    lags.lock().await.extend(covered.iter().map(|t| (now - *t).num_microseconds().unwrap_or(0) as f64 / 1e6));
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let t = Instant::now();
    let mut k = 0usize;
    while t.elapsed() < Duration::from_secs(20) {
        let due = Duration::from_secs_f64(k as f64 / rate);
        if let Some(wait) = due.checked_sub(t.elapsed()) {
            tokio::time::sleep(wait).await;
        }
        store::write_item(&db, SOURCE, "bench", "items", None, doc(k % n, "steady"), WriteMode::Upsert).await?;
        commits.lock().await.push(Utc::now());
        k += 1;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut l = lags.lock().await.clone();
    println!(
        "lag at {:.0} writes/s ({}; the write path sustains {:.0}/s here): p50 {:.2} s, p99 {:.2} s over {} writes (goal p99 ≤ 1 s)",
        k as f64 / t.elapsed().as_secs_f64(),
        if rate < 2_000.0 { "80 % of the write path" } else { "2 000/s" },
        max_rate,
        percentile(&mut l, 0.5),
        percentile(&mut l, 0.99),
        l.len()
    );
    // Writes as fast as one writer goes; also how many cores the machine kept busy meanwhile.
    let flat_out = |secs: u64| {
        let db = db.clone();
        let filler = filler.clone();
        async move {
            let (t, busy) = (Instant::now(), machine_busy_secs());
            let mut took = Vec::new();
            while t.elapsed() < Duration::from_secs(secs) {
                let one = Instant::now();
                store::write_item(&db, SOURCE, "bench", "items", None, doc(took.len() % n, &filler), WriteMode::Upsert).await?;
                took.push(one.elapsed().as_secs_f64());
            }
            let secs = t.elapsed().as_secs_f64();
            // Writes/s counts every stall of the round; 1 / the median write's time is the rate
            // of a typical write, which a rare hiccup of the machine's other load does not move.
            let typical = 1.0 / percentile(&mut took, 0.5);
            anyhow::Ok((took.len() as f64 / secs, typical, (machine_busy_secs() - busy) / secs))
        }
    };
    // Alternating rounds, 3 s each: without merges, with a full merge paced against the writes
    // (as the snapshot worker runs it), and with full merges running flat out — again and again
    // while the writes go on, in a task of their own. The paced merge goes on from round to
    // paced round, as one long merge does in the service (started afresh each round, its
    // start-up would be measured instead); flat-out merges start afresh each round. Between
    // rounds a pause lets what a stopped merge handed to other tasks end before the next one.
    const NONE: u8 = 0;
    const PACED: u8 = 1;
    const FLAT: u8 = 2;
    const ROUND: u64 = 3;
    const REPEATS: usize = 10;
    let mode = Arc::new(AtomicU8::new(NONE));
    let done = Arc::new(AtomicBool::new(false));
    let merger = {
        let (db, storage, kek, mode, done) = (db.clone(), storage.clone(), kek.clone(), mode.clone(), done.clone());
        let paced = SnapshotPolicy {
            pace: PacePolicy { busy_share_percent: a.pace_percent, slice: Duration::from_millis(a.pace_slice_ms) },
            ..full
        };
        let flat = SnapshotPolicy { pace: PacePolicy::FLAT_OUT, ..full };
        tokio::spawn(async move {
            // A new change to snapshot first, so that every merge is a full one of the account.
            let start = |policy: SnapshotPolicy| {
                let (db, storage, kek) = (db.clone(), storage.clone(), kek.clone());
                Box::pin(async move {
                    ship_all(&db, &storage, &kek, SOURCE).await?;
                    let seq = latest_segment_end(&db, SOURCE).await?;
                    backup::snapshot::take(&db, &storage, &kek, SOURCE, seq, policy).await?;
                    anyhow::Ok(())
                })
            };
            let mut merges = [0; 3];
            let mut paced_merge = None;
            while !done.load(Ordering::Relaxed) {
                let m = mode.load(Ordering::Relaxed);
                if m == NONE {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
                let round_over = async {
                    while mode.load(Ordering::Relaxed) == m {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                };
                let mut fresh = None;
                let merge = if m == PACED { paced_merge.get_or_insert_with(|| start(paced)) } else { fresh.insert(start(flat)) };
                tokio::select! {
                    r = merge => {
                        r?;
                        merges[usize::from(m)] += 1;
                        if m == PACED {
                            paced_merge = None;
                        }
                    }
                    // A flat-out merge still running is stopped (as a killed one is: its next
                    // run keeps what it stored); the paced one waits for the next paced round.
                    () = round_over => {}
                }
            }
            anyhow::Ok(merges)
        })
    };
    let (mut rounds, mut typical, mut cores) = (<[Vec<f64>; 3]>::default(), <[Vec<f64>; 3]>::default(), <[Vec<f64>; 3]>::default());
    for _ in 0..REPEATS {
        for m in [NONE, PACED, FLAT] {
            mode.store(m, Ordering::Relaxed);
            let (writes, median_rate, busy) = flat_out(ROUND).await?;
            rounds[usize::from(m)].push(writes);
            typical[usize::from(m)].push(median_rate);
            cores[usize::from(m)].push(busy);
            mode.store(NONE, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    done.store(true, Ordering::Relaxed);
    let merges = merger.await??;
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (without, paced, flat) = (mean(&rounds[0]), mean(&rounds[1]), mean(&rounds[2]));
    // Each round against the rounds without merges before and after it (so that a drift over
    // the run does not count): the mean change and its standard error, in per cent.
    let change = |rounds: &[Vec<f64>; 3], m: usize| {
        let base = |i: usize| (rounds[0][i] + rounds[0].get(i + 1).copied().unwrap_or(rounds[0][i])) / 2.0;
        let d: Vec<f64> = rounds[m].iter().enumerate().map(|(i, x)| (x / base(i) - 1.0) * 100.0).collect();
        let avg = mean(&d);
        let var = d.iter().map(|x| (x - avg).powi(2)).sum::<f64>() / (d.len() as f64 - 1.0).max(1.0);
        (avg, (var / d.len() as f64).sqrt())
    };
    let ((paced_change, paced_err), (flat_change, flat_err)) = (change(&rounds, 1), change(&rounds, 2));
    println!(
        "foreground writes/s (shipper running; {REPEATS} × 3 alternating rounds of {ROUND} s): {without:.0} without a snapshot; {paced:.0} with a full merge paced to {} % of the time while writes go on, in slices of {} ms ({} finished): {paced_change:+.1} ± {paced_err:.1} % (goal ≥ −3 %); {flat:.0} with full merges flat out ({} finished): {flat_change:+.1} ± {flat_err:.1} %",
        a.pace_percent, a.pace_slice_ms, merges[1], merges[2],
    );
    let ((paced_typical, paced_typical_err), (flat_typical, flat_typical_err)) = (change(&typical, 1), change(&typical, 2));
    println!(
        "  the median write's rate (1 / its time), same rounds: {:.0} without; paced {paced_typical:+.1} ± {paced_typical_err:.1} %; flat out {flat_typical:+.1} ± {flat_typical_err:.1} %",
        mean(&typical[0])
    );
    println!(
        "  cores busy (the whole machine): {:.2} without, {:.2} paced, {:.2} flat out",
        mean(&cores[0]),
        mean(&cores[1]),
        mean(&cores[2])
    );
    stop.cancel();
    let _ = tokio::join!(shipper, monitor);

    drop(db);
    if let Some((admin, name)) = pg {
        Database::connect(admin.as_str()).await?.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
    }
    Ok(())
}
