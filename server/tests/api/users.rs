//! Users: created by an Owner, must change their first password, can be disabled at once.

use reqwest::StatusCode;

use crate::helpers::{TestApp, error_message, json_ok, new_client};

async fn a_new_user_must_change_the_first_password_before_anything_else(app: TestApp) {
    app.login().await;
    let u = json_ok(app.call("create_user", &[("name", "carol"), ("password", "first-password-1")]).await).await;
    assert_eq!(u["must_change_password"], true);
    let c = new_client();
    json_ok(app.call_with(&c, "login", &[("username", "carol"), ("password", "first-password-1")]).await).await;
    let msg = error_message(app.call_with(&c, "list_subscriptions", &[]).await, StatusCode::FORBIDDEN).await;
    assert!(msg.contains("change your password"), "{msg}");
    json_ok(
        app.call_with(
            &c,
            "change_password",
            &[("current", "first-password-1"), ("new", "second-password-2"), ("confirm", "second-password-2")],
        )
        .await,
    )
    .await;
    let subs = json_ok(app.call_with(&c, "list_subscriptions", &[]).await).await;
    assert!(subs.as_array().unwrap().is_empty(), "no roles, nothing visible: {subs}");
}

async fn user_input_is_validated(app: TestApp) {
    app.login().await;
    let msg =
        error_message(app.call("create_user", &[("name", "bad name"), ("password", "long-enough-pass")]).await, StatusCode::BAD_REQUEST)
            .await;
    assert!(msg.contains("user name"), "{msg}");
    let msg = error_message(app.call("create_user", &[("name", "dave"), ("password", "short")]).await, StatusCode::BAD_REQUEST).await;
    assert!(msg.contains("12"), "{msg}");
    json_ok(app.call("create_user", &[("name", "dave"), ("password", "long-enough-pass")]).await).await;
    let msg =
        error_message(app.call("create_user", &[("name", "dave"), ("password", "long-enough-pass")]).await, StatusCode::CONFLICT).await;
    assert!(msg.contains("already exists"), "{msg}");
}

async fn disabling_a_user_ends_their_sessions_at_once(app: TestApp) {
    app.login().await;
    json_ok(app.call("create_user", &[("name", "erin"), ("password", "first-password-1")]).await).await;
    let e = new_client();
    json_ok(app.call_with(&e, "login", &[("username", "erin"), ("password", "first-password-1")]).await).await;
    assert!(!json_ok(app.call_with(&e, "current_user", &[]).await).await.is_null());

    json_ok(app.call("set_user_disabled", &[("name", "erin"), ("disabled", "true")]).await).await;
    assert!(json_ok(app.call_with(&e, "current_user", &[]).await).await.is_null());
    let res = app.call_with(&new_client(), "login", &[("username", "erin"), ("password", "first-password-1")]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    json_ok(app.call("set_user_disabled", &[("name", "erin"), ("disabled", "false")]).await).await;
    json_ok(app.call_with(&new_client(), "login", &[("username", "erin"), ("password", "first-password-1")]).await).await;

    let msg = error_message(app.call("set_user_disabled", &[("name", "admin"), ("disabled", "true")]).await, StatusCode::CONFLICT).await;
    assert!(msg.contains("yourself"), "{msg}");
}

crate::on_both_backends!(
    a_new_user_must_change_the_first_password_before_anything_else,
    user_input_is_validated,
    disabling_a_user_ends_their_sessions_at_once,
);
