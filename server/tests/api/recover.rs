//! Disaster recovery end to end: a workload under continuous backup, then the service database
//! and the primary backup store are lost; `rewind recover --from-storage` rebuilds the catalog
//! from the geo copy and the master key, and restores to several seconds equal the model.

use backup::entities::{backup_journal, backup_point, backup_snapshot};
use backup::snapshot::SnapshotPolicy;
use chrono::Utc;
use engine::store::{self, WriteMode};
use figment::Figment;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use std::time::Duration;

use crate::helpers::{Backend, PgDatabase, TestApp, json_ok, spawn_app, spawn_app_at};
use crate::restore::{backed_up_through, contents, continuous_account, seed, stamp, wait_for_job};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// `rewind recover …` on the server's data folder (and PostgreSQL database, if given).
async fn recover(data: &std::path::Path, database_url: Option<&str>, args: &[&str]) -> Run {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_rewind"));
    cmd.arg("recover").args(args).env("REWIND_DATA_DIR", data).env("REWIND_LOG", "warn");
    if let Some(url) = database_url {
        cmd.env("REWIND_DATABASE_URL", url);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Waits until the exporter has written everything of the account to its journal.
async fn journaled(app: &TestApp, account_id: &str) {
    let db = &app.state.db;
    for _ in 0..200 {
        let head = backup_journal::Entity::find_by_id(account_id.to_owned()).one(db).await.unwrap();
        let pending_snapshots = backup_snapshot::Entity::find()
            .filter(backup_snapshot::Column::AccountId.eq(account_id))
            .filter(backup_snapshot::Column::Journaled.eq(false))
            .count(db)
            .await
            .unwrap();
        let pending_points = backup_point::Entity::find()
            .filter(backup_point::Column::AccountId.eq(account_id))
            .filter(backup_point::Column::Journaled.eq(false))
            .count(db)
            .await
            .unwrap();
        if head.is_some_and(|h| !h.account_sha256.is_empty()) && pending_snapshots + pending_points == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the journal of account {account_id} did not catch up within 20 s");
}

/// The account's backup catalog as recovery must rebuild it: keys, snapshots and their chunks,
/// restore points and resource events as they were; the log's manifest but for when each row
/// was written.
async fn catalog(app: &TestApp, account_id: &str) -> Value {
    use backup::entities::{backup_event, backup_key, backup_segment, backup_snapshot_chunk, backup_state};
    let db = &app.state.db;
    let mine = |v: Vec<Value>| Value::Array(v);
    let key = backup_key::Entity::find_by_id(account_id.to_owned()).one(db).await.unwrap().map(|k| k.wrapped_key);
    let snapshots: Vec<Value> = backup_snapshot::Entity::find()
        .filter(backup_snapshot::Column::AccountId.eq(account_id))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| json!([s.seq, s.taken_at, s.object_key, s.bytes, s.sha256, s.items, s.created_at, s.chunks, s.parent_seq, s.journaled]))
        .collect();
    let chunks: Vec<Value> = backup_snapshot_chunk::Entity::find()
        .filter(backup_snapshot_chunk::Column::AccountId.eq(account_id))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| serde_json::to_value(c).unwrap())
        .collect();
    let points: Vec<Value> = backup_point::Entity::find()
        .filter(backup_point::Column::AccountId.eq(account_id))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|p| json!([p.taken_at, p.seq, p.items, p.bytes]))
        .collect();
    let segments: Vec<Value> = backup_segment::Entity::find()
        .filter(backup_segment::Column::AccountId.eq(account_id))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| json!([s.first_seq, s.last_seq, s.first_at, s.last_at, s.object_key, s.bytes, s.sha256, s.prev_sha256, s.entry_bytes]))
        .collect();
    let events: Vec<Value> = backup_event::Entity::find()
        .filter(backup_event::Column::AccountId.eq(account_id))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| json!([e.seq, e.committed_at, e.op, e.database_id, e.container_id, e.body]))
        .collect();
    let state = backup_state::Entity::find_by_id(account_id.to_owned())
        .one(db)
        .await
        .unwrap()
        .map(|s| json!([s.shipped_seq, s.segments, s.bytes, s.last_hash]));
    json!({"key": key, "snapshots": mine(snapshots), "chunks": mine(chunks), "points": mine(points), "segments": mine(segments), "events": mine(events), "state": state})
}

async fn restorable(app: &TestApp, sub: &str, name: &str) -> Value {
    let list = json_ok(app.call("list_restorable_accounts", &[("subscription_id", sub)]).await).await;
    list.as_array().unwrap().iter().find(|a| a["name"] == name).cloned().unwrap_or(Value::Null)
}

async fn write(app: &TestApp, account: &str, doc: Value) {
    store::write_item(&app.state.db, account, "shop", "orders", None, doc, WriteMode::Upsert).await.unwrap();
}

async fn after_losing_the_database_and_the_primary_store_recovery_restores_every_second(backend: Backend) {
    let app = spawn_app(backend).await;
    app.login().await;
    let sub = app.subscription("S").await;
    let account = continuous_account(&app, &sub, "app").await;
    seed(&app, &account).await;
    let mut model = Vec::new();
    tokio::time::sleep(Duration::from_millis(20)).await;
    model.push((Utc::now(), contents(&app, &account).await));
    tokio::time::sleep(Duration::from_millis(20)).await;

    // A base snapshot in the middle, so later restores start from it.
    backed_up_through(&app, &sub, "app", Utc::now()).await;
    let kek = app.state.master_key.backup_key_wrap_key();
    let storage = app.state.backup_storage.writing_for(domain::Redundancy::Geo).unwrap();
    let tiny = SnapshotPolicy { every: 1, chunks: backup::chunk::ChunkBounds { bytes: 256 }, ..SnapshotPolicy::DEFAULT };
    // Every snapshot due, up to the log's end (a shipping pass may have ended a segment in the
    // middle of the seeding).
    let mut snapshot = None;
    while let Some(seq) = backup::snapshot::take_if_due(&app.state.db, &storage, &kek, &account, tiny).await.unwrap() {
        snapshot = Some(seq);
    }
    assert!(snapshot.is_some(), "a snapshot was due");

    for i in 0..10 {
        write(&app, &account, json!({"id": format!("o{i}"), "tenant": format!("t{}", i % 3), "total": 1000 + i})).await;
    }
    store::delete_container(&app.state.db, &account, "shop", "carts").await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    model.push((Utc::now(), contents(&app, &account).await));
    tokio::time::sleep(Duration::from_millis(20)).await;
    for i in 0..5 {
        write(&app, &account, json!({"id": format!("new{i}"), "tenant": "t9"})).await;
    }
    store::delete_item(&app.state.db, &account, "shop", "orders", "[\"t0\"]", "o0", None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    model.push((Utc::now(), contents(&app, &account).await));
    backed_up_through(&app, &sub, "app", Utc::now()).await;

    // A periodic account with one full backup.
    let per = app.account(&sub, "per").await["id"].as_str().unwrap().to_owned();
    seed(&app, &per).await;
    let per_storage = app.state.backup_storage.writing_for(domain::Redundancy::Geo).unwrap();
    let point =
        backup::periodic::take_full(&app.state.db, &per_storage, &kek, &per, backup::chunk::ChunkBounds { bytes: 256 }).await.unwrap();
    journaled(&app, &account).await;
    journaled(&app, &per).await;
    let catalogs = [catalog(&app, &account).await, catalog(&app, &per).await];
    assert!(catalogs[0]["snapshots"].as_array().is_some_and(|s| !s.is_empty()), "{}", catalogs[0]);
    assert!(catalogs[0]["chunks"].as_array().is_some_and(|c| c.len() > 3), "several chunks: {}", catalogs[0]);
    assert_eq!(catalogs[1]["points"].as_array().map(Vec::len), Some(1), "{}", catalogs[1]);

    // The disaster: the service database and the primary backup store are gone.
    let pg_was = matches!(backend, Backend::Postgres);
    let data = app.stop().await;
    for f in ["rewind.db", "rewind.db-wal", "rewind.db-shm"] {
        let _ = std::fs::remove_file(data.path().join(f));
    }
    std::fs::remove_dir_all(data.path().join("backups")).unwrap();
    let pg = if pg_was { Some(PgDatabase::create().await) } else { None };
    let database_url = pg.as_ref().map(|p| p.url.clone());

    let geo = format!("file://{}", data.path().join("backups-geo").display());
    let run = recover(data.path(), database_url.as_deref(), &["--from-storage", &geo]).await;
    assert_eq!(run.code, 0, "stdout: {}\nstderr: {}", run.stdout, run.stderr);
    assert!(run.stdout.contains("2 account(s) recovered"), "{}", run.stdout);
    assert!(run.stdout.contains("S/app"), "{}", run.stdout);

    let app = spawn_app_at(data, pg, Figment::new()).await;
    app.login().await;
    // The catalog is what it was, row for row.
    assert_eq!(catalog(&app, &account).await, catalogs[0]);
    assert_eq!(catalog(&app, &per).await, catalogs[1]);
    let source = restorable(&app, &sub, "app").await;
    assert_eq!(source["state"], "Deleted", "{source}");
    assert_eq!(source["id"], account.as_str());
    // Its window ends at the last change the backups hold: nothing later is claimed.
    let latest: chrono::DateTime<Utc> = source["latest_restorable"].as_str().unwrap().parse().unwrap();
    assert!(latest < model.last().unwrap().0, "{source}");

    // Every second of the model restores exactly, the last one under the account's own name.
    for (n, (t, expected)) in model.iter().enumerate() {
        let target = if n == model.len() - 1 { "app".to_owned() } else { format!("app-at-{n}") };
        let args = [
            ("subscription_id", sub.as_str()),
            ("source_account_id", account.as_str()),
            ("restore_at", &stamp((*t).min(latest))),
            ("target_name", &target),
            ("resources", ""),
        ];
        json_ok(app.call("start_restore", &args).await).await;
        let job = wait_for_job(&app, &sub, &target).await;
        assert_eq!(job["state"], "Succeeded", "{job}");
        let restored = json_ok(app.call("get_account", &[("subscription_id", &sub), ("name", &target)]).await).await;
        assert_eq!(&contents(&app, restored["id"].as_str().unwrap()).await, expected, "restored at {t} into {target}");
    }

    // The periodic account's backup is listed, at the time it was taken.
    let per_row = restorable(&app, &sub, "per").await;
    assert_eq!(
        per_row["latest_restorable"].as_str().map(|t| chrono::DateTime::parse_from_rfc3339(t).unwrap()),
        Some(point.taken_at.into())
    );

    // Recovery fills an empty database only.
    let again = recover(&app.data_dir, database_url.as_deref(), &["--from-storage", &geo]).await;
    assert_ne!(again.code, 0, "{}", again.stdout);
    assert!(again.stderr.contains("account(s) already"), "{}", again.stderr);
    let audit = json_ok(
        app.call("list_audit", &[("subscription_id", &sub), ("from", ""), ("to", ""), ("user", ""), ("action", ""), ("outcome", "")]).await,
    )
    .await;
    let recovered = audit.as_array().unwrap().iter().filter(|e| e["action"] == "backups/recover").count();
    assert_eq!(recovered, 2, "{audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_after_losing_the_database_and_the_primary_store_recovery_restores_every_second() {
    after_losing_the_database_and_the_primary_store_recovery_restores_every_second(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_after_losing_the_database_and_the_primary_store_recovery_restores_every_second() {
    after_losing_the_database_and_the_primary_store_recovery_restores_every_second(Backend::Postgres).await;
}
