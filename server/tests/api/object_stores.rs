//! Backups in S3 (moto) and Azure Blob (Azurite) instead of a local folder: the restore tests
//! again, end to end — continuous backup shipped and restored to a second, and a periodic full
//! backup restored by approved request — with the server configured by `backup_url` and
//! `backup_options`, and the other emulator as the geo store. `scripts/emulators.sh` (run by the test command) starts both emulators.

use figment::Figment;
use figment::providers::Serialized;
use std::collections::BTreeMap;

use crate::helpers::{Backend, TestApp, spawn_app_with};
use crate::restore;

#[derive(Clone, Copy)]
enum Store {
    S3,
    Azure,
}

/// Where an emulator keeps a fresh prefix: its URL and options.
fn location(store: Store) -> (String, BTreeMap<&'static str, String>) {
    let prefix = format!("api-{:016x}", rand::random::<u64>());
    match store {
        Store::S3 => (
            format!("s3://rewind-tests/{prefix}"),
            BTreeMap::from([
                ("aws_endpoint", std::env::var("REWIND_TEST_S3_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:5000".into())),
                ("aws_region", "us-east-1".into()),
                ("aws_access_key_id", "test".into()),
                ("aws_secret_access_key", "test".into()),
                ("allow_http", "true".into()),
            ]),
        ),
        Store::Azure => (format!("az://rewind-tests/{prefix}"), BTreeMap::from([("azure_storage_use_emulator", "true".into())])),
    }
}

/// A server backing up into `store`, with the other emulator as its geo store (accounts are
/// geo-redundant by default, so every object goes to both).
async fn backed_up_in(store: Store) -> TestApp {
    let other = match store {
        Store::S3 => Store::Azure,
        Store::Azure => Store::S3,
    };
    let ((url, options), (geo_url, geo_options)) = (location(store), location(other));
    let app = spawn_app_with(
        Backend::Sqlite,
        Figment::new()
            .merge(Serialized::default("backup_url", &url))
            .merge(Serialized::default("backup_options", options))
            .merge(Serialized::default("backup_geo_url", &geo_url))
            .merge(Serialized::default("backup_geo_options", geo_options)),
    )
    .await;
    assert_eq!(app.state.backup_storage.label(), url);
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_continuous_backup_restores_exactly() {
    restore::a_restore_brings_back_exactly_the_state_at_the_restore_time(backed_up_in(Store::S3).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_periodic_backup_restores_by_request() {
    restore::periodic_backups_are_restored_by_approved_request(backed_up_in(Store::S3).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_continuous_backup_restores_exactly() {
    restore::a_restore_brings_back_exactly_the_state_at_the_restore_time(backed_up_in(Store::Azure).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_periodic_backup_restores_by_request() {
    restore::periodic_backups_are_restored_by_approved_request(backed_up_in(Store::Azure).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_whose_backup_storage_is_unusable_does_not_start() {
    let refused = |url: &'static str, option: (&'static str, &'static str)| async move {
        let dir = tempfile::tempdir().unwrap();
        let figment = Figment::new()
            .merge(Serialized::default("bind", "127.0.0.1:0"))
            .merge(Serialized::default("data_dir", dir.path().display().to_string()))
            .merge(Serialized::default("admin_password", "admin-password-for-tests"))
            .merge(Serialized::default("backup_url", url))
            .merge(Serialized::default("backup_options", BTreeMap::from([option])));
        let settings = rewind_server::Settings::from_figment(figment).unwrap();
        rewind_server::Application::build(settings).await.err().expect("the server started").to_string()
    };
    let e = refused("az://no-such-container/x", ("azure_storage_use_emulator", "true")).await;
    assert!(e.contains("az://no-such-container/x"), "{e}");
    let e = refused("s3://rewind-tests/x", ("aws_secret_acces_key", "k")).await;
    assert!(e.contains("unknown option \"aws_secret_acces_key\""), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_second_store_only_local_redundancy_is_offered() {
    let (url, options) = location(Store::S3);
    let app = spawn_app_with(
        Backend::Sqlite,
        Figment::new().merge(Serialized::default("backup_url", &url)).merge(Serialized::default("backup_options", options)),
    )
    .await;
    app.login().await;
    let sub = app.subscription("S").await;
    let create = |name: &'static str, redundancy: &'static str| {
        let args = [
            ("subscription_id", sub.as_str()),
            ("name", name),
            ("region", "local"),
            ("mode", "Continuous7Days"),
            ("redundancy", redundancy),
        ]
        .map(|(k, v)| (k, v.to_owned()));
        let (client, url) = (app.client.clone(), format!("{}/api/create_account", app.base));
        async move { client.post(url).form(&args).send().await.unwrap() }
    };
    let m = crate::helpers::error_message(create("geo", "Geo").await, reqwest::StatusCode::BAD_REQUEST).await;
    assert!(m.contains("backup_geo_url"), "{m}");
    let m = crate::helpers::error_message(create("zone", "Zone").await, reqwest::StatusCode::BAD_REQUEST).await;
    assert!(m.contains("backup_zone_url"), "{m}");
    crate::helpers::json_ok(create("local", "Local").await).await;
}
