//! Customer-managed keys end to end: an account created with a key from the server's key
//! directory has its backup data key wrapped by it and restores; rotating to another key
//! rewraps the data key (the first key can then go) and restores still work; with the key
//! removed, a restore is refused before anything is filed, naming the key.

use base64::Engine;
use chrono::Utc;
use figment::Figment;
use figment::providers::Serialized;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

use crate::helpers::{Backend, TestApp, error_message, json_ok, spawn_app_with};
use crate::restore::{backed_up_through, contents, seed, stamp, wait_for_job};

fn write_key(dir: &std::path::Path, name: &str) {
    let bytes: [u8; 32] = rand::random();
    std::fs::write(dir.join(format!("{name}.key")), base64::engine::general_purpose::STANDARD.encode(bytes)).unwrap();
}

async fn restore(app: &TestApp, sub: &str, source: &str, target: &str) -> reqwest::Response {
    tokio::time::sleep(Duration::from_millis(20)).await;
    let at = stamp(Utc::now());
    backed_up_through(app, sub, "cmk", Utc::now()).await;
    let args =
        [("subscription_id", sub), ("source_account_id", source), ("restore_at", at.as_str()), ("target_name", target), ("resources", "")];
    app.call("start_restore", &args).await
}

async fn an_account_with_a_customer_key_restores_rotates_and_refuses_without_it(backend: Backend) {
    let keys = tempfile::tempdir().unwrap();
    write_key(keys.path(), "k1");
    write_key(keys.path(), "k2");
    let settings = Figment::new().merge(Serialized::default("customer_keys_dir", keys.path().display().to_string()));
    let app = spawn_app_with(backend, settings).await;
    app.login().await;
    let sub = app.subscription("S").await;
    assert_eq!(json_ok(app.call("list_customer_keys", &[("subscription_id", &sub)]).await).await, json!(["k1", "k2"]));

    // A key that is not there is refused by name, and nothing is made.
    let create = |name: &'static str, key: &'static str| {
        let sub = sub.clone();
        let app = &app;
        async move {
            let args = [
                ("subscription_id", sub.as_str()),
                ("name", name),
                ("region", "local"),
                ("mode", "Continuous7Days"),
                ("customer_key", key),
            ];
            app.call("create_account", &args).await
        }
    };
    let refused = error_message(create("nokey", "nope").await, StatusCode::BAD_REQUEST).await;
    assert!(refused.contains("\"nope\"") && refused.contains("not available"), "{refused}");
    assert_eq!(app.call("get_account", &[("subscription_id", &sub), ("name", "nokey")]).await.status(), StatusCode::NOT_FOUND);

    let account: Value = json_ok(create("cmk", "k1").await).await;
    assert_eq!((account["key_management"].clone(), account["customer_key"].clone()), (json!("CustomerManaged"), json!("k1")), "{account}");
    let id = account["id"].as_str().unwrap().to_owned();
    let wrapped_by = backup::entities::backup_key::Entity::find_by_id(id.clone());
    use sea_orm::EntityTrait;
    assert_eq!(wrapped_by.clone().one(&app.state.db).await.unwrap().unwrap().wrapped_by, "customer:k1");
    seed(&app, &id).await;
    let expected = contents(&app, &id).await;
    json_ok(restore(&app, &sub, &id, "cmk-copy").await).await;
    assert_eq!(wait_for_job(&app, &sub, "cmk-copy").await["state"], "Succeeded");
    let copy = json_ok(app.call("get_account", &[("subscription_id", &sub), ("name", "cmk-copy")]).await).await;
    assert_eq!(contents(&app, copy["id"].as_str().unwrap()).await, expected);

    // Rotation to k2, over the REST API: the data key is rewrapped, nothing re-encrypted; k1 can go.
    let token =
        json_ok(app.call("create_api_token", &[("name", "rotate"), ("days", "1")]).await).await["secret"].as_str().unwrap().to_owned();
    let rotated: Value = reqwest::Client::new()
        .post(format!("{}/api/v1/subscriptions/{sub}/accounts/cmk/rotateBackupKey", app.base))
        .bearer_auth(&token)
        .json(&json!({"customerKey": "k2"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rotated["customer_key"], "k2", "{rotated}");
    assert_eq!(wrapped_by.clone().one(&app.state.db).await.unwrap().unwrap().wrapped_by, "customer:k2");
    let key_objects = std::fs::read_dir(app.data_dir.join("backups/accounts").join(&id).join("keys")).unwrap().count();
    assert_eq!(key_objects, 2, "the rewrapped key is the account's next key object");
    std::fs::remove_file(keys.path().join("k1.key")).unwrap();
    json_ok(restore(&app, &sub, &id, "after-rotation").await).await;
    assert_eq!(wait_for_job(&app, &sub, "after-rotation").await["state"], "Succeeded");

    // Without its key, a restore is refused before anything is filed, naming the key.
    std::fs::remove_file(keys.path().join("k2.key")).unwrap();
    let refused = error_message(restore(&app, &sub, &id, "without-key").await, StatusCode::BAD_REQUEST).await;
    assert!(refused.contains("\"k2\"") && refused.contains("removed or revoked"), "{refused}");
    assert_eq!(app.call("get_account", &[("subscription_id", &sub), ("name", "without-key")]).await.status(), StatusCode::NOT_FOUND);
    let jobs = json_ok(app.call("list_restore_jobs", &[("subscription_id", &sub)]).await).await;
    assert!(jobs.as_array().unwrap().iter().all(|j| j["target_account_name"] != "without-key"), "{jobs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_an_account_with_a_customer_key_restores_rotates_and_refuses_without_it() {
    an_account_with_a_customer_key_restores_rotates_and_refuses_without_it(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_an_account_with_a_customer_key_restores_rotates_and_refuses_without_it() {
    an_account_with_a_customer_key_restores_rotates_and_refuses_without_it(Backend::Postgres).await;
}
