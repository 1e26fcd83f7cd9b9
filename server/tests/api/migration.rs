//! Migrating a periodic account to continuous backup, over HTTP on SQLite and PostgreSQL: a
//! Backup Operator migrates an account whose last full backup pruned its log; going back is
//! refused; continuous restore points begin at the migration, and a restore to a second after it
//! equals the account then — its newest full backup (in many chunks) and the log after it,
//! containers made and deleted in between included; a time before the migration is refused for
//! a point-in-time restore and the periodic backup from before stays restorable by request; a
//! recovery from backup storage alone finds the same start and the same resource events.

use chrono::{DateTime, Utc};
use migrations::MigratorTrait;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, error_message, json_ok, spawn_app};
use crate::restore::{backed_up_through, contents, seed, stamp, wait_for_job};
use engine::store::{self, ContainerSpec, WriteMode};

async fn restore(app: &TestApp, sub: &str, source: &str, at: &str, target: &str) -> reqwest::Response {
    let args = [("subscription_id", sub), ("source_account_id", source), ("restore_at", at), ("target_name", target), ("resources", "")];
    app.call("start_restore", &args).await
}

async fn a_periodic_account_migrates_to_continuous_backup(backend: Backend) {
    let app = spawn_app(backend).await;
    app.login().await;
    let sub = app.subscription("S").await;
    let id = app.account(&sub, "mig").await["id"].as_str().unwrap().to_owned();
    seed(&app, &id).await;
    let at_backup = contents(&app, &id).await;
    // The periodic worker's step, now: a full backup in many chunks, then the log pruned to it.
    let (db, kek) = (&app.state.db, app.state.master_key.backup_key_wrap_key());
    let bounds = backup::chunk::ChunkBounds { bytes: 64 };
    let full = backup::periodic::take_full(db, &app.state.backup_storage, &kek, &id, bounds).await.unwrap();
    while engine::changelog::prune(db, &id, full.seq, 1_000).await.unwrap() > 0 {}
    // Changes between the backup and the migration: an item, a container made, one deleted.
    store::write_item(db, &id, "shop", "orders", None, json!({"id": "between", "tenant": "t0"}), WriteMode::Create).await.unwrap();
    let spec = ContainerSpec::from_body(&json!({"id": "fresh", "partitionKey": {"paths": ["/k"]}})).unwrap();
    store::create_container(db, &id, "shop", spec).await.unwrap();
    store::write_item(db, &id, "shop", "fresh", None, json!({"id": "f1", "k": "x"}), WriteMode::Create).await.unwrap();
    store::delete_container(db, &id, "shop", "carts").await.unwrap();

    let bo = app.new_user("bo").await;
    app.assign(&sub, &id, "bo", "builtin:Backup Operator").await;
    let change = |mode: &'static str| {
        let args = [("subscription_id", sub.clone()), ("name", "mig".to_owned()), ("mode", mode.to_owned())];
        let (bo, url) = (bo.clone(), format!("{}/api/change_backup_policy", app.base));
        async move { bo.post(url).form(&args).send().await.unwrap() }
    };
    let before = Utc::now();
    let migrated = json_ok(change("Continuous7Days").await).await;
    assert_eq!(
        (migrated["backup_policy"]["type"].as_str(), migrated["backup_policy"]["tier"].as_str()),
        (Some("Continuous"), Some("Continuous7Days"))
    );
    let e = error_message(change("Periodic").await, StatusCode::BAD_REQUEST).await;
    assert!(e.contains("one-way"), "{e}");

    store::write_item(db, &id, "shop", "orders", None, json!({"id": "after", "tenant": "t1"}), WriteMode::Create).await.unwrap();
    let now = contents(&app, &id).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let t = Utc::now();
    backed_up_through(&app, &sub, "mig", t).await;

    let status = json_ok(app.call("backup_status", &[("subscription_id", &sub), ("name", "mig")]).await).await;
    let migrated_at: DateTime<Utc> = serde_json::from_value(status["migrated_at"].clone()).unwrap();
    let oldest: DateTime<Utc> = serde_json::from_value(status["oldest_restorable"].clone()).unwrap();
    assert!(before <= migrated_at && oldest >= migrated_at, "{status}");
    assert_eq!(status["points"][0]["items"], 40, "the periodic backup is still listed, newest first: {status}");
    // The log after the full backup, shipped since: its span is shown, from the first change after the backup.
    let log_from: DateTime<Utc> = serde_json::from_value(status["log_from"].clone()).unwrap();
    assert!(status["log_segments"].as_i64().unwrap() > 0 && log_from < migrated_at, "{status}");

    // A second after the migration: the full backup plus the log after it, exactly.
    json_ok(restore(&app, &sub, &id, &stamp(t), "mig-now").await).await;
    assert_eq!(wait_for_job(&app, &sub, "mig-now").await["state"], "Succeeded");
    let restored = json_ok(app.call("get_account", &[("subscription_id", &sub), ("name", "mig-now")]).await).await;
    assert_eq!(contents(&app, restored["id"].as_str().unwrap()).await, now);

    // A recovery from backup storage alone finds the same start: the log from after the full
    // backup (no segment reported missing), the window from the migration, the same events.
    let fresh = tempfile::tempdir().unwrap();
    let fresh_db = sea_orm::Database::connect(format!("sqlite://{}?mode=rwc", fresh.path().join("r.db").display())).await.unwrap();
    migrations::Migrator::up(&fresh_db, None).await.unwrap();
    let recovered = backup::recover::account(&fresh_db, &app.state.backup_storage, &kek, &id).await.unwrap();
    assert!(recovered.problems.is_empty(), "{:?}", recovered.problems);
    let state = backup::entities::backup_state::Entity::find_by_id(id.clone()).one(&fresh_db).await.unwrap().unwrap();
    assert_eq!(state.restorable_from, Some(migrated_at));
    let events = |db: sea_orm::DatabaseConnection| {
        let id = id.clone();
        async move {
            use backup::entities::backup_event;
            let rows = backup_event::Entity::find().filter(backup_event::Column::AccountId.eq(&id)).all(&db).await.unwrap();
            rows.into_iter().map(|e| (e.seq, e.op, e.database_id, e.container_id, e.body)).collect::<std::collections::BTreeSet<_>>()
        }
    };
    let live_events = events(app.state.db.clone()).await;
    assert!(live_events.iter().any(|e| e.3 == "fresh") && live_events.iter().any(|e| e.3 == "orders"), "{live_events:?}");
    assert_eq!(events(fresh_db).await, live_events);

    // Before the migration: not to a second; the periodic backup by request, approved by another.
    let point = status["points"][0]["taken_at"].as_str().unwrap().to_owned();
    let e = error_message(restore(&app, &sub, &id, &point, "mig-early").await, StatusCode::BAD_REQUEST).await;
    assert!(e.contains("restored by request"), "{e}");
    let request = |at: String, target: &'static str| {
        let args = [
            ("subscription_id", sub.as_str()),
            ("account_id", id.as_str()),
            ("backup_at", at.as_str()),
            ("target_name", target),
            ("resources", ""),
        ];
        let args: Vec<(String, String)> = args.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let url = format!("{}/api/request_restore", app.base);
        let client = app.client.clone();
        async move { client.post(url).form(&args).send().await.unwrap() }
    };
    let e = error_message(request(stamp(t), "mig-req-late").await, StatusCode::BAD_REQUEST).await;
    assert!(e.contains("without a request"), "{e}");
    let job = json_ok(request(point, "mig-old").await).await;
    assert_eq!(job["state"], "AwaitingApproval");
    let sup = app.new_user("sup").await;
    app.assign(&sub, "", "sup", "builtin:Support").await;
    let decision = [
        ("subscription_id", sub.clone()),
        ("job_id", job["id"].as_str().unwrap().to_owned()),
        ("approve", "true".into()),
        ("reason", String::new()),
    ];
    json_ok(sup.post(format!("{}/api/decide_restore_request", app.base)).form(&decision).send().await.unwrap()).await;
    assert_eq!(wait_for_job(&app, &sub, "mig-old").await["state"], "Succeeded");
    let old: Value = json_ok(app.call("get_account", &[("subscription_id", &sub), ("name", "mig-old")]).await).await;
    assert_eq!(contents(&app, old["id"].as_str().unwrap()).await, at_backup, "the backup from before the migration");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_periodic_account_migrates_to_continuous_backup() {
    a_periodic_account_migrates_to_continuous_backup(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_periodic_account_migrates_to_continuous_backup() {
    a_periodic_account_migrates_to_continuous_backup(Backend::Postgres).await;
}
