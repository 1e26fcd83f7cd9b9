//! Sign-in throttling per user name and per client address.

use figment::Figment;
use figment::providers::Serialized;
use reqwest::StatusCode;

use crate::helpers::{ADMIN, ADMIN_PASSWORD, Backend, TestApp, error_message, spawn_app_with};

async fn repeated_failures_lock_the_user_out_with_a_retry_time(app: TestApp) {
    for _ in 0..5 {
        let res = app.call("login", &[("username", ADMIN), ("password", "wrong-password-1")]).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // Now even the right password is refused until the window ends.
    let res = app.call("login", &[("username", ADMIN), ("password", ADMIN_PASSWORD)]).await;
    let retry_after: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=300).contains(&retry_after), "{retry_after}");
    let msg = error_message(res, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(msg.contains("this user") && msg.contains("try again in"), "{msg}");
}

async fn one_address_guessing_many_names_is_throttled(app: TestApp) {
    for i in 0..4 {
        let res = app.call("login", &[("username", &format!("guess{i}")), ("password", "wrong-password-1")]).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = app.call("login", &[("username", "guess-next"), ("password", "whatever-pass")]).await;
    let msg = error_message(res, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(msg.contains("this address"), "{msg}");
}

async fn spawn_with_small_ip_limit(backend: Backend) -> TestApp {
    spawn_app_with(backend, Figment::new().merge(Serialized::default("login_failures_per_ip", 4))).await
}

crate::on_both_backends!(repeated_failures_lock_the_user_out_with_a_retry_time);

mod per_ip {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_one_address_guessing_many_names_is_throttled() {
        one_address_guessing_many_names_is_throttled(spawn_with_small_ip_limit(Backend::Sqlite).await).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_one_address_guessing_many_names_is_throttled() {
        one_address_guessing_many_names_is_throttled(spawn_with_small_ip_limit(Backend::Postgres).await).await
    }
}
