//! Item writes per second on SQLite:
//!
//! 1. through the Cosmos REST API (signed requests over HTTP), one client and eight concurrent
//!    clients;
//! 2. the engine's whole write path (`write_item`: sequence number, container lookup, conflict
//!    check, item and change-log entry in one transaction) against the reference: the same item
//!    rows inserted by plain sea-orm, one transaction each, with none of that. The difference is
//!    an upper bound on what the change log costs.
//!
//! `cargo run --release -p rewind-bench --bin writes [-- N]` (N items per run, default 2000).

use anyhow::{Context, Result};
use engine::entities::item;
use engine::signature::{Signed, authorization_header};
use engine::store::{self, ContainerSpec, WriteMode};
use figment::Figment;
use figment::providers::Serialized;
use sea_orm::{ActiveModelTrait, Database, DatabaseConnection, TransactionTrait};
use serde_json::{Value, json};
use std::time::Instant;
use tokio_util::sync::CancellationToken;

fn doc(i: usize) -> Value {
    json!({ "id": format!("item-{i}"), "tenant": format!("t{}", i % 16), "n": i, "text": "x".repeat(200) })
}

struct Api {
    http: reqwest::Client,
    endpoint: String,
    key: String,
}

impl Api {
    async fn create(&self, d: Value) -> Result<()> {
        let date = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        let link = "dbs/bench/colls/items";
        let auth = authorization_header(&self.key, &Signed { verb: "POST", resource_type: "docs", resource_link: link, date: &date })
            .context("bad key")?;
        let pk = json!([d["tenant"]]).to_string();
        let res = self
            .http
            .post(format!("{}{link}/docs", self.endpoint))
            .header("authorization", auth)
            .header("x-ms-date", date)
            .header("x-ms-version", "2020-07-15")
            .header("x-ms-documentdb-partitionkey", pk)
            .json(&d)
            .send()
            .await?;
        anyhow::ensure!(res.status().as_u16() == 201, "create failed: {}", res.status());
        Ok(())
    }
}

async fn portal_account(base: &str) -> Result<(String, String)> {
    let http = reqwest::Client::builder().cookie_store(true).build()?;
    let call = |f: &str, args: Vec<(&'static str, String)>| {
        let http = http.clone();
        let url = format!("{base}/api/{f}");
        async move { http.post(url).form(&args).send().await?.error_for_status()?.json::<Value>().await.map_err(anyhow::Error::from) }
    };
    call("login", vec![("username", "admin".into()), ("password", "bench-admin-password".into())]).await?;
    let sub = call("create_subscription", vec![("name", "bench".into())]).await?;
    let sid = sub["id"].as_str().context("sub id")?.to_owned();
    let acct = call(
        "create_account",
        vec![("subscription_id", sid.clone()), ("name", "bench".into()), ("region", "local".into()), ("mode", String::new())],
    )
    .await?;
    let keys = call("list_keys", vec![("subscription_id", sid), ("name", "bench".into())]).await?;
    Ok((acct["endpoint"].as_str().context("endpoint")?.to_owned(), keys["primaryMasterKey"].as_str().context("key")?.to_owned()))
}

async fn rest(n: usize) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let figment = Figment::new()
        .merge(Serialized::default("bind", "127.0.0.1:0"))
        .merge(Serialized::default("data_dir", dir.path().display().to_string()))
        .merge(Serialized::default("admin_password", "bench-admin-password"))
        .merge(Serialized::default("log", "error"));
    let app = rewind_server::Application::build(rewind_server::Settings::from_figment(figment)?).await?;
    let base = format!("http://{}", app.addr());
    let shutdown = CancellationToken::new();
    tokio::spawn(app.run_until_stopped(shutdown.clone()));
    let (endpoint, key) = portal_account(&base).await?;
    let http = reqwest::Client::new();
    let api = Api { http, endpoint, key };
    // A container with enough throughput that the benchmark measures writes, not throttling.
    let date = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    for (verb_link, rtype, body, path) in [
        ("", "dbs", json!({"id": "bench"}), "dbs"),
        ("dbs/bench", "colls", json!({"id": "items", "partitionKey": {"paths": ["/tenant"], "kind": "Hash"}}), "dbs/bench/colls"),
    ] {
        let auth = authorization_header(&api.key, &Signed { verb: "POST", resource_type: rtype, resource_link: verb_link, date: &date })
            .context("key")?;
        let res = api
            .http
            .post(format!("{}{path}", api.endpoint))
            .header("authorization", auth)
            .header("x-ms-date", &date)
            .header("x-ms-offer-throughput", "1000000")
            .json(&body)
            .send()
            .await?;
        anyhow::ensure!(res.status().is_success(), "setup failed: {}", res.status());
    }

    let t = Instant::now();
    for i in 0..n {
        api.create(doc(i)).await?;
    }
    let single = n as f64 / t.elapsed().as_secs_f64();

    let api = std::sync::Arc::new(api);
    let t = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..8 {
        let api = api.clone();
        tasks.push(tokio::spawn(async move {
            let mut i = n + w;
            while i < 2 * n {
                api.create(doc(i)).await?;
                i += 8;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let concurrent = n as f64 / t.elapsed().as_secs_f64();
    shutdown.cancel();
    println!("REST API, 1 client:        {single:>9.0} item writes/s");
    println!("REST API, 8 clients:       {concurrent:>9.0} item writes/s");
    Ok(())
}

async fn fresh_db(dir: &tempfile::TempDir, name: &str) -> Result<DatabaseConnection> {
    use migrations::MigratorTrait;
    let db = Database::connect(format!("sqlite://{}?mode=rwc", dir.path().join(name).display())).await?;
    sea_orm::ConnectionTrait::execute_unprepared(&db, "PRAGMA journal_mode=WAL").await?;
    migrations::Migrator::up(&db, None).await?;
    Ok(db)
}

async fn change_log_overhead(n: usize) -> Result<()> {
    let dir = tempfile::tempdir()?;

    let db = fresh_db(&dir, "logged.db").await?;
    store::create_database(&db, "a", "bench", None).await?;
    let spec = ContainerSpec::from_body(&json!({"id": "items", "partitionKey": {"paths": ["/tenant"]}}))?;
    store::create_container(&db, "a", "bench", spec).await?;
    let t = Instant::now();
    for i in 0..n {
        store::write_item(&db, "a", "bench", "items", None, doc(i), WriteMode::Create).await?;
    }
    let logged = n as f64 / t.elapsed().as_secs_f64();

    // Reference: the same rows, one transaction each, no sequence and no log entry.
    let plain = fresh_db(&dir, "plain.db").await?;
    let t = Instant::now();
    for i in 0..n {
        let d = doc(i);
        let txn = plain.begin().await?;
        let row: item::ActiveModel = item::Model {
            container_rid: "c".into(),
            pk: json!([d["tenant"]]).to_string(),
            id: format!("item-{i}"),
            rid: format!("r{i}"),
            body: d.to_string(),
            ts: 0,
            etag: "\"e\"".into(),
            expires_at: None,
        }
        .into();
        row.insert(&txn).await?;
        txn.commit().await?;
    }
    let reference = n as f64 / t.elapsed().as_secs_f64();
    println!("engine write path + log:   {logged:>9.0} item writes/s");
    println!("reference, bare insert:    {reference:>9.0} item writes/s (plain sea-orm, same rows, no log)");
    println!("overhead (upper bound):    {:>9.1} %", (reference / logged - 1.0) * 100.0);
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    println!("Rewind item-write benchmark on SQLite, {n} items per run");
    rest(n).await?;
    change_log_overhead(n).await?;
    Ok(())
}
