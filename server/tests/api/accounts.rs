//! Database accounts: create with a backup policy, list, view, keys, soft delete.

use base64::Engine;
use reqwest::StatusCode;
use sea_orm::EntityTrait;

use crate::helpers::{TestApp, error_message, json_ok};

async fn an_account_is_created_with_the_default_periodic_policy(app: TestApp) {
    app.login().await;
    let sub = app.subscription("Prod").await;
    let a = app.account(&sub, "orders-prod").await;
    assert_eq!(a["name"], "orders-prod");
    assert_eq!(a["state"], "Online");
    assert_eq!(a["region"], "West Europe");
    assert_eq!(a["api_kind"], "Sql");
    assert_eq!(a["key_management"], "ServiceManaged");
    assert_eq!(a["create_mode"], "Default");
    assert!(a["deleted_at"].is_null());
    let p = &a["backup_policy"];
    assert_eq!(p["type"], "Periodic");
    assert_eq!(p["interval_hours"], 4);
    assert_eq!(p["retention_hours"], 8);
    assert_eq!(p["redundancy"], "Geo");
    assert_eq!(a["endpoint"], format!("{}/cosmos/orders-prod/", app.base));

    let list = json_ok(app.call("list_accounts", &[("subscription_id", &sub)]).await).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let got = json_ok(app.call("get_account", &[("subscription_id", &sub), ("name", "orders-prod")]).await).await;
    assert_eq!(got["id"], a["id"]);
}

async fn continuous_and_custom_periodic_policies_are_kept(app: TestApp) {
    app.login().await;
    let sub = app.subscription("Prod").await;
    let c = json_ok(
        app.call(
            "create_account",
            &[("subscription_id", &sub), ("name", "events"), ("region", "local"), ("mode", "Continuous30Days"), ("redundancy", "Zone")],
        )
        .await,
    )
    .await;
    assert_eq!(c["backup_policy"]["type"], "Continuous");
    assert_eq!(c["backup_policy"]["tier"], "Continuous30Days");
    assert_eq!(c["backup_policy"]["redundancy"], "Zone");
    let p = json_ok(
        app.call(
            "create_account",
            &[
                ("subscription_id", &sub),
                ("name", "ledger"),
                ("region", "local"),
                ("mode", "Periodic"),
                ("interval_hours", "12"),
                ("retention_hours", "48"),
                ("redundancy", "Local"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(p["backup_policy"]["interval_hours"], 12);
    assert_eq!(p["backup_policy"]["retention_hours"], 48);
}

async fn bad_account_input_is_refused_with_the_rule_named(app: TestApp) {
    app.login().await;
    let sub = app.subscription("Prod").await;
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("name", "ab")], "3 to 44"),
        (&[("name", "Orders")], "lowercase"),
        (&[("name", "-orders")], "hyphen"),
        (&[("name", "orders"), ("region", "eu/west")], "region"),
        (&[("name", "orders"), ("mode", "Weekly")], "backup mode"),
        (&[("name", "orders"), ("interval_hours", "30")], "between 1 and 24"),
        (&[("name", "orders"), ("interval_hours", "6"), ("retention_hours", "8")], "at least twice"),
        (&[("name", "orders"), ("retention_hours", "1000")], "at most 720"),
        (&[("name", "orders"), ("redundancy", "Moon")], "redundancy"),
    ];
    for (fields, expected) in cases {
        let mut args = vec![("subscription_id", sub.as_str()), ("region", "local"), ("mode", "")];
        for (k, v) in fields.iter() {
            args.retain(|(ak, _)| ak != k);
            args.push((k, v));
        }
        let msg = error_message(app.call("create_account", &args).await, StatusCode::BAD_REQUEST).await;
        assert!(msg.contains(expected), "{fields:?}: {msg}");
    }
    let list = json_ok(app.call("list_accounts", &[("subscription_id", &sub)]).await).await;
    assert!(list.as_array().unwrap().is_empty(), "nothing half-created");

    let msg = error_message(
        app.call("create_account", &[("subscription_id", "nope"), ("name", "orders"), ("region", "x"), ("mode", "")]).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(msg.contains("subscription"), "{msg}");
}

async fn live_account_names_are_unique(app: TestApp) {
    app.login().await;
    let a = app.subscription("A").await;
    let b = app.subscription("B").await;
    app.account(&a, "shared-name").await;
    for sub in [&a, &b] {
        let msg = error_message(
            app.call("create_account", &[("subscription_id", sub), ("name", "shared-name"), ("region", "x"), ("mode", "")]).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert!(msg.contains("already exists"), "{msg}");
    }
}

async fn keys_are_64_random_bytes_and_stored_sealed(app: TestApp) {
    app.login().await;
    let sub = app.subscription("Prod").await;
    let a = app.account(&sub, "keyed").await;
    app.account(&sub, "keyed-too").await;
    let keys = json_ok(app.call("list_keys", &[("subscription_id", &sub), ("name", "keyed")]).await).await;
    let other = json_ok(app.call("list_keys", &[("subscription_id", &sub), ("name", "keyed-too")]).await).await;
    let mut all = Vec::new();
    for k in ["primaryMasterKey", "secondaryMasterKey", "primaryReadonlyMasterKey", "secondaryReadonlyMasterKey"] {
        let key = keys[k].as_str().unwrap();
        let raw = base64::engine::general_purpose::STANDARD.decode(key).unwrap();
        assert_eq!(raw.len(), 64, "{k}");
        assert_ne!(keys[k], other[k]);
        all.push(key.to_owned());
    }
    all.dedup();
    assert_eq!(all.len(), 4);
    let row = control::db::account::Entity::find_by_id(a["id"].as_str().unwrap().to_owned()).one(&app.state.db).await.unwrap().unwrap();
    for key in &all {
        assert!(!row.sealed_keys.contains(key.as_str()), "keys must not be stored in the clear");
    }
    // Account details never carry keys.
    let details = json_ok(app.call("get_account", &[("subscription_id", &sub), ("name", "keyed")]).await).await;
    assert!(!details.to_string().contains(&all[0]));
}

async fn deleting_an_account_keeps_it_on_record(app: TestApp) {
    app.login().await;
    let sub = app.subscription("Prod").await;
    let a = app.account(&sub, "doomed").await;
    json_ok(app.call("delete_account", &[("subscription_id", &sub), ("name", "doomed")]).await).await;

    let list = json_ok(app.call("list_accounts", &[("subscription_id", &sub)]).await).await;
    assert!(list.as_array().unwrap().is_empty());
    let msg = error_message(app.call("get_account", &[("subscription_id", &sub), ("name", "doomed")]).await, StatusCode::NOT_FOUND).await;
    assert!(msg.contains("doomed"), "{msg}");
    error_message(app.call("delete_account", &[("subscription_id", &sub), ("name", "doomed")]).await, StatusCode::NOT_FOUND).await;

    let row = control::db::account::Entity::find_by_id(a["id"].as_str().unwrap().to_owned())
        .one(&app.state.db)
        .await
        .unwrap()
        .expect("the deleted account stays on record");
    assert_eq!(row.state, domain::AccountState::Deleted);
    assert!(row.deleted_at.is_some());

    // The name is free again for a new account; the old record stays distinct.
    let again = app.account(&sub, "doomed").await;
    assert_ne!(again["id"], a["id"]);
    let sub_row = json_ok(app.call("get_subscription", &[("id", &sub)]).await).await;
    assert_eq!(sub_row["account_count"], 1);
}

crate::on_both_backends!(
    an_account_is_created_with_the_default_periodic_policy,
    continuous_and_custom_periodic_policies_are_kept,
    bad_account_input_is_refused_with_the_rule_named,
    live_account_names_are_unique,
    keys_are_64_random_bytes_and_stored_sealed,
    deleting_an_account_keeps_it_on_record,
);
