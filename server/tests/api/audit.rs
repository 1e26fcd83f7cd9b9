//! The audit log: what gets recorded, filtering, and the hash chain catching tampering.

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DatabaseBackend};

use crate::helpers::{TestApp, error_message, json_ok, new_client};

async fn audit(app: &TestApp, filters: &[(&str, &str)]) -> Vec<serde_json::Value> {
    let mut args = vec![("subscription_id", ""), ("from", ""), ("to", ""), ("user", ""), ("action", ""), ("outcome", "")];
    for (k, v) in filters {
        args.retain(|(ak, _)| ak != k);
        args.push((k, v));
    }
    json_ok(app.call("list_audit", &args).await).await.as_array().unwrap().clone()
}

async fn changes_sign_ins_and_denials_are_recorded(app: TestApp) {
    app.login().await;
    let sub = app.subscription("Audited").await;
    app.account(&sub, "audited-acct").await;
    let m = app.new_user("mallory").await;
    let msg = error_message(
        app.call_with(&m, "delete_account", &[("subscription_id", &sub), ("name", "audited-acct")]).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(msg.contains("subscriptions/read") || msg.contains("accounts/delete"), "{msg}");

    let all = audit(&app, &[]).await;
    let actions: Vec<&str> = all.iter().map(|e| e["action"].as_str().unwrap()).collect();
    for expected in ["auth/login", "subscriptions/write", "accounts/write", "users/write", "auth/changePassword"] {
        assert!(actions.contains(&expected), "{expected} missing from {actions:?}");
    }
    let denied = audit(&app, &[("outcome", "denied"), ("user", "mallory")]).await;
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert!(denied[0]["client_ip"].as_str().unwrap().starts_with("127.0.0.1"));
    let accounts_only = audit(&app, &[("action", "accounts/*")]).await;
    assert!(accounts_only.iter().all(|e| e["action"].as_str().unwrap().starts_with("accounts/")));
    let msg = error_message(
        app.call(
            "list_audit",
            &[("subscription_id", ""), ("from", "last week"), ("to", ""), ("user", ""), ("action", ""), ("outcome", "")],
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(msg.contains("from"), "{msg}");
    let msg = error_message(
        app.call("list_audit", &[("subscription_id", ""), ("from", ""), ("to", ""), ("user", ""), ("action", ""), ("outcome", "maybe")])
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(msg.contains("outcome must be succeeded, failed or denied"), "{msg}");
}

async fn the_database_refuses_to_change_or_delete_audit_rows(app: TestApp) {
    app.login().await;
    let db = &app.state.db;
    assert!(db.execute_unprepared("UPDATE audit_log SET detail = 'edited'").await.is_err());
    assert!(db.execute_unprepared("DELETE FROM audit_log").await.is_err());
}

async fn the_chain_detects_a_row_altered_behind_the_applications_back(app: TestApp) {
    app.login().await;
    app.subscription("One").await;
    app.subscription("Two").await;
    let report = json_ok(app.call("verify_audit_chain", &[]).await).await;
    assert!(report["problem"].is_null(), "{report}");
    assert!(report["rows_checked"].as_u64().unwrap() >= 3);

    // Someone with database access removes the guard and edits a row.
    let db = &app.state.db;
    let drop_guard = match db.get_database_backend() {
        DatabaseBackend::Postgres => "DROP TRIGGER audit_log_append_only ON audit_log",
        _ => "DROP TRIGGER audit_log_no_update",
    };
    db.execute_unprepared(drop_guard).await.unwrap();
    db.execute_unprepared("UPDATE audit_log SET user_name = 'someone-else' WHERE seq = 2").await.unwrap();

    let report = json_ok(app.call("verify_audit_chain", &[]).await).await;
    assert_eq!(report["problem"][0], 2, "{report}");
    assert!(report["problem"][1].as_str().unwrap().contains("altered"), "{report}");
}

async fn the_chain_detects_a_deleted_row(app: TestApp) {
    app.login().await;
    app.subscription("One").await;
    let db = &app.state.db;
    let drop_guard = match db.get_database_backend() {
        DatabaseBackend::Postgres => "DROP TRIGGER audit_log_append_only ON audit_log",
        _ => "DROP TRIGGER audit_log_no_delete",
    };
    db.execute_unprepared(drop_guard).await.unwrap();
    db.execute_unprepared("DELETE FROM audit_log WHERE seq = 1").await.unwrap();
    let report = json_ok(app.call("verify_audit_chain", &[]).await).await;
    assert_eq!(report["problem"][0], 2, "{report}");
    assert!(report["problem"][1].as_str().unwrap().contains("missing"), "{report}");
}

async fn the_log_exports_as_csv_and_json_to_readers_only(app: TestApp) {
    app.login().await;
    app.subscription("Exported, \"quoted\"").await;
    let res = app.client.get(format!("{}/audit/export?format=csv&action=subscriptions/*", app.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("rewind-audit.csv"));
    let csv = res.text().await.unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("seq,time,user,client_ip,action,scope,resource,outcome,detail"));
    let row = lines.next().unwrap();
    assert!(row.contains("subscriptions/write") && row.contains("\"\"quoted\"\""), "{row}");
    assert_eq!(lines.next(), None, "the action filter applies");

    let res = app.client.get(format!("{}/audit/export?format=json&outcome=succeeded", app.base)).send().await.unwrap();
    let entries: Vec<serde_json::Value> = res.json().await.unwrap();
    assert!(entries.iter().all(|e| e["outcome"] == "succeeded") && !entries.is_empty());

    let res = app.client.get(format!("{}/audit/export?format=xml", app.base)).send().await.unwrap();
    assert!(error_message(res, StatusCode::BAD_REQUEST).await.contains("format"));

    let n = app.new_user("nosy").await;
    let res = n.get(format!("{}/audit/export?format=csv", app.base)).send().await.unwrap();
    assert!(error_message(res, StatusCode::FORBIDDEN).await.contains("auditLog/read"));
    let res = new_client().get(format!("{}/audit/export", app.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

crate::on_both_backends!(
    the_log_exports_as_csv_and_json_to_readers_only,
    changes_sign_ins_and_denials_are_recorded,
    the_database_refuses_to_change_or_delete_audit_rows,
    the_chain_detects_a_row_altered_behind_the_applications_back,
    the_chain_detects_a_deleted_row,
);
