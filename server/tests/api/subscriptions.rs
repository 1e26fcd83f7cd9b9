//! Subscriptions: create, list, rename, with names validated and unique.

use reqwest::StatusCode;

use crate::helpers::{TestApp, error_message, json_ok};

async fn subscriptions_are_created_listed_and_renamed(app: TestApp) {
    app.login().await;
    let id = app.subscription("Production").await;
    app.subscription("Analytics").await;
    let list = json_ok(app.call("list_subscriptions", &[]).await).await;
    let names: Vec<_> = list.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Analytics", "Production"]);

    let renamed = json_ok(app.call("rename_subscription", &[("id", &id), ("name", "Prod (EU)")]).await).await;
    assert_eq!(renamed["name"], "Prod (EU)");
    let got = json_ok(app.call("get_subscription", &[("id", &id)]).await).await;
    assert_eq!(got["name"], "Prod (EU)");
    assert_eq!(got["account_count"], 0);
}

async fn subscription_names_are_validated_and_unique(app: TestApp) {
    app.login().await;
    app.subscription("Production").await;
    let msg = error_message(app.call("create_subscription", &[("name", "Production")]).await, StatusCode::CONFLICT).await;
    assert!(msg.contains("already exists"), "{msg}");
    let msg = error_message(app.call("create_subscription", &[("name", "   ")]).await, StatusCode::BAD_REQUEST).await;
    assert!(msg.contains("must not be empty"), "{msg}");
    let long = "x".repeat(65);
    let msg = error_message(app.call("create_subscription", &[("name", &long)]).await, StatusCode::BAD_REQUEST).await;
    assert!(msg.contains("at most 64"), "{msg}");

    let other = app.subscription("Staging").await;
    let msg = error_message(app.call("rename_subscription", &[("id", &other), ("name", "Production")]).await, StatusCode::CONFLICT).await;
    assert!(msg.contains("already exists"), "{msg}");
    let msg = error_message(app.call("rename_subscription", &[("id", "no-such-id"), ("name", "X")]).await, StatusCode::NOT_FOUND).await;
    assert!(msg.contains("not found"), "{msg}");
}

crate::on_both_backends!(subscriptions_are_created_listed_and_renamed, subscription_names_are_validated_and_unique,);
