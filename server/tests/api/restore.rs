//! Continuous backup and point-in-time restore, end to end: data written through the engine is
//! shipped by the running server's backup worker, and a restore filed over HTTP is run by its
//! restore worker into a new account that must equal the source as of the restore time.

use backup::entities::restore_job;
use chrono::{DateTime, SecondsFormat, Utc};
use engine::store::{self, ContainerSpec, WriteMode};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

use crate::helpers::{TestApp, error_message, json_ok};

pub(crate) type Items = BTreeMap<(String, String, String, String), Value>;

pub(crate) async fn continuous_account(app: &TestApp, sub: &str, name: &str) -> String {
    let a = json_ok(
        app.call("create_account", &[("subscription_id", sub), ("name", name), ("region", "local"), ("mode", "Continuous7Days")]).await,
    )
    .await;
    a["id"].as_str().unwrap().to_owned()
}

/// Every item of every container of the account: (db, container, pk, id) → user fields.
pub(crate) async fn contents(app: &TestApp, account_id: &str) -> Items {
    let db = &app.state.db;
    let mut out = Items::new();
    for d in store::list_databases(db, account_id).await.unwrap() {
        let (_, colls) = store::list_containers(db, account_id, &d.id).await.unwrap();
        for c in colls {
            let (dm, cm, batch) = store::list_items(db, account_id, &d.id, &c.id, None, 1_000_000, usize::MAX).await.unwrap();
            for i in batch.items {
                let mut v = store::item_json(&dm, &cm, &i).unwrap();
                v.as_object_mut().unwrap().retain(|k, _| !k.starts_with('_'));
                out.insert((d.id.clone(), c.id.clone(), i.pk.clone(), i.id.clone()), v);
            }
        }
    }
    out
}

pub(crate) async fn seed(app: &TestApp, account_id: &str) {
    let db = &app.state.db;
    store::create_database(db, account_id, "shop", None).await.unwrap();
    let spec = ContainerSpec::from_body(&json!({"id": "orders", "partitionKey": {"paths": ["/tenant"], "kind": "Hash"}})).unwrap();
    store::create_container(db, account_id, "shop", spec).await.unwrap();
    let spec = ContainerSpec::from_body(&json!({"id": "carts", "partitionKey": {"paths": ["/user"], "kind": "Hash"}})).unwrap();
    store::create_container(db, account_id, "shop", spec).await.unwrap();
    store::create_database(db, account_id, "logs", Some(400)).await.unwrap();
    let spec = ContainerSpec::from_body(&json!({"id": "events", "partitionKey": {"paths": ["/day"], "kind": "Hash"}})).unwrap();
    store::create_container(db, account_id, "logs", spec).await.unwrap();
    for i in 0..30 {
        let doc = json!({"id": format!("o{i}"), "tenant": format!("t{}", i % 3), "total": i, "lines": [{"sku": "a", "n": i}]});
        store::write_item(db, account_id, "shop", "orders", None, doc, WriteMode::Create).await.unwrap();
    }
    for i in 0..5 {
        let doc = json!({"id": format!("c{i}"), "user": format!("u{i}")});
        store::write_item(db, account_id, "shop", "carts", None, doc, WriteMode::Create).await.unwrap();
        let doc = json!({"id": format!("e{i}"), "day": "2026-11-25", "what": "login"});
        store::write_item(db, account_id, "logs", "events", None, doc, WriteMode::Create).await.unwrap();
    }
}

/// Changes after the restore point: none of them may appear in the restored account.
async fn churn(app: &TestApp, account_id: &str) {
    let db = &app.state.db;
    store::write_item(db, account_id, "shop", "orders", None, json!({"id": "o1", "tenant": "tgt-one", "total": -1}), WriteMode::Upsert)
        .await
        .unwrap();
    store::delete_item(db, account_id, "shop", "orders", "[\"t2\"]", "o2", None).await.unwrap();
    store::write_item(db, account_id, "shop", "orders", None, json!({"id": "late", "tenant": "t0"}), WriteMode::Create).await.unwrap();
    store::delete_container(db, account_id, "shop", "carts").await.unwrap();
    store::delete_database(db, account_id, "logs").await.unwrap();
}

async fn restorable(app: &TestApp, sub: &str, name: &str) -> Value {
    let list = json_ok(app.call("list_restorable_accounts", &[("subscription_id", sub)]).await).await;
    list.as_array().unwrap().iter().find(|a| a["name"] == name).cloned().unwrap_or(Value::Null)
}

/// Waits until the account's latest restorable time reaches `t`.
pub(crate) async fn backed_up_through(app: &TestApp, sub: &str, name: &str, t: DateTime<Utc>) {
    for _ in 0..100 {
        let a = restorable(app, sub, name).await;
        if let Some(latest) = a["latest_restorable"].as_str()
            && DateTime::parse_from_rfc3339(latest).unwrap() >= t
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("account {name} was not backed up through {t} within 10 s");
}

pub(crate) async fn wait_for_job(app: &TestApp, sub: &str, target: &str) -> Value {
    for _ in 0..300 {
        let jobs = json_ok(app.call("list_restore_jobs", &[("subscription_id", sub)]).await).await;
        let job = jobs.as_array().unwrap().iter().find(|j| j["target_account_name"] == target).cloned().unwrap();
        if matches!(job["state"].as_str(), Some("Succeeded" | "Failed")) {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("restore into {target} did not finish within 30 s");
}

/// Entries of the account's change log still in the live database.
async fn live_log_len(app: &TestApp, account_id: &str) -> usize {
    engine::changelog::read(&app.state.db, account_id, 0, 1_000_000).await.unwrap().len()
}

/// Waits up to 10 s for `cond`.
async fn until<F, Fut>(cond: F, what: &str)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        if cond().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("waited 10 s for {what}");
}

pub(crate) fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(crate) async fn a_restore_brings_back_exactly_the_state_at_the_restore_time(app: TestApp) {
    app.login().await;
    let sub = app.subscription("S").await;
    let source = continuous_account(&app, &sub, "src").await;
    seed(&app, &source).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let expected = contents(&app, &source).await;
    let at = Utc::now();
    tokio::time::sleep(Duration::from_millis(20)).await;
    churn(&app, &source).await;
    backed_up_through(&app, &sub, "src", Utc::now()).await;

    let args = [
        ("subscription_id", sub.as_str()),
        ("source_account_id", source.as_str()),
        ("restore_at", &stamp(at)),
        ("target_name", "src-restored"),
        ("resources", ""),
    ];
    // A dry run shows the plan and files nothing.
    let plan = json_ok(app.call("preview_restore", &args).await).await;
    assert_eq!(plan["target_account_name"], "src-restored");
    assert_eq!(plan["databases"], 2, "{plan}");
    assert_eq!(plan["resources"].as_array().map(Vec::len), plan["containers"].as_u64().map(|n| n as usize), "{plan}");
    assert!(plan["backup_bytes"].as_u64().unwrap() > 0, "{plan}");
    let jobs = json_ok(app.call("list_restore_jobs", &[("subscription_id", &sub)]).await).await;
    assert_eq!(jobs.as_array().map(Vec::len), Some(0), "a dry run filed a job: {jobs}");
    let missing = app.call("get_account", &[("subscription_id", &sub), ("name", "src-restored")]).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND, "a dry run reserved the name");

    let job = json_ok(app.call("start_restore", &args).await).await;
    assert_eq!(job["state"], "Pending");
    // The job runs the plan it was filed with: what the dry run showed.
    let row = restore_job::Entity::find_by_id(job["id"].as_str().unwrap().to_owned()).one(&app.state.db).await.unwrap().unwrap();
    let filed: Value = serde_json::from_str(row.plan.as_deref().expect("the job keeps its plan")).unwrap();
    assert_eq!(filed["stats"]["containers"], plan["containers"]);
    assert_eq!(
        filed["at"].as_str().map(|t| DateTime::parse_from_rfc3339(t).unwrap()),
        Some(DateTime::parse_from_rfc3339(&stamp(at)).unwrap())
    );
    let job = wait_for_job(&app, &sub, "src-restored").await;
    assert_eq!(job["state"], "Succeeded", "{job}");
    assert!(job["message"].as_str().unwrap().contains("Not restored: role assignments, keys"), "{job}");
    assert_eq!(job["items_done"], json!(expected.len()));

    let target = json_ok(app.call("get_account", &[("subscription_id", &sub), ("name", "src-restored")]).await).await;
    assert_eq!(target["state"], "Online");
    assert_eq!(target["create_mode"], "Restore");
    assert_eq!(target["restore_parameters"]["source_account_name"], "src");
    assert_eq!(target["backup_policy"]["type"], "Continuous");
    let target_id = target["id"].as_str().unwrap();
    let restored = contents(&app, target_id).await;
    assert_eq!(restored.len(), 40);
    assert_eq!(restored, expected, "the restored account differs from the source at the restore time");
    // Settings come back too: the shared database keeps its throughput.
    let logs = store::get_database(&app.state.db, target_id, "logs").await.unwrap();
    assert_eq!(logs.throughput, Some(400));
    // The restored account has its own keys, and a changed source does not change it.
    let keys_src = json_ok(app.call("list_keys", &[("subscription_id", &sub), ("name", "src")]).await).await;
    let keys_dst = json_ok(app.call("list_keys", &[("subscription_id", &sub), ("name", "src-restored")]).await).await;
    assert_ne!(keys_src["primaryMasterKey"], keys_dst["primaryMasterKey"]);

    // The restored account is itself restorable, but only from when its restore finished.
    let r = restorable(&app, &sub, "src-restored").await;
    let oldest = r["oldest_restorable"].as_str().map(|t| DateTime::parse_from_rfc3339(t).unwrap());
    let finished = DateTime::parse_from_rfc3339(job["finished_at"].as_str().unwrap()).unwrap();
    assert!(oldest.is_none_or(|o| o >= finished), "{r} vs {job}");

    // Part of an account: one container, into another new account.
    let args = [
        ("subscription_id", sub.as_str()),
        ("source_account_id", source.as_str()),
        ("restore_at", &stamp(at)),
        ("target_name", "carts-only"),
        ("resources", "shop/carts"),
    ];
    json_ok(app.call("start_restore", &args).await).await;
    assert_eq!(wait_for_job(&app, &sub, "carts-only").await["state"], "Succeeded");
    let target = json_ok(app.call("get_account", &[("subscription_id", &sub), ("name", "carts-only")]).await).await;
    let part = contents(&app, target["id"].as_str().unwrap()).await;
    let wanted: Items = expected.into_iter().filter(|(k, _)| k.0 == "shop" && k.1 == "carts").collect();
    assert_eq!(part, wanted);

    // Every restore is in the audit log: filed by the admin, completed by the service.
    let audit = json_ok(
        app.call("list_audit", &[("subscription_id", &sub), ("from", ""), ("to", ""), ("user", ""), ("action", ""), ("outcome", "")]).await,
    )
    .await;
    let actions: Vec<&str> = audit.as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    assert!(actions.contains(&"restorableAccounts/restore/action"), "{actions:?}");
    assert!(actions.contains(&"restore/complete"), "{actions:?}");
}

async fn bad_restore_requests_are_refused_with_the_reason(app: TestApp) {
    app.login().await;
    let sub = app.subscription("S").await;
    let source = continuous_account(&app, &sub, "src").await;
    seed(&app, &source).await;
    backed_up_through(&app, &sub, "src", Utc::now()).await;
    let now = restorable(&app, &sub, "src").await["latest_restorable"].as_str().unwrap().to_owned();
    let call = |at: String, target: &'static str, resources: &'static str| {
        let (sub, source) = (sub.clone(), source.clone());
        let app = &app;
        async move {
            let args = [
                ("subscription_id", sub.as_str()),
                ("source_account_id", source.as_str()),
                ("restore_at", at.as_str()),
                ("target_name", target),
                ("resources", resources),
            ];
            app.call("start_restore", &args).await
        }
    };

    let m = error_message(call("2020-01-01T00:00:00Z".into(), "tgt-one", "").await, StatusCode::BAD_REQUEST).await;
    assert!(m.contains("outside the restorable window"), "{m}");
    let m = error_message(call("last tuesday".into(), "tgt-one", "").await, StatusCode::BAD_REQUEST).await;
    assert!(m.contains("\"last tuesday\""), "{m}");
    let m = error_message(call(now.clone(), "src", "").await, StatusCode::CONFLICT).await;
    assert!(m.contains("already exists"), "{m}");
    let m = error_message(call(now.clone(), "Bad_Name", "").await, StatusCode::BAD_REQUEST).await;
    assert!(m.contains("account name may contain only"), "{m}");
    let m = error_message(call(now.clone(), "tgt-one", "nope").await, StatusCode::BAD_REQUEST).await;
    assert!(m.contains("database \"nope\" did not exist"), "{m}");
    let m = error_message(call(now.clone(), "tgt-one", "shop/nope").await, StatusCode::BAD_REQUEST).await;
    assert!(m.contains("container \"nope\""), "{m}");
    let m = error_message(call(now.clone(), "tgt-one", "logs/events").await, StatusCode::BAD_REQUEST).await;
    assert!(m.contains("shared throughput"), "{m}");

    let periodic = app.account(&sub, "old-style").await;
    let args = [
        ("subscription_id", sub.as_str()),
        ("source_account_id", periodic["id"].as_str().unwrap()),
        ("restore_at", now.as_str()),
        ("target_name", "tgt-two"),
        ("resources", ""),
    ];
    let m = error_message(app.call("start_restore", &args).await, StatusCode::BAD_REQUEST).await;
    assert!(m.contains("periodic"), "{m}");
    // Nothing was reserved by any refused request.
    let accounts = json_ok(app.call("list_accounts", &[("subscription_id", &sub)]).await).await;
    assert_eq!(accounts.as_array().unwrap().len(), 2, "{accounts}");
    // A periodic account is offered for restore by request, not to a point in time.
    let periodic = restorable(&app, &sub, "old-style").await;
    assert_eq!((periodic["periodic"].as_bool(), periodic["can_restore"].as_bool()), (Some(true), Some(false)), "{periodic}");
}

async fn a_deleted_account_stays_restorable_up_to_its_deletion(app: TestApp) {
    app.login().await;
    let sub = app.subscription("S").await;
    let source = continuous_account(&app, &sub, "gone").await;
    seed(&app, &source).await;
    backed_up_through(&app, &sub, "gone", Utc::now()).await;
    let expected = contents(&app, &source).await;
    // Once shipped, the live change log is pruned: the database keeps data, not history.
    until(|| async { live_log_len(&app, &source).await == 0 }, "the shipped change log to be pruned").await;
    json_ok(app.call("delete_account", &[("subscription_id", &sub), ("name", "gone")]).await).await;
    // Backed up through its deletion, the account's live rows go (items, then containers, then
    // databases and log, so no database left means nothing left): the restore below reads
    // backup storage alone. (Only row counts are polled: listing contents would race the purge.)
    until(
        || async {
            store::list_databases(&app.state.db, &source).await.unwrap().is_empty()
                && engine::entities::container::Entity::find()
                    .filter(engine::entities::container::Column::AccountId.eq(&source))
                    .count(&app.state.db)
                    .await
                    .unwrap()
                    == 0
                && live_log_len(&app, &source).await == 0
        },
        "the deleted account's rows to go",
    )
    .await;
    assert!(contents(&app, &source).await.is_empty());
    let a = restorable(&app, &sub, "gone").await;
    assert_eq!(a["state"], "Deleted");
    let latest = a["latest_restorable"].as_str().unwrap().to_owned();
    assert!(DateTime::parse_from_rfc3339(&latest).unwrap() <= DateTime::parse_from_rfc3339(a["deleted_at"].as_str().unwrap()).unwrap());
    let args = [
        ("subscription_id", sub.as_str()),
        ("source_account_id", source.as_str()),
        ("restore_at", latest.as_str()),
        ("target_name", "gone"),
        ("resources", ""),
    ];
    json_ok(app.call("start_restore", &args).await).await;
    assert_eq!(wait_for_job(&app, &sub, "gone").await["state"], "Succeeded");
    let back = json_ok(app.call("get_account", &[("subscription_id", &sub), ("name", "gone")]).await).await;
    assert_eq!(contents(&app, back["id"].as_str().unwrap()).await, expected);
}

async fn an_altered_backup_object_is_read_from_its_second_copy_and_with_none_nothing_is_restored(app: TestApp) {
    app.login().await;
    let sub = app.subscription("S").await;
    // Geo redundancy (the default): every object also in the geo store, here the folder beside.
    let source = continuous_account(&app, &sub, "src").await;
    seed(&app, &source).await;
    backed_up_through(&app, &sub, "src", Utc::now()).await;
    let dir = std::path::PathBuf::from(app.state.backup_storage.label().trim_start_matches("file://"));
    let log = |dir: &std::path::Path| dir.join("accounts").join(&source).join("log");
    let first = std::fs::read_dir(log(&dir)).unwrap().map(|e| e.unwrap().path()).min().unwrap();
    let name = first.file_name().unwrap().to_owned();
    let alter = |file: &std::path::Path| {
        let mut bytes = std::fs::read(file).unwrap();
        let n = bytes.len() - 30;
        bytes[n] ^= 0x40;
        std::fs::write(file, bytes).unwrap();
    };
    alter(&first);

    let at = restorable(&app, &sub, "src").await["latest_restorable"].as_str().unwrap().to_owned();
    let restore = |target: &'static str| {
        let args = [
            ("subscription_id", sub.clone()),
            ("source_account_id", source.clone()),
            ("restore_at", at.clone()),
            ("target_name", target.to_owned()),
            ("resources", String::new()),
        ];
        let (client, url) = (app.client.clone(), format!("{}/api/start_restore", app.base));
        async move { json_ok(client.post(url).form(&args).send().await.unwrap()).await }
    };
    // One copy altered: the restore reads the other, succeeds, and says so.
    restore("from-second-copy").await;
    let job = wait_for_job(&app, &sub, "from-second-copy").await;
    assert_eq!(job["state"], "Succeeded", "{job}");
    let m = job["message"].as_str().unwrap();
    let geo = backup::storage::beside(&dir, "geo");
    assert!(m.contains("from a second copy") && m.contains(name.to_str().unwrap()) && m.contains(&geo.display().to_string()), "{m}");
    assert!(m.contains("does not match its manifest hash"), "{m}");

    // Both copies altered: filing reads the catalog, not the log; the restore itself walks the
    // chain, finds no good copy, and fails without leaving the target behind.
    alter(&log(&geo).join(&name));
    restore("from-tampered").await;
    let job = wait_for_job(&app, &sub, "from-tampered").await;
    assert_eq!(job["state"], "Failed", "{job}");
    let m = job["message"].as_str().unwrap();
    assert!(m.contains("does not match its manifest hash") && m.contains(name.to_str().unwrap()), "{m}");
    assert!(m.contains(&dir.display().to_string()) && m.contains(&geo.display().to_string()), "{m}");
    let res = app.call("get_account", &[("subscription_id", &sub), ("name", "from-tampered")]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

async fn deleted_databases_and_containers_come_back_in_place(app: TestApp) {
    app.login().await;
    let sub = app.subscription("S").await;
    let account = continuous_account(&app, &sub, "live").await;
    seed(&app, &account).await;
    let before = contents(&app, &account).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    store::delete_container(&app.state.db, &account, "shop", "carts").await.unwrap();
    store::delete_database(&app.state.db, &account, "logs").await.unwrap();
    store::write_item(&app.state.db, &account, "shop", "orders", None, json!({"id": "after", "tenant": "t0"}), WriteMode::Create)
        .await
        .unwrap();
    backed_up_through(&app, &sub, "live", Utc::now()).await;

    let events = json_ok(app.call("list_resource_events", &[("subscription_id", &sub), ("account_id", &account)]).await).await;
    let events = events.as_array().unwrap();
    let find = |kind: &str, db: &str, c: &str| {
        events
            .iter()
            .find(|e| e["kind"] == kind && e["database"] == db && e["container"] == c)
            .cloned()
            .unwrap_or_else(|| panic!("no {kind} event for {db}/{c}: {events:?}"))
    };
    let carts_deleted = find("Delete", "shop", "carts");
    let logs_deleted = find("Delete", "logs", "");
    assert_eq!(carts_deleted["restorable_in_place"], true);
    assert_eq!(logs_deleted["restorable_in_place"], true);
    assert_eq!(find("Create", "shop", "orders")["restorable_in_place"], false);
    // Newest first.
    assert_eq!(events[0]["kind"], "Delete");

    let in_place = |at: String, resources: &'static str| {
        let (sub, account) = (sub.clone(), account.clone());
        let app = &app;
        async move {
            let args = [
                ("subscription_id", sub.as_str()),
                ("account_id", account.as_str()),
                ("restore_at", at.as_str()),
                ("resources", resources),
            ];
            app.call("restore_in_place", &args).await
        }
    };
    let carts_at = carts_deleted["restore_point"].as_str().unwrap().to_owned();
    let logs_at = logs_deleted["restore_point"].as_str().unwrap().to_owned();
    // Live resources go to a new account; a container needs its database back first.
    let m = error_message(in_place(carts_at.clone(), "shop/orders").await, StatusCode::BAD_REQUEST).await;
    assert!(m.contains("only deleted databases and containers can be restored in place"), "{m}");
    let m = error_message(in_place(logs_at.clone(), "logs/events").await, StatusCode::BAD_REQUEST).await;
    assert!(m.contains("restore it before its containers"), "{m}");
    let m = error_message(in_place(carts_at.clone(), "").await, StatusCode::BAD_REQUEST).await;
    assert!(m.contains("name the deleted databases or containers"), "{m}");

    json_ok(in_place(carts_at, "shop/carts").await).await;
    assert_eq!(wait_for_job(&app, &sub, "live").await["state"], "Succeeded");
    json_ok(in_place(logs_at, "logs").await).await;
    for _ in 0..300 {
        let jobs = json_ok(app.call("list_restore_jobs", &[("subscription_id", &sub)]).await).await;
        if jobs.as_array().unwrap().iter().all(|j| j["state"] == "Succeeded") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let now = contents(&app, &account).await;
    let mut expected = before.clone();
    expected.insert(("shop".into(), "orders".into(), "[\"t0\"]".into(), "after".into()), json!({"id": "after", "tenant": "t0"}));
    assert_eq!(now, expected, "the account after both in-place restores");
    assert_eq!(store::get_database(&app.state.db, &account, "logs").await.unwrap().throughput, Some(400));
    let a = json_ok(app.call("get_account", &[("subscription_id", &sub), ("name", "live")]).await).await;
    assert_eq!(a["state"], "Online");
    // The name is taken again now: no second in-place restore of it.
    let events = json_ok(app.call("list_resource_events", &[("subscription_id", &sub), ("account_id", &account)]).await).await;
    assert!(events.as_array().unwrap().iter().all(|e| e["restorable_in_place"] == false), "{events}");
}

pub(crate) async fn periodic_backups_are_restored_by_approved_request(app: TestApp) {
    app.login().await;
    let sub = app.subscription("S").await;
    let a = app.account(&sub, "per").await;
    let account = a["id"].as_str().unwrap().to_owned();
    seed(&app, &account).await;
    let expected = contents(&app, &account).await;
    // The periodic worker's own step, taken now rather than waiting for its interval.
    let kek = app.state.master_key.backup_key_wrap_key();
    let full =
        backup::periodic::take_full(&app.state.db, &app.state.backup_storage, &kek, &account, backup::chunk::ChunkBounds { bytes: 64 })
            .await
            .unwrap();
    assert_eq!(full.items, 40);
    store::write_item(&app.state.db, &account, "shop", "orders", None, json!({"id": "later", "tenant": "t0"}), WriteMode::Create)
        .await
        .unwrap();

    let ro = app.new_user("ro").await;
    app.assign(&sub, &account, "ro", "builtin:Restore Operator").await;
    let sup = app.new_user("sup").await;
    app.assign(&sub, "", "sup", "builtin:Support").await;

    let backups = json_ok(app.call_with(&ro, "list_backups", &[("subscription_id", &sub), ("account_id", &account)]).await).await;
    let at = backups[0]["taken_at"].as_str().unwrap().to_owned();
    let request = |client: &reqwest::Client, at: &str, target: &str| {
        let args = [
            ("subscription_id", sub.clone()),
            ("account_id", account.clone()),
            ("backup_at", at.to_owned()),
            ("target_name", target.to_owned()),
            ("resources", String::new()),
        ];
        let client = client.clone();
        let url = format!("{}/api/request_restore", app.base);
        async move { client.post(url).form(&args).send().await.unwrap() }
    };
    let m = error_message(request(&ro, "2020-01-01T00:00:00Z", "").await, StatusCode::BAD_REQUEST).await;
    assert!(m.contains("no backup taken at"), "{m}");

    let job = json_ok(request(&ro, &at, "").await).await;
    assert_eq!(job["state"], "AwaitingApproval");
    assert_eq!(job["target_account_name"], "per-restored1");
    let job_id = job["id"].as_str().unwrap().to_owned();
    let decide = |client: &reqwest::Client, id: &str, approve: &str, reason: &str| {
        let args =
            [("subscription_id", sub.clone()), ("job_id", id.to_owned()), ("approve", approve.to_owned()), ("reason", reason.to_owned())];
        let client = client.clone();
        let url = format!("{}/api/decide_restore_request", app.base);
        async move { client.post(url).form(&args).send().await.unwrap() }
    };
    // The requester cannot approve; Support can.
    let m = error_message(decide(&ro, &job_id, "true", "").await, StatusCode::FORBIDDEN).await;
    assert!(m.contains("restoreRequests/approve/action"), "{m}");
    let approved = json_ok(decide(&sup, &job_id, "true", "ticket 42").await).await;
    assert_eq!(approved["state"], "Pending");
    let m = error_message(decide(&sup, &job_id, "false", "").await, StatusCode::CONFLICT).await;
    assert!(m.contains("not awaiting approval"), "{m}");
    assert_eq!(wait_for_job(&app, &sub, "per-restored1").await["state"], "Succeeded");
    let target = json_ok(app.call("get_account", &[("subscription_id", &sub), ("name", "per-restored1")]).await).await;
    assert_eq!(target["backup_policy"]["type"], "Periodic");
    assert_eq!(contents(&app, target["id"].as_str().unwrap()).await, expected, "the restore holds the backup, not the later write");

    // A rejected request runs nothing and says why.
    let second = json_ok(request(&ro, &at, "").await).await;
    assert_eq!(second["target_account_name"], "per-restored2");
    let rejected = json_ok(decide(&sup, second["id"].as_str().unwrap(), "false", "not needed").await).await;
    assert_eq!(rejected["state"], "Rejected");
    assert!(rejected["message"].as_str().unwrap().contains("not needed"));
    assert_eq!(app.call("get_account", &[("subscription_id", &sub), ("name", "per-restored2")]).await.status(), StatusCode::NOT_FOUND);

    // Holding the approve action is not enough to approve one's own request: an Owner who files
    // one needs somebody else, and does not see it as decidable.
    let own = json_ok(request(&app.client, &at, "").await).await;
    let own_id = own["id"].as_str().unwrap().to_owned();
    let m = error_message(decide(&app.client, &own_id, "true", "").await, StatusCode::FORBIDDEN).await;
    assert!(m.contains("filed by you"), "{m}");
    let jobs = json_ok(app.call("list_restore_jobs", &[("subscription_id", &sub)]).await).await;
    let listed = jobs.as_array().unwrap().iter().find(|j| j["id"] == own_id.as_str()).unwrap();
    assert_eq!((listed["state"].as_str(), listed["can_decide"].as_bool()), (Some("AwaitingApproval"), Some(false)));
    assert_eq!(json_ok(decide(&sup, &own_id, "true", "").await).await["state"], "Pending");
}

/// An account that does not change still has a backup for every interval: the schedule (read
/// from the restore points, not from memory) puts a new point on the unchanged snapshot, and
/// that point restores. (Before, an idle account kept its one old backup and, once that aged
/// past retention, had no restore point at all.)
async fn an_idle_periodic_account_keeps_the_backups_its_policy_promises(app: TestApp) {
    use backup::entities::{backup_point, backup_snapshot};
    use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
    app.login().await;
    let sub = app.subscription("S").await;
    let args = [("subscription_id", sub.as_str()), ("name", "idle"), ("region", "local"), ("mode", "Periodic")];
    let a = json_ok(app.call("create_account", &[&args[..], &[("interval_hours", "1"), ("retention_hours", "2")]].concat()).await).await;
    let account = a["id"].as_str().unwrap().to_owned();
    seed(&app, &account).await;
    let expected = contents(&app, &account).await;
    let kek = app.state.master_key.backup_key_wrap_key();
    let full =
        backup::periodic::take_full(&app.state.db, &app.state.backup_storage, &kek, &account, backup::chunk::ChunkBounds { bytes: 64 })
            .await
            .unwrap();
    assert_eq!(full.items, 40);
    let snapshots = || async {
        backup_snapshot::Entity::find().filter(backup_snapshot::Column::AccountId.eq(&account)).count(&app.state.db).await.unwrap()
    };
    let written = snapshots().await;

    // Three hours pass with no change: every backup is now older than the retention.
    let three_hours = chrono::Duration::hours(3);
    for p in backup_point::Entity::find().filter(backup_point::Column::AccountId.eq(&account)).all(&app.state.db).await.unwrap() {
        backup_point::Entity::delete_by_id((p.account_id.clone(), p.taken_at)).exec(&app.state.db).await.unwrap();
        backup_point::ActiveModel { taken_at: Set(p.taken_at - three_hours), ..p.into_active_model() }.insert(&app.state.db).await.unwrap();
    }
    for s in backup_snapshot::Entity::find().filter(backup_snapshot::Column::AccountId.eq(&account)).all(&app.state.db).await.unwrap() {
        let old = s.taken_at - three_hours;
        let mut s = s.into_active_model();
        s.taken_at = Set(old);
        s.update(&app.state.db).await.unwrap();
    }
    // The schedule sees the newest point three hours old and takes a backup at once; the
    // account has not changed, so it is a new point on the same snapshot.
    let list = || async {
        json_ok(app.call("list_backups", &[("subscription_id", &sub), ("account_id", &account)]).await).await.as_array().unwrap().clone()
    };
    until(|| async { !list().await.is_empty() }, "a new backup point of the idle account").await;
    let backups = list().await;
    assert!(backups.iter().all(|b| b["items"] == 40), "{backups:?}");
    assert_eq!(snapshots().await, written, "an unchanged account was written again");

    // That point restores, by approved request.
    let at = backups[0]["taken_at"].as_str().unwrap().to_owned();
    let args = [
        ("subscription_id", sub.clone()),
        ("account_id", account.clone()),
        ("backup_at", at),
        ("target_name", String::new()),
        ("resources", String::new()),
    ];
    let job = json_ok(app.client.post(format!("{}/api/request_restore", app.base)).form(&args).send().await.unwrap()).await;
    let sup = app.new_user("sup").await;
    app.assign(&sub, "", "sup", "builtin:Support").await;
    let decision = [
        ("subscription_id", sub.clone()),
        ("job_id", job["id"].as_str().unwrap().to_owned()),
        ("approve", "true".into()),
        ("reason", String::new()),
    ];
    json_ok(sup.post(format!("{}/api/decide_restore_request", app.base)).form(&decision).send().await.unwrap()).await;
    let target = job["target_account_name"].as_str().unwrap().to_owned();
    assert_eq!(wait_for_job(&app, &sub, &target).await["state"], "Succeeded");
    let restored = json_ok(app.call("get_account", &[("subscription_id", &sub), ("name", &target)]).await).await;
    assert_eq!(contents(&app, restored["id"].as_str().unwrap()).await, expected);
}

crate::on_both_backends!(
    an_idle_periodic_account_keeps_the_backups_its_policy_promises,
    periodic_backups_are_restored_by_approved_request,
    deleted_databases_and_containers_come_back_in_place,
    a_restore_brings_back_exactly_the_state_at_the_restore_time,
    bad_restore_requests_are_refused_with_the_reason,
    a_deleted_account_stays_restorable_up_to_its_deletion,
    an_altered_backup_object_is_read_from_its_second_copy_and_with_none_nothing_is_restored,
);
