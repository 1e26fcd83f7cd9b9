//! Hostile input, sent as an attacker with the least access would send it (a read-only key, a
//! user with no role, nobody signed in): the server stays up and keeps answering others, every
//! bad input gets a 4xx naming the limit it passes, nothing is lost or half-written, and nothing
//! grows without bound.

use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, PaginatorTrait, QueryFilter, Statement};
use serde_json::{Value, json};
use std::time::Duration;

use crate::cosmos::{Cosmos, status_and_message};
use crate::helpers::{Backend, TestApp, error_message, json_ok, new_client, spawn_app_with};
use crate::restore::{backed_up_through, continuous_account, stamp, wait_for_job};

/// An account with database `shop` and container `orders` (partition key `/tenant`, 400 RU/s)
/// holding `items` items, and its read-write and read-only clients.
async fn account_with_items(app: &TestApp, sub: &str, name: &str, items: usize) -> (Cosmos, Cosmos) {
    account_with(app, sub, name, items, 400).await
}

async fn account_with(app: &TestApp, sub: &str, name: &str, items: usize, throughput: u32) -> (Cosmos, Cosmos) {
    app.account(sub, name).await;
    let rw = Cosmos::for_account(app, sub, name, "primaryMasterKey").await;
    let ro = Cosmos::for_account(app, sub, name, "primaryReadonlyMasterKey").await;
    assert_eq!(rw.post("dbs", &[], &json!({"id": "shop"})).await.status(), StatusCode::CREATED);
    let coll = json!({"id": "orders", "partitionKey": {"paths": ["/tenant"], "kind": "Hash"}});
    assert_eq!(rw.post("dbs/shop/colls", &[("x-ms-offer-throughput", &throughput.to_string())], &coll).await.status(), StatusCode::CREATED);
    for i in 0..items {
        let doc = json!({"id": format!("o{i}"), "tenant": format!("t{}", i % 4), "n": i, "tags": ["a", "b"]});
        loop {
            let res = rw.post("dbs/shop/colls/orders/docs", &[("x-ms-documentdb-partitionkey", &format!("[\"t{}\"]", i % 4))], &doc).await;
            if res.status() == StatusCode::TOO_MANY_REQUESTS {
                // 400 RU/s: as an SDK would, wait as told and retry.
                let ms = res.headers()["x-ms-retry-after-ms"].to_str().unwrap().parse().unwrap();
                tokio::time::sleep(Duration::from_millis(ms)).await;
                continue;
            }
            assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap_or_default());
            break;
        }
    }
    (rw, ro)
}

async fn healthy(app: &TestApp) {
    let res = reqwest::get(format!("{}/healthz", app.base)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

/// Bytes the service database takes now.
async fn database_bytes(app: &TestApp) -> i64 {
    let db = &app.state.db;
    let (backend, sql) = match db.get_database_backend() {
        DatabaseBackend::Postgres => (DatabaseBackend::Postgres, "SELECT pg_database_size(current_database()) AS n"),
        _ => {
            db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await.unwrap();
            (DatabaseBackend::Sqlite, "SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()")
        }
    };
    let row = db.query_one_raw(Statement::from_string(backend, sql)).await.unwrap().unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

async fn audit_rows(app: &TestApp) -> u64 {
    control::db::audit_entry::Entity::find().count(&app.state.db).await.unwrap()
}

async fn queries_are_bounded_and_cannot_bring_the_server_down(app: TestApp) {
    app.login().await;
    let sub = app.subscription("S").await;
    let (rw, ro) = account_with_items(&app, &sub, "victim", 20).await;

    // 2,000 nested parentheses (4 KB), with a read-only key: a 400 naming the limit.
    let deep = format!("SELECT * FROM c WHERE {}c.n{} = 1", "(".repeat(2000), ")".repeat(2000));
    let (status, m) = status_and_message(ro.query("shop", "orders", &deep, &[]).await).await;
    assert_eq!(status, 400, "{m}");
    assert!(m.contains("64 levels deep"), "{m}");
    // 100,000 ORs, as a query-plan request (parsed and dropped only).
    let ors = format!("SELECT * FROM c WHERE {}", vec!["1"; 100_001].join(" OR "));
    let (status, m) = status_and_message(ro.query("shop", "orders", &ors, &[("x-ms-cosmos-is-query-plan-request", "True")]).await).await;
    assert_eq!(status, 400, "{m}");
    assert!(m.contains("more than 500 OR"), "{m}");
    // Query text over 512 KB; an IN list over 16,000 items; a NOT chain.
    let long = format!("SELECT * FROM c WHERE c.x = '{}'", "y".repeat(600 * 1024));
    let (status, m) = status_and_message(ro.query("shop", "orders", &long, &[]).await).await;
    assert!(status == 400 && m.contains("524288 bytes"), "{status} {m}");
    let ins = format!("SELECT * FROM c WHERE c.n IN ({})", vec!["1"; 16_001].join(","));
    let (status, m) = status_and_message(ro.query("shop", "orders", &ins, &[]).await).await;
    assert!(status == 400 && m.contains("16000 items"), "{status} {m}");
    let nots = format!("SELECT * FROM c WHERE {} true", "NOT ".repeat(50_000));
    assert_eq!(status_and_message(ro.query("shop", "orders", &nots, &[]).await).await.0, 400);
    // A flat chain of 60,000 terms is wide, not deep: it runs.
    let sum = format!("SELECT VALUE {} FROM c WHERE c.n = 0", vec!["1"; 60_000].join(" + "));
    let res = ro.query("shop", "orders", &sum, &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["Documents"], json!([60_000]));

    // PATCH's condition reaches the same parser.
    let patch = json!({"operations": [{"op": "set", "path": "/x", "value": 1}], "condition": deep.replace("SELECT * ", "")});
    let res = rw
        .send(Method::PATCH, "dbs/shop/colls/orders/docs/o0", &[("x-ms-documentdb-partitionkey", "[\"t0\"]")], Some(patch.to_string()))
        .await;
    let (status, m) = status_and_message(res).await;
    assert!(status == 400 && m.contains("levels deep"), "{status} {m}");
    // So does the explorer's query box.
    let m = error_message(
        app.call(
            "explorer_query",
            &[("subscription_id", &sub), ("name", "victim"), ("database", "shop"), ("container", "orders"), ("sql", &deep)],
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(m.contains("levels deep"), "{m}");
    healthy(&app).await;
    // Nothing was changed by any of it.
    let res = rw.send(Method::GET, "dbs/shop/colls/orders/docs/o0", &[("x-ms-documentdb-partitionkey", "[\"t0\"]")], None).await;
    assert!(res.json::<Value>().await.unwrap().get("x").is_none());
}

async fn one_caller_cannot_stall_other_tenants(app: TestApp) {
    app.login().await;
    let sub = app.subscription("S").await;
    // Plenty of throughput, so the attacker's queries are all admitted and keep the server busy.
    let (_, attacker) = account_with(&app, &sub, "noisy", 100, 100_000).await;
    let (_, neighbour) = account_with_items(&app, &sub, "quiet", 1).await;

    // Expensive queries at once, with a read-only key: 16,000-item IN lists that match nothing
    // (so every item is compared with every entry), with DISTINCT and ORDER BY.
    let list = (100_000..116_000).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    let heavy = [
        format!("SELECT * FROM c WHERE c.n IN ({list})"),
        format!("SELECT DISTINCT VALUE c.tags FROM c WHERE c.n IN ({list})"),
        format!("SELECT * FROM c WHERE c.n IN ({list}) ORDER BY c.tenant DESC"),
    ];
    let flood: Vec<_> = (0..8)
        .map(|i| {
            let (attacker, sql) = (attacker.clone(), heavy[i % 3].clone());
            tokio::spawn(async move { attacker.query("shop", "orders", &sql, &[]).await.status() })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Meanwhile the neighbour's reads and queries are answered, one after another, while the
    // attacker's queries are still running: theirs wait their turn off the request threads.
    for _ in 0..10 {
        let res = neighbour.send(Method::GET, "dbs/shop/colls/orders/docs/o0", &[("x-ms-documentdb-partitionkey", "[\"t0\"]")], None).await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = neighbour.query("shop", "orders", "SELECT VALUE COUNT(1) FROM c", &[]).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let running = flood.iter().filter(|f| !f.is_finished()).count();
    assert!(running > 0, "the neighbour was answered only after the attacker's queries had all finished");
    for f in flood {
        let status = f.await.unwrap();
        assert!(status == StatusCode::OK || status == StatusCode::TOO_MANY_REQUESTS, "{status}");
    }

    // On a container of 400 RU/s a flood is throttled by the work it asks for: four such lists
    // against its one item cost about 64 RU a query.
    let tight = Cosmos::for_account(&app, &sub, "quiet", "primaryReadonlyMasterKey").await;
    let five = format!("SELECT * FROM c WHERE {}", vec![format!("c.n IN ({list})"); 4].join(" OR "));
    let flood: Vec<_> = (0..12)
        .map(|_| {
            let (tight, sql) = (tight.clone(), five.clone());
            tokio::spawn(async move { tight.query("shop", "orders", &sql, &[]).await.status() })
        })
        .collect();
    let mut throttled = 0;
    for f in flood {
        let status = f.await.unwrap();
        assert!(status == StatusCode::OK || status == StatusCode::TOO_MANY_REQUESTS, "{status}");
        throttled += usize::from(status == StatusCode::TOO_MANY_REQUESTS);
    }
    assert!(throttled > 0, "a flood far over 400 RU/s is throttled");
    healthy(&app).await;
}

async fn a_read_only_key_creates_nothing_and_throughput_is_in_range(app: TestApp) {
    app.login().await;
    let sub = app.subscription("S").await;
    let (rw, ro) = account_with_items(&app, &sub, "guarded", 0).await;
    let query_headers = [("x-ms-documentdb-isquery", "true"), ("x-ms-cosmos-is-query-plan-request", "True")];
    let (status, m) = status_and_message(ro.post("dbs", &query_headers, &json!({"id": "evil"})).await).await;
    assert!(status == 403 && m.contains("read-only key"), "{status} {m}");
    let res = ro.post("dbs/shop/colls", &query_headers, &json!({"id": "evil", "partitionKey": {"paths": ["/k"]}})).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(ro.send(Method::DELETE, "dbs/shop", &query_headers, None).await.status(), StatusCode::FORBIDDEN);
    let dbs = ro.send(Method::GET, "dbs", &[], None).await.json::<Value>().await.unwrap();
    assert_eq!(dbs["_count"], 1, "{dbs}");

    for (header, value) in [
        ("x-ms-offer-throughput", "1000000000"),
        ("x-ms-offer-throughput", "100"),
        ("x-ms-cosmos-offer-autopilot-settings", "{\"maxThroughput\":2000000}"),
        ("x-ms-cosmos-offer-autopilot-settings", "{\"maxThroughput\":100000000000}"),
    ] {
        let (status, m) = status_and_message(rw.post("dbs", &[(header, value)], &json!({"id": "big"})).await).await;
        assert!(status == 400 && m.contains("1000000"), "{header}: {value} → {status} {m}");
        let coll = json!({"id": "big", "partitionKey": {"paths": ["/k"]}});
        assert_eq!(rw.post("dbs/shop/colls", &[(header, value)], &coll).await.status(), StatusCode::BAD_REQUEST);
    }
    assert_eq!(rw.post("dbs", &[("x-ms-offer-throughput", "1000000")], &json!({"id": "max"})).await.status(), StatusCode::CREATED);
    let dbs = ro.send(Method::GET, "dbs", &[], None).await.json::<Value>().await.unwrap();
    assert_eq!(dbs["_count"], 2, "only the in-range database was created: {dbs}");
}

/// `levels - 1` objects, one inside the other: as an item's field, the item is `levels` deep.
fn nested(levels: usize) -> Value {
    (1..levels).fold(json!("leaf"), |v, _| json!({ "d": v }))
}

async fn every_write_path_keeps_items_readable_and_restorable(app: TestApp) {
    app.login().await;
    let sub = app.subscription("S").await;
    let source = continuous_account(&app, &sub, "deep").await;
    let rw = Cosmos::for_account(&app, &sub, "deep", "primaryMasterKey").await;
    assert_eq!(rw.post("dbs", &[], &json!({"id": "db"})).await.status(), StatusCode::CREATED);
    let coll = json!({"id": "c", "partitionKey": {"paths": ["/k"], "kind": "Hash"}});
    assert_eq!(rw.post("dbs/db/colls", &[], &coll).await.status(), StatusCode::CREATED);
    let pk = [("x-ms-documentdb-partitionkey", "[\"p\"]")];
    let docs = "dbs/db/colls/c/docs";

    // The deepest allowed item (100 levels: the item and 99 objects inside it) is stored…
    let ok = json!({"id": "ok", "k": "p", "v": nested(100)});
    assert_eq!(rw.post(docs, &pk, &ok).await.status(), StatusCode::CREATED);
    // …one more level is refused on every write path, naming the limit.
    let too_deep = json!({"id": "deep", "k": "p", "v": nested(101)});
    let (status, m) = status_and_message(rw.post(docs, &pk, &too_deep).await).await;
    assert!(status == 400 && m.contains("limit is 100"), "{status} {m}");
    let upsert = [("x-ms-documentdb-partitionkey", "[\"p\"]"), ("x-ms-documentdb-is-upsert", "true")];
    assert_eq!(rw.post(docs, &upsert, &too_deep).await.status(), StatusCode::BAD_REQUEST);
    let replace = json!({"id": "ok", "k": "p", "v": nested(101)});
    assert_eq!(rw.send(Method::PUT, &format!("{docs}/ok"), &pk, Some(replace.to_string())).await.status(), StatusCode::BAD_REQUEST);
    // A patch that would build a deeper item, step by step: refused, the item unchanged.
    let before = rw.send(Method::GET, &format!("{docs}/ok"), &pk, None).await.json::<Value>().await.unwrap();
    let ops = json!({"operations": [{"op": "set", "path": "/v/d/d/d", "value": nested(98)}]});
    let (status, m) = status_and_message(rw.send(Method::PATCH, &format!("{docs}/ok"), &pk, Some(ops.to_string())).await).await;
    assert!(status == 400 && m.contains("levels deep"), "{status} {m}");
    let after = rw.send(Method::GET, &format!("{docs}/ok"), &pk, None).await.json::<Value>().await.unwrap();
    assert_eq!(before, after, "a refused patch changes nothing");
    // Too large, and a partition key value too long for an index: clear 4xx, never a 500.
    let big = json!({"id": "big", "k": "p", "blob": "x".repeat(2 * 1024 * 1024)});
    assert_eq!(rw.post(docs, &pk, &big).await.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let long_pk = "q".repeat(2000);
    let doc = json!({"id": "lpk", "k": long_pk});
    let (status, m) = status_and_message(rw.post(docs, &[], &doc).await).await;
    assert!(status == 400 && m.contains("1024 bytes"), "{status} {m}");

    // What was stored restores: the container comes back whole into a new account.
    let at = chrono::Utc::now();
    backed_up_through(&app, &sub, "deep", at).await;
    let args = [
        ("subscription_id", sub.as_str()),
        ("source_account_id", source.as_str()),
        ("restore_at", &stamp(at)),
        ("target_name", "deep-restored"),
        ("resources", "db/c"),
    ];
    json_ok(app.call("start_restore", &args).await).await;
    let job = wait_for_job(&app, &sub, "deep-restored").await;
    assert_eq!(job["state"], "Succeeded", "{job}");
    let restored = Cosmos::for_account(&app, &sub, "deep-restored", "primaryMasterKey").await;
    let back = restored.send(Method::GET, &format!("{docs}/ok"), &pk, None).await.json::<Value>().await.unwrap();
    assert_eq!(back["v"], nested(100));
}

async fn sign_in_cannot_be_outrun_or_fill_the_disk(app: TestApp) {
    // Signed in first: the address will be throttled by what follows.
    app.login().await;
    // Twelve concurrent wrong passwords for one user: counted before verifying, so at most the
    // five allowed are checked.
    let attempts: Vec<_> = (0..12)
        .map(|_| {
            let (client, base) = (new_client(), app.base.clone());
            tokio::spawn(async move {
                let args = [("username", "bob"), ("password", "wrong-password-2")];
                client.post(format!("{base}/api/login")).form(&args).send().await.unwrap().status()
            })
        })
        .collect();
    let mut checked = 0;
    for a in attempts {
        let status = a.await.unwrap();
        assert!(matches!(status, StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS), "{status}");
        checked += usize::from(status == StatusCode::UNAUTHORIZED);
    }
    assert!((1..=5).contains(&checked), "{checked} of 12 concurrent attempts were verified");

    let rows_before = audit_rows(&app).await;
    let bytes_before = database_bytes(&app).await;
    // 1,000 sign-ins with 10 KB names: refused before anything is counted, hashed or written.
    let long = "n".repeat(10 * 1024);
    let client = new_client();
    for _ in 0..1000 {
        let res = app.call_with(&client, "login", &[("username", &long), ("password", "whatever-password")]).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    }
    let m = error_message(app.call_with(&client, "login", &[("username", &long), ("password", "x")]).await, StatusCode::BAD_REQUEST).await;
    assert!(m.contains("1 to 64 characters"), "{m}");
    assert_eq!(audit_rows(&app).await, rows_before, "refused names leave no audit rows");
    // 300 wrong passwords for a real-looking name from one address: a few rows, then throttled
    // attempts counted rather than logged one by one.
    for _ in 0..300 {
        let res = app.call_with(&client, "login", &[("username", "@mallory"), ("password", "wrong-password-1")]).await;
        assert!(matches!(res.status(), StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS), "{}", res.status());
    }
    let added = audit_rows(&app).await - rows_before;
    assert!(added <= 10, "{added} audit rows for 1,300 bad sign-ins");
    let grown = database_bytes(&app).await - bytes_before;
    assert!(grown < 1024 * 1024, "the database grew by {grown} bytes");

    // The export never hands a spreadsheet a formula.
    let csv = app.client.get(format!("{}/audit/export?format=csv&user=@mallory", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(csv.contains(",'@mallory,"), "{csv}");
    assert!(!csv.contains(",@mallory,"), "{csv}");
}

async fn denials_are_recorded_where_the_caller_belongs(app: TestApp) {
    app.login().await;
    let sub = app.subscription("Theirs").await;
    let nobody = app.new_user("nobody").await;
    for target in [sub.clone(), format!("{sub}/accounts/x"), "no-such-subscription".to_owned()] {
        let res = app.call_with(&nobody, "list_restorable_accounts", &[("subscription_id", &target)]).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    // The subscription's own audit view holds nothing of it; the root's holds each attempt, with
    // what was asked for in the detail.
    let theirs = json_ok(
        app.call("list_audit", &[("subscription_id", &sub), ("from", ""), ("to", ""), ("user", "nobody"), ("action", ""), ("outcome", "")])
            .await,
    )
    .await;
    assert_eq!(theirs.as_array().unwrap().len(), 0, "{theirs}");
    let root = json_ok(
        app.call(
            "list_audit",
            &[("subscription_id", ""), ("from", ""), ("to", ""), ("user", "nobody"), ("action", ""), ("outcome", "denied")],
        )
        .await,
    )
    .await;
    let rows = root.as_array().unwrap();
    assert_eq!(rows.len(), 3, "{root}");
    assert!(rows.iter().all(|r| r["scope"] == "/"), "{root}");
    assert!(rows.iter().any(|r| r["detail"].as_str().unwrap().contains(&format!("/subscriptions/{sub}/accounts/x"))), "{root}");

    // A subscription's filter matches whole path segments.
    let db = &app.state.db;
    for scope in [format!("/subscriptions/{sub}"), format!("/subscriptions/{sub}x"), format!("/subscriptions/{sub}/accounts/a")] {
        let rec = control::audit::Record {
            user_id: String::new(),
            user_name: "probe".into(),
            client_ip: String::new(),
            action: "probe/action".into(),
            scope,
            resource: "r".into(),
            outcome: app::audit::Outcome::Succeeded,
            detail: String::new(),
        };
        control::audit::append(db, rec).await.unwrap();
    }
    let filter = app::audit::AuditFilter { user: "probe".into(), ..Default::default() };
    let mine = control::audit::query(db, &filter, Some(&format!("/subscriptions/{sub}")), 10).await.unwrap();
    assert_eq!(mine.len(), 2, "{mine:?}");
}

async fn data_plane_changes_and_key_failures_are_audited(app: TestApp) {
    app.login().await;
    let sub = app.subscription("S").await;
    let (rw, _) = account_with_items(&app, &sub, "logged", 0).await;
    assert_eq!(rw.send(Method::DELETE, "dbs/shop/colls/orders", &[], None).await.status(), StatusCode::NO_CONTENT);
    let rows = json_ok(
        app.call(
            "list_audit",
            &[("subscription_id", &sub), ("from", ""), ("to", ""), ("user", ""), ("action", "dataplane/*"), ("outcome", "")],
        )
        .await,
    )
    .await;
    let actions: Vec<&str> = rows.as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["dataplane/containers/delete", "dataplane/containers/write", "dataplane/databases/write"], "{rows}");
    assert!(rows.as_array().unwrap().iter().all(|r| r["user_name"] == "account key (primary key)"), "{rows}");

    // 200 requests with a wrong key: one row, the rest counted.
    let wrong = rw.with_key("d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWs=");
    let before = audit_rows(&app).await;
    for _ in 0..200 {
        assert_eq!(wrong.send(Method::GET, "dbs", &[], None).await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(audit_rows(&app).await - before, 1);
}

async fn bursts_are_summed_up_once_their_window_closes(backend: Backend) {
    let app =
        spawn_app_with(backend, figment::Figment::new().merge(figment::providers::Serialized::default("login_window_seconds", 1))).await;
    app.login().await;
    let sub = app.subscription("S").await;
    let (rw, _) = account_with_items(&app, &sub, "windowed", 0).await;
    let wrong = rw.with_key("d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWs=");
    for _ in 0..50 {
        wrong.send(Method::GET, "dbs", &[], None).await;
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    rewind_server::workers::audit_bursts::step(&app.state).await;
    let rows = json_ok(
        app.call(
            "list_audit",
            &[("subscription_id", &sub), ("from", ""), ("to", ""), ("user", ""), ("action", "dataplane/unauthorized"), ("outcome", "")],
        )
        .await,
    )
    .await;
    let details: Vec<&str> = rows.as_array().unwrap().iter().map(|r| r["detail"].as_str().unwrap()).collect();
    assert_eq!(details.len(), 2, "{rows}");
    assert!(details[0].starts_with("49 more like this"), "{rows}");
}

async fn an_account_being_restored_takes_no_requests(app: TestApp) {
    app.login().await;
    let sub = app.subscription("S").await;
    let (rw, _) = account_with_items(&app, &sub, "busy", 1).await;
    control::db::account::Entity::update_many()
        .col_expr(control::db::account::Column::State, sea_orm::sea_query::Expr::value("Restoring"))
        .filter(control::db::account::Column::Name.eq("busy"))
        .exec(&app.state.db)
        .await
        .unwrap();
    let (status, m) = status_and_message(
        rw.send(Method::GET, "dbs/shop/colls/orders/docs/o0", &[("x-ms-documentdb-partitionkey", "[\"t0\"]")], None).await,
    )
    .await;
    assert!(status == 503 && m.contains("Restoring"), "{status} {m}");
    assert_eq!(rw.post("dbs", &[], &json!({"id": "x"})).await.status(), StatusCode::SERVICE_UNAVAILABLE);
    let m = error_message(
        app.call("explorer_create_database", &[("subscription_id", &sub), ("name", "busy"), ("database", "x")]).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(m.contains("Restoring"), "{m}");
    let save = [
        ("subscription_id", sub.as_str()),
        ("name", "busy"),
        ("database", "shop"),
        ("container", "orders"),
        ("json", "{\"id\":\"n\",\"tenant\":\"t\"}"),
        ("original_pk", ""),
        ("original_id", ""),
    ];
    assert_eq!(app.call("explorer_save_item", &save).await.status(), StatusCode::CONFLICT);
}

async fn files_and_responses_are_locked_down(app: TestApp) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        app.login().await; // some writes, so the SQLite companions exist
        assert_eq!(mode(&app.data_dir), 0o700);
        assert_eq!(mode(&app.data_dir.join("master.key")), 0o600);
        assert_eq!(mode(&app.data_dir.join("backups")), 0o700);
        for f in ["rewind.db", "rewind.db-wal", "rewind.db-shm"] {
            let p = app.data_dir.join(f);
            if p.exists() {
                assert_eq!(mode(&p), 0o600, "{f}");
            }
        }
    }
    let page = reqwest::get(format!("{}/login", app.base)).await.unwrap();
    let h = page.headers().clone();
    let body = page.text().await.unwrap();
    let csp = h["content-security-policy"].to_str().unwrap().to_owned();
    let nonce = body.split("nonce=\"").nth(1).and_then(|r| r.split('"').next()).unwrap();
    assert!(
        csp.contains(&format!("'nonce-{nonce}'")) && csp.contains("frame-ancestors 'none'") && csp.contains("'wasm-unsafe-eval'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h.get("strict-transport-security").is_none(), "no HSTS over plain http");
    let api = reqwest::get(format!("{}/cosmos/none/dbs", app.base)).await.unwrap();
    assert_eq!(api.headers()["content-security-policy"], "default-src 'none'; frame-ancestors 'none'");

    // Bodies beyond the limit are refused before they are read: the answer comes on the
    // request's head alone.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://")).await.unwrap();
    let head = format!(
        "POST /api/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n",
        6 * 1024 * 1024
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 12];
    conn.read_exact(&mut answer).await.unwrap();
    assert_eq!(String::from_utf8_lossy(&answer), "HTTP/1.1 413");
}

async fn hsts_is_sent_behind_tls(backend: Backend) {
    let app = spawn_app_with(
        backend,
        figment::Figment::new().merge(figment::providers::Serialized::default("public_url", "https://rewind.example")),
    )
    .await;
    let page = reqwest::get(format!("{}/login", app.base)).await.unwrap();
    assert!(page.headers()["strict-transport-security"].to_str().unwrap().starts_with("max-age="));
}

crate::on_both_backends!(
    queries_are_bounded_and_cannot_bring_the_server_down,
    one_caller_cannot_stall_other_tenants,
    a_read_only_key_creates_nothing_and_throughput_is_in_range,
    every_write_path_keeps_items_readable_and_restorable,
    sign_in_cannot_be_outrun_or_fill_the_disk,
    denials_are_recorded_where_the_caller_belongs,
    data_plane_changes_and_key_failures_are_audited,
    an_account_being_restored_takes_no_requests,
    files_and_responses_are_locked_down,
);

mod custom_settings {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_bursts_are_summed_up_once_their_window_closes() {
        bursts_are_summed_up_once_their_window_closes(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_bursts_are_summed_up_once_their_window_closes() {
        bursts_are_summed_up_once_their_window_closes(Backend::Postgres).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_hsts_is_sent_behind_tls() {
        hsts_is_sent_behind_tls(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_hsts_is_sent_behind_tls() {
        hsts_is_sent_behind_tls(Backend::Postgres).await;
    }
}
