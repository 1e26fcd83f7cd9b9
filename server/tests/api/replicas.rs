//! Two replicas on one PostgreSQL database and one backup store: this test's server and a second
//! `rewind` process on the same database, master key and backup folder. Items are written through
//! both; wrong passwords spread over both run into one sign-in limit; the periodic schedule backs
//! an account up once between them; the second replica is
//! killed (SIGKILL: no lease given back) while shipping goes on, and the first carries on within
//! the shipping lease, restores exact; then the second runs a restore alone and is killed in the
//! middle of it, and the first, started again, takes the job over once its lease runs out, cleans
//! up what was written and runs it once to an exact copy.

use std::path::Path;
use std::time::Duration;

use backup::entities::backup_point;
use chrono::Utc;
use figment::Figment;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::cosmos::Cosmos;
use crate::helpers::{ADMIN, ADMIN_PASSWORD, PgDatabase, TestApp, json_ok, spawn_app_at};
use crate::restore::{backed_up_through, contents, stamp, wait_for_job};

/// A second replica: the `rewind` binary serving on its own port and data folder, sharing the
/// first's database, master key and backup folder.
struct Replica {
    child: std::process::Child,
    base: String,
    _data: tempfile::TempDir,
}

impl Replica {
    #[allow(clippy::zombie_processes)] // `kill` waits for it; a test that fails before leaves it to the runner's end
    async fn start(pg_url: &str, shared: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let data = tempfile::tempdir().unwrap();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_rewind"))
            .env("REWIND_BIND", format!("127.0.0.1:{port}"))
            .env("REWIND_DATA_DIR", data.path())
            .env("REWIND_DATABASE_URL", pg_url)
            .env("REWIND_BACKUP_DIR", shared.join("backups"))
            .env("REWIND_MASTER_KEY_FILE", shared.join("master.key"))
            .env("REWIND_ADMIN_USER", ADMIN)
            .env("REWIND_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("REWIND_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..300 {
            if reqwest::get(format!("{base}/login")).await.is_ok_and(|r| r.status() == StatusCode::OK) {
                return Self { child, base, _data: data };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the second replica did not start within 30 s");
    }

    /// SIGKILL: it stops at once, renewing and giving back nothing.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

async fn write(c: &Cosmos, i: usize) {
    let doc = json!({"id": format!("i{i:05}"), "t": format!("t{}", i % 4), "pad": "x".repeat(200)});
    let res = c.post("dbs/shop/colls/orders/docs", &[("x-ms-documentdb-partitionkey", &format!("[\"t{}\"]", i % 4))], &doc).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap_or_default());
}

async fn restored_contents(app: &TestApp, sub: &str, name: &str) -> crate::restore::Items {
    let account = json_ok(app.call("get_account", &[("subscription_id", sub), ("name", name)]).await).await;
    contents(app, account["id"].as_str().unwrap()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_replicas_share_the_work_and_take_over_a_dead_ones() {
    let pg = PgDatabase::create().await;
    let pg_url = pg.url.clone();
    let a = spawn_app_at(tempfile::tempdir().unwrap(), Some(pg), Figment::new()).await;
    a.login().await;
    let sub = a.subscription("S").await;
    let args = [("subscription_id", sub.as_str()), ("name", "cont"), ("region", "local"), ("mode", "Continuous7Days")];
    let cont = json_ok(a.call("create_account", &args).await).await["id"].as_str().unwrap().to_owned();
    let per = a.account(&sub, "per").await["id"].as_str().unwrap().to_owned();
    let b = Replica::start(&pg_url, &a.data_dir).await;

    // Writes through both replicas' data planes.
    let via_a = Cosmos::for_account(&a, &sub, "cont", "primaryMasterKey").await;
    let via_b = via_a.at(&b.base);
    assert_eq!(via_b.post("dbs", &[], &json!({"id": "shop"})).await.status(), StatusCode::CREATED);
    let coll = json!({"id": "orders", "partitionKey": {"paths": ["/t"], "kind": "Hash"}});
    assert_eq!(via_a.post("dbs/shop/colls", &[], &coll).await.status(), StatusCode::CREATED);
    for i in 0..200 {
        write(if i % 2 == 0 { &via_a } else { &via_b }, i).await;
    }

    // Sign-in limits are the deployment's, not each replica's: five wrong passwords for one
    // user (one that does not exist: counted all the same), spread over both, and the sixth is
    // refused on either.
    let guess = |base: String| async move {
        let form = [("username", "ghost"), ("password", "not-the-password")];
        reqwest::Client::new().post(format!("{base}/api/login")).form(&form).send().await.unwrap().status()
    };
    for i in 0..5 {
        let base = if i % 2 == 0 { a.base.clone() } else { b.base.clone() };
        assert_eq!(guess(base).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(guess(b.base.clone()).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(guess(a.base.clone()).await, StatusCode::TOO_MANY_REQUESTS);

    // The periodic schedule: one backup at the account's creation, however many replicas look.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let points = backup_point::Entity::find().filter(backup_point::Column::AccountId.eq(&per)).count(&a.state.db).await.unwrap();
    assert_eq!(points, 1, "one periodic backup between the two replicas");

    // The second replica dies while shipping goes on; the first ships on within the lease.
    b.kill();
    for i in 200..240 {
        write(&via_a, i).await;
    }
    let expected = contents(&a, &cont).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let t = Utc::now();
    backed_up_through(&a, &sub, "cont", t).await;
    let args = [
        ("subscription_id", sub.as_str()),
        ("source_account_id", &cont),
        ("restore_at", &stamp(t)),
        ("target_name", "after-kill"),
        ("resources", ""),
    ];
    json_ok(a.call("start_restore", &args).await).await;
    assert_eq!(wait_for_job(&a, &sub, "after-kill").await["state"], "Succeeded");
    assert_eq!(restored_contents(&a, &sub, "after-kill").await, expected);

    // A larger account, then a restore that only the second replica can claim: the first stops.
    let docs: Vec<Value> =
        (0..20_000).map(|i| json!({"id": format!("b{i:06}"), "t": format!("t{}", i % 8), "pad": "y".repeat(600)})).collect();
    for part in docs.chunks(2_000) {
        engine::store::import_items(&a.state.db, &cont, "shop", "orders", part.to_vec(), engine::store::ImportLog::Logged).await.unwrap();
    }
    let expected = contents(&a, &cont).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let t = Utc::now();
    backed_up_through(&a, &sub, "cont", t).await;
    let client = a.client.clone();
    let (data, pg) = a.stop_keeping_database().await;
    let b = Replica::start(&pg_url, data.path()).await;
    let args = [
        ("subscription_id", sub.as_str()),
        ("source_account_id", &cont),
        ("restore_at", &stamp(t)),
        ("target_name", "big-copy"),
        ("resources", ""),
    ];
    let filed = client.post(format!("{}/api/start_restore", b.base)).form(&args).send().await.unwrap();
    assert_eq!(filed.status(), StatusCode::OK, "{}", filed.text().await.unwrap_or_default());
    let mut running = false;
    for _ in 0..600 {
        let jobs: Value = client
            .post(format!("{}/api/list_restore_jobs", b.base))
            .form(&[("subscription_id", &sub)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let job = jobs.as_array().unwrap().iter().find(|j| j["target_account_name"] == "big-copy").cloned().unwrap();
        assert_ne!(job["state"], "Succeeded", "the restore ended before the replica could be killed in it");
        if job["state"] == "Running" {
            running = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(running, "the second replica never got the restore going");
    tokio::time::sleep(Duration::from_millis(300)).await;
    b.kill();

    // The first replica again: it waits out the dead one's lease, takes the job over, runs it once.
    let a = spawn_app_at(data, pg, Figment::new()).await;
    a.login().await;
    let jobs = json_ok(a.call("list_restore_jobs", &[("subscription_id", &sub)]).await).await;
    let job = jobs.as_array().unwrap().iter().find(|j| j["target_account_name"] == "big-copy").cloned().unwrap();
    assert_eq!(job["state"], "Running", "killed in the middle of the restore: {job}");
    let mut done = Value::Null;
    for _ in 0..900 {
        let jobs = json_ok(a.call("list_restore_jobs", &[("subscription_id", &sub)]).await).await;
        let job = jobs.as_array().unwrap().iter().find(|j| j["target_account_name"] == "big-copy").cloned().unwrap();
        if matches!(job["state"].as_str(), Some("Succeeded" | "Failed")) {
            done = job;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(done["state"], "Succeeded", "{done}");
    assert_eq!(restored_contents(&a, &sub, "big-copy").await, expected, "exact, nothing twice");
}
