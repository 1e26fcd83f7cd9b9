//! Sign-in, sessions, sign-out and password changes over HTTP.

use reqwest::StatusCode;
use reqwest::header::{COOKIE, SET_COOKIE};

use crate::helpers::{ADMIN, ADMIN_PASSWORD, TestApp, error_message, json_ok, new_client};

async fn signing_in_sets_a_strict_http_only_session_cookie(app: TestApp) {
    let res = app.call("login", &[("username", ADMIN), ("password", ADMIN_PASSWORD)]).await;
    let cookie = res.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("rewind_session="), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "{attr} missing: {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain-HTTP portal must not mark the cookie Secure");
    let me = json_ok(app.call("current_user", &[]).await).await;
    assert_eq!(me["name"], ADMIN);
}

async fn a_wrong_password_and_an_unknown_user_get_the_same_answer(app: TestApp) {
    let wrong =
        error_message(app.call("login", &[("username", ADMIN), ("password", "wrong-password-123")]).await, StatusCode::UNAUTHORIZED).await;
    let unknown =
        error_message(app.call("login", &[("username", "nobody"), ("password", "wrong-password-123")]).await, StatusCode::UNAUTHORIZED)
            .await;
    assert_eq!(wrong, "wrong user name or password");
    assert_eq!(wrong, unknown);
}

async fn the_session_id_rotates_at_sign_in_and_the_old_one_dies(app: TestApp) {
    let first = session_token(&app, &new_client()).await;
    // Sign in again presenting the first cookie: it must be replaced, not reused.
    let res = new_client()
        .post(format!("{}/api/login", app.base))
        .header(COOKIE, format!("rewind_session={first}"))
        .form(&[("username", ADMIN), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    let second = token_from(&res);
    assert_ne!(first, second);
    assert!(!is_signed_in(&app, &first).await, "the pre-login session must end");
    assert!(is_signed_in(&app, &second).await);
}

async fn signing_out_ends_the_session_on_the_server(app: TestApp) {
    let client = new_client();
    let token = session_token(&app, &client).await;
    assert!(is_signed_in(&app, &token).await);
    let res = app.call_with(&client, "logout", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()[SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    // Even a client that kept the cookie is signed out.
    assert!(!is_signed_in(&app, &token).await);
    let res = app
        .client
        .post(format!("{}/api/list_subscriptions", app.base))
        .header(COOKIE, format!("rewind_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

async fn pages_send_signed_out_visitors_to_sign_in(app: TestApp) {
    let res = app.client.get(format!("{}/subscriptions", app.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/login");
    app.login().await;
    let res = app.client.get(format!("{}/subscriptions", app.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.client.get(format!("{}/login", app.base)).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/subscriptions");
}

async fn server_functions_refuse_requests_without_a_session(app: TestApp) {
    for f in ["list_subscriptions", "create_subscription", "list_accounts", "delete_account"] {
        let res = app.call(f, &[("name", "x"), ("subscription_id", "x")]).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{f}");
    }
}

async fn a_user_can_change_their_password_and_other_sessions_end(app: TestApp) {
    let other = new_client();
    let other_token = session_token(&app, &other).await;
    app.login().await;

    let new = "a-much-better-password-42";
    let msg = error_message(
        app.call("change_password", &[("current", "wrong-current-pw"), ("new", new), ("confirm", new)]).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(msg.contains("current password is wrong"), "{msg}");
    let msg = error_message(
        app.call("change_password", &[("current", ADMIN_PASSWORD), ("new", new), ("confirm", "different-password-1")]).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(msg.contains("differ"), "{msg}");
    let msg = error_message(
        app.call("change_password", &[("current", ADMIN_PASSWORD), ("new", "short"), ("confirm", "short")]).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(msg.contains("at least 12"), "{msg}");

    json_ok(app.call("change_password", &[("current", ADMIN_PASSWORD), ("new", new), ("confirm", new)]).await).await;
    assert!(!is_signed_in(&app, &other_token).await, "other sessions end");
    json_ok(app.call("current_user", &[]).await).await; // this one lives on
    let res = app.call_with(&new_client(), "login", &[("username", ADMIN), ("password", ADMIN_PASSWORD)]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app.call_with(&new_client(), "login", &[("username", ADMIN), ("password", new)]).await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn session_token(app: &TestApp, client: &reqwest::Client) -> String {
    let res = app.call_with(client, "login", &[("username", ADMIN), ("password", ADMIN_PASSWORD)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    token_from(&res)
}

fn token_from(res: &reqwest::Response) -> String {
    let cookie = res.headers()[SET_COOKIE].to_str().unwrap();
    cookie.strip_prefix("rewind_session=").and_then(|rest| rest.split(';').next()).unwrap().to_owned()
}

async fn is_signed_in(app: &TestApp, token: &str) -> bool {
    let res =
        new_client().post(format!("{}/api/current_user", app.base)).header(COOKIE, format!("rewind_session={token}")).send().await.unwrap();
    !json_ok(res).await.is_null()
}

crate::on_both_backends!(
    signing_in_sets_a_strict_http_only_session_cookie,
    a_wrong_password_and_an_unknown_user_get_the_same_answer,
    the_session_id_rotates_at_sign_in_and_the_old_one_dies,
    signing_out_ends_the_session_on_the_server,
    pages_send_signed_out_visitors_to_sign_in,
    server_functions_refuse_requests_without_a_session,
    a_user_can_change_their_password_and_other_sessions_end,
);
