//! Role definitions and assignments: custom roles grant exactly their actions; assignments made
//! above a scope show there as inherited.

use reqwest::StatusCode;

use crate::helpers::{TestApp, error_message, json_ok};

async fn user_with_role(app: &TestApp, name: &str, sub: &str, account_id: &str, role_id: &str) -> reqwest::Client {
    let client = app.new_user(name).await;
    app.assign(sub, account_id, name, role_id).await;
    client
}

async fn a_custom_role_grants_exactly_its_actions(app: TestApp) {
    app.login().await;
    let sub = app.subscription("Prod").await;
    let a = app.account(&sub, "keys-only").await;
    let account_id = a["id"].as_str().unwrap();

    let msg = error_message(
        app.call(
            "create_custom_role",
            &[("subscription_id", &sub), ("name", "Bad"), ("description", ""), ("actions", "accounts/read accounts/fly")],
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(msg.contains("accounts/fly"), "{msg}");
    let msg = error_message(
        app.call("create_custom_role", &[("subscription_id", &sub), ("name", "Owner"), ("description", ""), ("actions", "*")]).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(msg.contains("built-in"), "{msg}");

    let role = json_ok(
        app.call(
            "create_custom_role",
            &[
                ("subscription_id", &sub),
                ("name", "Key Reader"),
                ("description", "reads keys"),
                ("actions", "accounts/read, accounts/listKeys/action"),
            ],
        )
        .await,
    )
    .await;
    let role_id = role["id"].as_str().unwrap();
    let c = user_with_role(&app, "kr", &sub, account_id, role_id).await;
    json_ok(app.call_with(&c, "list_keys", &[("subscription_id", &sub), ("name", "keys-only")]).await).await;
    let msg = error_message(
        app.call_with(&c, "delete_account", &[("subscription_id", &sub), ("name", "keys-only")]).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(msg.contains("accounts/delete"), "{msg}");

    let msg =
        error_message(app.call("delete_custom_role", &[("subscription_id", &sub), ("role_id", role_id)]).await, StatusCode::CONFLICT).await;
    assert!(msg.contains("assigned"), "{msg}");
}

async fn assignments_above_a_scope_show_as_inherited(app: TestApp) {
    app.login().await;
    let sub = app.subscription("Prod").await;
    let a = app.account(&sub, "inherit").await;
    let account_id = a["id"].as_str().unwrap();
    user_with_role(&app, "subreader", &sub, "", "builtin:Reader").await;
    user_with_role(&app, "acctop", &sub, account_id, "builtin:Account Operator").await;

    let at_account = json_ok(app.call("list_role_assignments", &[("subscription_id", &sub), ("account_id", account_id)]).await).await;
    let rows = at_account.as_array().unwrap();
    let find = |user: &str| rows.iter().find(|r| r["user_name"] == user).cloned().unwrap();
    assert_eq!(find("admin")["inherited"], true);
    assert_eq!(find("admin")["scope_kind"], "root");
    assert_eq!(find("subreader")["inherited"], true);
    assert_eq!(find("acctop")["inherited"], false);

    let at_sub = json_ok(app.call("list_role_assignments", &[("subscription_id", &sub), ("account_id", "")]).await).await;
    assert!(at_sub.as_array().unwrap().iter().all(|r| r["user_name"] != "acctop"), "account assignments stay below");

    // Removing it at the wrong scope is refused; at its own scope it goes.
    let id = find("acctop")["id"].as_str().unwrap().to_owned();
    error_message(
        app.call("delete_role_assignment", &[("subscription_id", &sub), ("account_id", ""), ("assignment_id", &id)]).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    json_ok(app.call("delete_role_assignment", &[("subscription_id", &sub), ("account_id", account_id), ("assignment_id", &id)]).await)
        .await;

    let msg = error_message(
        app.call(
            "create_role_assignment",
            &[("subscription_id", &sub), ("account_id", ""), ("user_name", "nobody"), ("role_id", "builtin:Reader")],
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(msg.contains("nobody"), "{msg}");
}

async fn visibility_follows_assignments(app: TestApp) {
    app.login().await;
    let s1 = app.subscription("Visible").await;
    app.subscription("Hidden").await;
    let a = app.account(&s1, "seen").await;
    app.account(&s1, "unseen").await;
    let c = user_with_role(&app, "ro", &s1, a["id"].as_str().unwrap(), "builtin:Restore Operator").await;
    let subs = json_ok(app.call_with(&c, "list_subscriptions", &[]).await).await;
    let names: Vec<_> = subs.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Visible"]);
    let accounts = json_ok(app.call_with(&c, "list_accounts", &[("subscription_id", &s1)]).await).await;
    let names: Vec<_> = accounts.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["seen"]);
    let perms =
        json_ok(app.call_with(&c, "my_permissions", &[("subscription_id", &s1), ("account_id", a["id"].as_str().unwrap())]).await).await;
    let granted: Vec<_> = perms["granted"].as_array().unwrap().iter().map(|g| g.as_str().unwrap()).collect();
    assert!(granted.contains(&"restorableAccounts/restore/action"));
    assert!(!granted.contains(&"accounts/listKeys/action"));
}

crate::on_both_backends!(
    a_custom_role_grants_exactly_its_actions,
    assignments_above_a_scope_show_as_inherited,
    visibility_follows_assignments,
);
