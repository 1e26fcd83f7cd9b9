//! Cross-site request forgery: a browser request from another site cannot change anything.

use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::helpers::{TestApp, error_message, json_ok};

async fn a_cross_site_post_is_refused_and_changes_nothing(app: TestApp) {
    app.login().await;
    let res = app
        .client
        .post(format!("{}/api/create_subscription", app.base))
        .header("sec-fetch-site", "cross-site")
        .header("origin", "https://evil.example")
        .form(&[("name", "forged")])
        .send()
        .await
        .unwrap();
    let msg = error_message(res, StatusCode::FORBIDDEN).await;
    assert!(msg.contains("cross-site request refused"), "{msg}");
    let count = control::db::subscription::Entity::find().count(&app.state.db).await.unwrap();
    assert_eq!(count, 0);
}

async fn a_foreign_origin_without_fetch_metadata_is_refused(app: TestApp) {
    app.login().await;
    let res = app.client.post(format!("{}/api/logout", app.base)).header("origin", "https://evil.example").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Still signed in: the forged sign-out did not happen.
    assert!(!json_ok(app.call("current_user", &[]).await).await.is_null());
}

async fn same_origin_requests_pass(app: TestApp) {
    app.login().await;
    let res = app
        .client
        .post(format!("{}/api/create_subscription", app.base))
        .header("sec-fetch-site", "same-origin")
        .header("origin", app.base.clone())
        .form(&[("name", "legit")])
        .send()
        .await
        .unwrap();
    assert_eq!(json_ok(res).await["name"], "legit");
}

crate::on_both_backends!(
    a_cross_site_post_is_refused_and_changes_nothing,
    a_foreign_origin_without_fetch_metadata_is_refused,
    same_origin_requests_pass,
);
