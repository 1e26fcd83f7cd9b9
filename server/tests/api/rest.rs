//! The REST API (`/api/v1`) as a script uses it: an API token made in the portal, accounts and
//! restorable resources read, a restore planned, started and followed to the end — exact, like
//! the portal's — errors in the one JSON shape, tokens revoked and expired. And the OpenAPI
//! document: every operation it describes is served, answers validate against it, and the
//! docs page shows it.

use chrono::Utc;
use reqwest::{Client, StatusCode};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{Value, json};
use std::time::Duration;

use crate::helpers::{Backend, TestApp, json_ok, spawn_app};
use crate::restore::{backed_up_through, contents, continuous_account, stamp};

async fn token_for(app: &TestApp, client: &Client, name: &str, days: &str) -> (String, String) {
    let made = json_ok(app.call_with(client, "create_api_token", &[("name", name), ("days", days)]).await).await;
    (made["secret"].as_str().unwrap().to_owned(), made["token"]["id"].as_str().unwrap().to_owned())
}

fn url(app: &TestApp, path: &str) -> String {
    format!("{}/api/v1{path}", app.base)
}

/// GETs `url` with the token and answers the JSON body.
async fn get_json(api: &Client, url: impl reqwest::IntoUrl, token: &str) -> Value {
    api.get(url).bearer_auth(token).send().await.unwrap().json().await.unwrap()
}

/// Asserts the status and the one error shape; returns the message.
async fn api_error(res: reqwest::Response, status: StatusCode, code: &str) -> String {
    assert_eq!(res.status(), status);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    body["error"]["message"].as_str().unwrap().to_owned()
}

async fn a_script_restores_with_a_token(app: TestApp) {
    app.login().await;
    let sub = app.subscription("S").await;
    let src = continuous_account(&app, &sub, "src").await;
    let db = &app.state.db;
    engine::store::create_database(db, &src, "shop", None).await.unwrap();
    let spec = engine::store::ContainerSpec::from_body(&json!({"id": "orders", "partitionKey": {"paths": ["/tenant"]}})).unwrap();
    engine::store::create_container(db, &src, "shop", spec).await.unwrap();
    for i in 0..20 {
        let doc = json!({"id": format!("o{i}"), "tenant": format!("t{}", i % 3), "n": i});
        engine::store::write_item(db, &src, "shop", "orders", None, doc, engine::store::WriteMode::Create).await.unwrap();
    }
    let at = Utc::now();
    backed_up_through(&app, &sub, "src", at).await;
    let expected = contents(&app, &src).await;
    // Later changes must not come back.
    engine::store::write_item(db, &src, "shop", "orders", None, json!({"id": "late", "tenant": "t0"}), engine::store::WriteMode::Create)
        .await
        .unwrap();

    let (token, token_id) = token_for(&app, &app.client, "ci", "30").await;
    let api = Client::new();

    // Without a token, or with a cookie only: 401 in the one shape.
    api_error(
        api.get(url(&app, &format!("/subscriptions/{sub}/accounts"))).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "Unauthenticated",
    )
    .await;
    api_error(
        app.client.get(url(&app, &format!("/subscriptions/{sub}/accounts"))).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "Unauthenticated",
    )
    .await;

    let accounts: Value = get_json(&api, url(&app, &format!("/subscriptions/{sub}/accounts")), &token).await;
    assert!(accounts.as_array().unwrap().iter().any(|a| a["name"] == "src"), "{accounts}");
    let account: Value = get_json(&api, url(&app, &format!("/subscriptions/{sub}/accounts/src")), &token).await;
    assert_eq!(account["id"], src);

    let restorable: Value = get_json(&api, url(&app, &format!("/subscriptions/{sub}/restorableDatabaseAccounts")), &token).await;
    assert!(restorable.as_array().unwrap().iter().any(|a| a["id"] == src && a["can_restore"] == true), "{restorable}");
    let resources: Value = api
        .get(url(&app, &format!("/subscriptions/{sub}/restorableDatabaseAccounts/{src}/restorableSqlResources")))
        .query(&[("restoreTimestamp", stamp(at))])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(resources[0]["id"], "shop");
    assert_eq!(resources[0]["containers"][0]["id"], "orders");
    let events: Value = get_json(&api, url(&app, &format!("/subscriptions/{sub}/restorableDatabaseAccounts/{src}/events")), &token).await;
    assert_eq!(events.as_array().unwrap().len(), 2, "{events}");

    let restores = url(&app, &format!("/subscriptions/{sub}/restores"));
    let body = json!({"sourceAccountId": src, "restoreTimestamp": stamp(at), "targetAccountName": "from-script"});
    // A bad body names what is wrong, and files nothing.
    let bad = json!({"sourceAccountId": src, "restoreTimestamp": stamp(at), "targetAccountName": "x", "colour": "red"});
    let msg =
        api_error(api.post(&restores).bearer_auth(&token).json(&bad).send().await.unwrap(), StatusCode::BAD_REQUEST, "BadRequest").await;
    assert!(msg.contains("colour"), "{msg}");
    let too_many = json!({"sourceAccountId": src, "restoreTimestamp": stamp(at), "targetAccountName": "x", "resources": vec!["d"; 1001]});
    let msg =
        api_error(api.post(&restores).bearer_auth(&token).json(&too_many).send().await.unwrap(), StatusCode::BAD_REQUEST, "BadRequest")
            .await;
    assert!(msg.contains("at most 1000"), "{msg}");

    // The dry run answers the plan and files nothing.
    let res = api.post(&restores).query(&[("dryRun", "true")]).bearer_auth(&token).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let plan: Value = res.json().await.unwrap();
    assert_eq!(plan["resources"], json!(["shop/orders"]));
    let jobs: Value = get_json(&api, &restores, &token).await;
    assert_eq!(jobs, json!([]));

    let res = api.post(&restores).bearer_auth(&token).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let job: Value = res.json().await.unwrap();
    let job_url = format!("{restores}/{}", job["id"].as_str().unwrap());
    let mut done = Value::Null;
    for _ in 0..300 {
        done = get_json(&api, &job_url, &token).await;
        if matches!(done["state"].as_str(), Some("Succeeded" | "Failed")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(done["state"], "Succeeded", "{done}");
    let target = json_ok(app.call("get_account", &[("subscription_id", &sub), ("name", "from-script")]).await).await;
    assert_eq!(contents(&app, target["id"].as_str().unwrap()).await, expected);
    api_error(api.get(format!("{restores}/no-such-job")).bearer_auth(&token).send().await.unwrap(), StatusCode::NOT_FOUND, "NotFound")
        .await;
    api_error(api.get(url(&app, "/no/such/route")).bearer_auth(&token).send().await.unwrap(), StatusCode::NOT_FOUND, "NotFound").await;

    // What the token did is audited as done with it.
    let audit = json_ok(
        app.call(
            "list_audit",
            &[
                ("subscription_id", ""),
                ("from", ""),
                ("to", ""),
                ("user", ""),
                ("action", "restorableAccounts/restore/action"),
                ("outcome", ""),
            ],
        )
        .await,
    )
    .await;
    assert!(
        audit.as_array().unwrap().iter().any(|e| e["detail"].as_str().unwrap_or_default().contains("with API token \"ci\"")),
        "{audit}"
    );

    // A reader's token reads but cannot restore.
    let reader = app.new_user("reader").await;
    app.assign(&sub, "", "reader", "builtin:Reader").await;
    let (reader_token, _) = token_for(&app, &reader, "ro", "0").await;
    let ok = api.get(url(&app, &format!("/subscriptions/{sub}/accounts"))).bearer_auth(&reader_token).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let body = json!({"sourceAccountId": src, "restoreTimestamp": stamp(at), "targetAccountName": "by-reader"});
    let msg =
        api_error(api.post(&restores).bearer_auth(&reader_token).json(&body).send().await.unwrap(), StatusCode::FORBIDDEN, "Forbidden")
            .await;
    assert!(msg.contains("restorableAccounts/restore/action"), "{msg}");

    // Accounts are made, keyed and deleted over REST as in the portal.
    let accounts_url = url(&app, &format!("/subscriptions/{sub}/accounts"));
    let made = api
        .post(&accounts_url)
        .bearer_auth(&token)
        .json(&json!({"name": "rest-made", "region": "local", "backupPolicy": {"mode": "Continuous7Days"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), StatusCode::CREATED);
    assert_eq!(made.json::<Value>().await.unwrap()["backup_policy"]["type"], "Continuous");
    let dup = json!({"name": "rest-made", "region": "local"});
    api_error(api.post(&accounts_url).bearer_auth(&token).json(&dup).send().await.unwrap(), StatusCode::CONFLICT, "Conflict").await;
    let keys: Value =
        api.post(format!("{accounts_url}/rest-made/listKeys")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(keys["primaryMasterKey"].as_str().unwrap().len(), 88, "{keys}");
    let regenerated: Value = api
        .post(format!("{accounts_url}/rest-made/regenerateKey"))
        .bearer_auth(&token)
        .json(&json!({"keyKind": "PrimaryMaster"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(regenerated["primaryMasterKey"], keys["primaryMasterKey"]);
    assert_eq!(regenerated["secondaryMasterKey"], keys["secondaryMasterKey"]);
    let res = api.delete(format!("{accounts_url}/rest-made")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    api_error(api.get(format!("{accounts_url}/rest-made")).bearer_auth(&token).send().await.unwrap(), StatusCode::NOT_FOUND, "NotFound")
        .await;

    // Tokens are listed without secrets; a revoked or expired one stops working at once.
    let mine: Value = get_json(&api, url(&app, "/tokens"), &token).await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert!(mine[0].get("secret").is_none() && mine[0]["last_used_at"].is_string(), "{mine}");
    let (other, other_id) = token_for(&app, &app.client, "short-lived", "1").await;
    let mut row: control::db::api_token::ActiveModel =
        control::db::api_token::Entity::find_by_id(other_id).one(&app.state.db).await.unwrap().unwrap().into();
    row.expires_at = Set(Some(Utc::now() - chrono::Duration::seconds(1)));
    row.update(&app.state.db).await.unwrap();
    api_error(api.get(url(&app, "/tokens")).bearer_auth(&other).send().await.unwrap(), StatusCode::UNAUTHORIZED, "Unauthenticated").await;
    let res = api.delete(url(&app, &format!("/tokens/{token_id}"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    api_error(api.get(url(&app, "/tokens")).bearer_auth(&token).send().await.unwrap(), StatusCode::UNAUTHORIZED, "Unauthenticated").await;
}

/// An admin's script sets up a tenant: a subscription (renamed), a user (who signs in with the
/// first password and must change it), roles by name at the subscription and at one account,
/// a custom role, and a user disabled (their token stops working) and let back in.
async fn an_admin_script_sets_up_subscriptions_users_and_access(app: TestApp) {
    app.login().await;
    let (token, _) = token_for(&app, &app.client, "admin-script", "1").await;
    let api = Client::new();
    let send = |req: reqwest::RequestBuilder| req.bearer_auth(&token).send();

    let made = send(api.post(url(&app, "/subscriptions")).json(&json!({"name": "Team A"}))).await.unwrap();
    assert_eq!(made.status(), StatusCode::CREATED);
    let sub = made.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let taken = send(api.post(url(&app, "/subscriptions")).json(&json!({"name": "Team A"}))).await.unwrap();
    api_error(taken, StatusCode::CONFLICT, "Conflict").await;
    let renamed: Value =
        send(api.patch(url(&app, &format!("/subscriptions/{sub}"))).json(&json!({"name": "Team B"}))).await.unwrap().json().await.unwrap();
    assert_eq!((renamed["name"].as_str(), renamed["account_count"].as_u64()), (Some("Team B"), Some(0)), "{renamed}");
    let listed = get_json(&api, url(&app, "/subscriptions"), &token).await;
    assert!(listed.as_array().unwrap().iter().any(|s| s["id"] == sub && s["name"] == "Team B"), "{listed}");
    app.account(&sub, "orders").await;

    // A user, with a first password they must change.
    let user =
        send(api.post(url(&app, "/users")).json(&json!({"name": "rita", "password": crate::helpers::FIRST_PASSWORD}))).await.unwrap();
    assert_eq!(user.status(), StatusCode::CREATED);
    assert_eq!(user.json::<Value>().await.unwrap()["must_change_password"], true);
    let short = send(api.post(url(&app, "/users")).json(&json!({"name": "sam", "password": "short"}))).await.unwrap();
    assert!(api_error(short, StatusCode::BAD_REQUEST, "BadRequest").await.contains("12 characters"));
    let rita = crate::helpers::new_client();
    json_ok(app.call_with(&rita, "login", &[("username", "rita"), ("password", crate::helpers::FIRST_PASSWORD)]).await).await;
    let pw = crate::helpers::USER_PASSWORD;
    let changed = [("current", crate::helpers::FIRST_PASSWORD), ("new", pw), ("confirm", pw)];
    json_ok(app.call_with(&rita, "change_password", &changed).await).await;

    // Roles by id at the subscription and at one account; the account sees both, one inherited.
    let roles = get_json(&api, url(&app, &format!("/subscriptions/{sub}/roleDefinitions")), &token).await;
    assert!(roles.as_array().unwrap().iter().any(|r| r["id"] == "builtin:Restore Operator" && r["builtin"] == true), "{roles}");
    let at_sub = send(
        api.post(url(&app, &format!("/subscriptions/{sub}/roleAssignments")))
            .json(&json!({"userName": "rita", "roleId": "builtin:Reader"})),
    )
    .await
    .unwrap();
    assert_eq!(at_sub.status(), StatusCode::CREATED);
    let on_account = url(&app, &format!("/subscriptions/{sub}/accounts/orders/roleAssignments"));
    let made = send(api.post(&on_account).json(&json!({"userName": "rita", "roleId": "builtin:Restore Operator"}))).await.unwrap();
    assert_eq!(made.status(), StatusCode::CREATED);
    let made: Value = made.json().await.unwrap();
    assert_eq!((made["scope_kind"].as_str(), made["role_name"].as_str()), (Some("account"), Some("Restore Operator")));
    let again = send(api.post(&on_account).json(&json!({"userName": "rita", "roleId": "builtin:Restore Operator"}))).await.unwrap();
    api_error(again, StatusCode::CONFLICT, "Conflict").await;
    let nobody = send(api.post(&on_account).json(&json!({"userName": "nobody", "roleId": "builtin:Reader"}))).await.unwrap();
    assert!(api_error(nobody, StatusCode::NOT_FOUND, "NotFound").await.contains("nobody"));
    let here = get_json(&api, &on_account, &token).await;
    let mut seen: Vec<(String, bool)> = here
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["user_name"] == "rita")
        .map(|a| (a["role_name"].as_str().unwrap().to_owned(), a["inherited"].as_bool().unwrap()))
        .collect();
    seen.sort();
    assert_eq!(seen, [("Reader".to_owned(), true), ("Restore Operator".to_owned(), false)]);
    // Someone outside the subscription learns nothing, not even which accounts exist.
    let stranger = app.new_user("stranger").await;
    let (stranger_token, _) = token_for(&app, &stranger, "outside", "1").await;
    for name in ["orders", "no-such-account"] {
        let res = api
            .get(url(&app, &format!("/subscriptions/{sub}/accounts/{name}/roleAssignments")))
            .bearer_auth(&stranger_token)
            .send()
            .await
            .unwrap();
        api_error(res, StatusCode::FORBIDDEN, "Forbidden").await;
    }
    // Rita now reads the account with a token of her own.
    let (rita_token, _) = token_for(&app, &rita, "rita", "1").await;
    let account = api.get(url(&app, &format!("/subscriptions/{sub}/accounts/orders"))).bearer_auth(&rita_token).send().await.unwrap();
    assert_eq!(account.status(), StatusCode::OK);
    // An inherited assignment is not removed from below; the account's own one is.
    let inherited = here.as_array().unwrap().iter().find(|a| a["inherited"] == true && a["user_name"] == "rita").unwrap();
    let wrong_place = send(api.delete(format!("{on_account}/{}", inherited["id"].as_str().unwrap()))).await.unwrap();
    api_error(wrong_place, StatusCode::NOT_FOUND, "NotFound").await;
    let removed = send(api.delete(format!("{on_account}/{}", made["id"].as_str().unwrap()))).await.unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);

    // A custom role: unknown actions named; in use, it cannot be deleted.
    let roles_url = url(&app, &format!("/subscriptions/{sub}/roleDefinitions"));
    let bad = send(api.post(&roles_url).json(&json!({"name": "Viewer", "actions": ["accounts/fly"]}))).await.unwrap();
    assert!(api_error(bad, StatusCode::BAD_REQUEST, "BadRequest").await.contains("accounts/fly"));
    let custom =
        send(api.post(&roles_url).json(&json!({"name": "Viewer", "actions": ["accounts/read", "restorableAccounts/*"]}))).await.unwrap();
    assert_eq!(custom.status(), StatusCode::CREATED);
    let custom: Value = custom.json().await.unwrap();
    let role_id = custom["id"].as_str().unwrap();
    let given =
        send(api.post(url(&app, &format!("/subscriptions/{sub}/roleAssignments"))).json(&json!({"userName": "rita", "roleId": role_id})))
            .await
            .unwrap();
    let given: Value = given.json().await.unwrap();
    let in_use = send(api.delete(format!("{roles_url}/{role_id}"))).await.unwrap();
    assert!(api_error(in_use, StatusCode::CONFLICT, "Conflict").await.contains("assigned"));
    let unassign = format!("{}/{}", url(&app, &format!("/subscriptions/{sub}/roleAssignments")), given["id"].as_str().unwrap());
    assert_eq!(send(api.delete(unassign)).await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(send(api.delete(format!("{roles_url}/{role_id}"))).await.unwrap().status(), StatusCode::NO_CONTENT);

    // Disabled, Rita's token stops working at once; enabled again, it works.
    let disable = send(api.patch(url(&app, "/users/rita")).json(&json!({"disabled": true}))).await.unwrap();
    assert_eq!(disable.json::<Value>().await.unwrap()["disabled"], true);
    let refused = api.get(url(&app, "/subscriptions")).bearer_auth(&rita_token).send().await.unwrap();
    api_error(refused, StatusCode::UNAUTHORIZED, "Unauthenticated").await;
    send(api.patch(url(&app, "/users/rita")).json(&json!({"disabled": false}))).await.unwrap();
    let back = api.get(url(&app, "/subscriptions")).bearer_auth(&rita_token).send().await.unwrap();
    assert_eq!(back.status(), StatusCode::OK);
    let users = get_json(&api, url(&app, "/users"), &token).await;
    assert!(users.as_array().unwrap().iter().any(|u| u["name"] == "rita" && u["disabled"] == false), "{users}");
    // Nobody disables themself; an unknown user is named.
    let me = send(api.patch(url(&app, &format!("/users/{}", crate::helpers::ADMIN))).json(&json!({"disabled": true}))).await.unwrap();
    api_error(me, StatusCode::CONFLICT, "Conflict").await;
    let ghost = send(api.patch(url(&app, "/users/ghost")).json(&json!({"disabled": true}))).await.unwrap();
    assert!(api_error(ghost, StatusCode::NOT_FOUND, "NotFound").await.contains("ghost"));
    let extra = send(api.patch(url(&app, "/users/rita")).json(&json!({"disabled": true, "admin": true}))).await.unwrap();
    assert!(api_error(extra, StatusCode::BAD_REQUEST, "BadRequest").await.contains("admin"));
}

/// A Backup Operator changes an account's backup policy over the API: a periodic account's
/// interval, retention and redundancy, a continuous account's tier; the rules are named when
/// broken, continuous never goes back to periodic, and a Reader may not change anything.
async fn a_backup_operator_changes_backup_policies(app: TestApp) {
    app.login().await;
    let sub = app.subscription("S").await;
    let periodic = app.account(&sub, "nightly").await["id"].as_str().unwrap().to_owned();
    let continuous = continuous_account(&app, &sub, "live").await;
    let operator = app.new_user("operator").await;
    app.assign(&sub, &periodic, "operator", "builtin:Backup Operator").await;
    app.assign(&sub, &continuous, "operator", "builtin:Backup Operator").await;
    let reader = app.new_user("reader").await;
    app.assign(&sub, "", "reader", "builtin:Reader").await;
    let (token, _) = token_for(&app, &operator, "policy", "1").await;
    let (reader_token, _) = token_for(&app, &reader, "read", "1").await;
    let api = Client::new();
    let policy_url = |name: &str| url(&app, &format!("/subscriptions/{sub}/accounts/{name}/backupPolicy"));
    let patch = |name: &str, token: &str, body: Value| api.patch(policy_url(name)).bearer_auth(token.to_owned()).json(&body).send();

    let changed: Value = patch("nightly", &token, json!({"intervalHours": 6, "retentionHours": 24, "redundancy": "Zone"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        changed["backup_policy"],
        json!({"type": "Periodic", "interval_hours": 6, "retention_hours": 24, "redundancy": "Zone"}),
        "{changed}"
    );
    // What is not named stays: the interval alone, still within the retention.
    let changed: Value = patch("nightly", &token, json!({"intervalHours": 12})).await.unwrap().json().await.unwrap();
    assert_eq!(changed["backup_policy"]["retention_hours"], 24);
    for (body, named) in [
        (json!({"intervalHours": 13}), "twice the interval"),
        (json!({"intervalHours": 0}), "between 1 and 24"),
        (json!({"retentionHours": 721}), "720"),
        (json!({"mode": "Continuous7Days", "retentionHours": 48}), "takes no interval or retention"),
        (json!({"redundancy": "Moon"}), "Moon"),
        (json!({"interval": 3}), "interval"),
    ] {
        let message = api_error(patch("nightly", &token, body).await.unwrap(), StatusCode::BAD_REQUEST, "BadRequest").await;
        assert!(message.contains(named), "{message}");
    }

    let live = get_json(&api, url(&app, &format!("/subscriptions/{sub}/accounts/live")), &token).await;
    let tier_before = live["backup_policy"]["tier"].clone();
    let other = if tier_before == "Continuous7Days" { "Continuous30Days" } else { "Continuous7Days" };
    let changed: Value = patch("live", &token, json!({"mode": other})).await.unwrap().json().await.unwrap();
    assert_eq!(changed["backup_policy"]["tier"], other, "{changed}");
    let back = api_error(patch("live", &token, json!({"mode": "Periodic"})).await.unwrap(), StatusCode::BAD_REQUEST, "BadRequest").await;
    assert!(back.contains("cannot go back"), "{back}");
    let interval =
        api_error(patch("live", &token, json!({"intervalHours": 2})).await.unwrap(), StatusCode::BAD_REQUEST, "BadRequest").await;
    assert!(interval.contains("periodic backup only"), "{interval}");

    // A Reader sees the policy and changes nothing.
    let refused =
        api_error(patch("nightly", &reader_token, json!({"intervalHours": 1})).await.unwrap(), StatusCode::FORBIDDEN, "Forbidden").await;
    assert!(refused.contains("accounts/backupPolicy/write"), "{refused}");
    let after = get_json(&api, url(&app, &format!("/subscriptions/{sub}/accounts/nightly")), &reader_token).await;
    assert_eq!(after["backup_policy"]["interval_hours"], 12);
}

async fn a_backup_operator_verifies_backups_and_damage_is_named(app: TestApp) {
    use backup::entities::backup_segment;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    app.login().await;
    let sub = app.subscription("S").await;
    let account = continuous_account(&app, &sub, "live").await;
    engine::store::create_database(&app.state.db, &account, "d", None).await.unwrap();
    backed_up_through(&app, &sub, "live", Utc::now()).await;
    let operator = app.new_user("operator").await;
    app.assign(&sub, &account, "operator", "builtin:Backup Operator").await;
    let reader = app.new_user("reader").await;
    app.assign(&sub, "", "reader", "builtin:Reader").await;
    let (token, _) = token_for(&app, &operator, "verify", "1").await;
    let (reader_token, _) = token_for(&app, &reader, "read", "1").await;
    let api = Client::new();
    let verify_url = url(&app, &format!("/subscriptions/{sub}/accounts/live/backups/verify"));
    let last_url = url(&app, &format!("/subscriptions/{sub}/accounts/live/backups/verification"));

    let never = api_error(api.get(&last_url).bearer_auth(&token).send().await.unwrap(), StatusCode::NOT_FOUND, "NotFound").await;
    assert!(never.contains("not been verified yet"), "{never}");
    let passed: Value = api.post(&verify_url).bearer_auth(&token).json(&json!({"deep": true})).send().await.unwrap().json().await.unwrap();
    assert_eq!(passed["passed"], true, "{passed}");
    assert_eq!(passed["deep"], true);
    assert!(passed["objects"].as_u64().unwrap() >= 4, "key, journal? and a segment in two stores: {passed}");
    let refused = api_error(
        api.post(&verify_url).bearer_auth(&reader_token).json(&json!({})).send().await.unwrap(),
        StatusCode::FORBIDDEN,
        "Forbidden",
    )
    .await;
    assert!(refused.contains("backups/verify/action"), "{refused}");
    let seen = get_json(&api, &last_url, &reader_token).await;
    assert_eq!((seen["passed"].clone(), seen["requested_by"].clone()), (json!(true), json!("operator")), "{seen}");

    // The primary copy of the first segment goes missing: named, by object and store.
    let first = backup_segment::Entity::find()
        .filter(backup_segment::Column::AccountId.eq(&account))
        .order_by_asc(backup_segment::Column::FirstSeq)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let primary = app.data_dir.join("backups");
    std::fs::remove_file(primary.join(&first.object_key)).unwrap();
    let failed: Value = api.post(&verify_url).bearer_auth(&token).json(&json!({})).send().await.unwrap().json().await.unwrap();
    assert_eq!(failed["passed"], false, "{failed}");
    let problem = format!("{} in file://{}: missing", first.object_key, primary.display());
    assert_eq!(failed["problems"], json!([problem]), "{failed}");

    // The same from the command line, on this machine.
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_rewind"));
    cmd.args(["verify", "--account", "live", "--deep"]).env("REWIND_DATA_DIR", &app.data_dir).env("REWIND_LOG", "warn");
    if let Some(pg) = app.postgres_url() {
        cmd.env("REWIND_DATABASE_URL", pg);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("live (") && stdout.contains("1 problem(s)") && stdout.contains(&problem), "{stdout}");

    let audit = json_ok(
        app.call(
            "list_audit",
            &[("subscription_id", &sub), ("from", ""), ("to", ""), ("user", ""), ("action", "backups/verify/action"), ("outcome", "")],
        )
        .await,
    )
    .await;
    let by: Vec<&str> = audit.as_array().unwrap().iter().filter_map(|e| e["user_name"].as_str()).collect();
    assert!(by.contains(&"operator") && by.contains(&"rewind verify") && by.contains(&"reader"), "{audit}");
}

/// Files a finished restore job of `source` straight into the table (a real restore per row
/// would make the test slow, and paging does not care how a job ended).
async fn finished_job(app: &TestApp, sub: &str, source: &str, id: &str, created_at: chrono::DateTime<Utc>) {
    use backup::entities::restore_job::{ActiveModel, JobPhase, JobState};
    ActiveModel {
        id: Set(id.to_owned()),
        subscription_id: Set(sub.to_owned()),
        source_account_id: Set(source.to_owned()),
        target_account_id: Set(format!("target-{id}")),
        target_name: Set(format!("target-{id}")),
        restore_at: Set(created_at),
        resources: Set("[]".into()),
        ttl_disabled: Set(false),
        in_place: Set(false),
        state: Set(JobState::Failed),
        phase: Set(JobPhase::Done),
        items_total: Set(0),
        items_done: Set(0),
        bytes_done: Set(0),
        message: Set("filed by the test".into()),
        requested_by: Set("admin".into()),
        requested_by_id: Set(String::new()),
        created_at: Set(created_at),
        started_at: Set(None),
        finished_at: Set(Some(created_at)),
        lease_owner: Set(None),
        lease_until: Set(None),
        plan: Set(None),
    }
    .insert(&app.state.db)
    .await
    .unwrap();
}

/// Restore jobs come a page at a time, newest first, each exactly once however many share a
/// second; the database filters them by what the caller may see, so a page is never short
/// while older visible jobs exist; a bad limit or cursor is named.
async fn restore_jobs_are_listed_a_page_at_a_time(app: TestApp) {
    app.login().await;
    let sub = app.subscription("S").await;
    let mine = app.account(&sub, "mine").await["id"].as_str().unwrap().to_owned();
    let theirs = app.account(&sub, "theirs").await["id"].as_str().unwrap().to_owned();
    let t0 = Utc::now() - chrono::Duration::hours(1);
    // Seven jobs of `mine` (three in one second), five of `theirs` in between.
    let mut expected = Vec::new();
    for i in 0..7 {
        let at = t0 + chrono::Duration::seconds([0, 1, 1, 1, 2, 3, 4][i]);
        finished_job(&app, &sub, &mine, &format!("job-{i}"), at).await;
        expected.push((at, format!("job-{i}")));
    }
    for i in 0..5 {
        finished_job(&app, &sub, &theirs, &format!("other-{i}"), t0 + chrono::Duration::seconds(i)).await;
    }
    expected.sort();
    expected.reverse();
    let expected: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();

    let operator = app.new_user("operator").await;
    app.assign(&sub, &mine, "operator", "builtin:Restore Operator").await;
    let (token, _) = token_for(&app, &operator, "pages", "1").await;
    let api = Client::new();
    let jobs = url(&app, &format!("/subscriptions/{sub}/restores"));
    let mut seen = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let mut query = vec![("limit", "3".to_owned())];
        query.extend(before.clone().map(|b| ("before", b)));
        let page: Value = api.get(&jobs).query(&query).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        let ids: Vec<String> = page.as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap().to_owned()).collect();
        assert!(ids.len() <= 3, "{page}");
        seen.extend(ids.iter().cloned());
        if ids.len() < 3 {
            break;
        }
        before = ids.last().cloned();
    }
    assert_eq!(seen, expected, "every job of the account the operator sees, newest first, once");
    // The admin sees both accounts' jobs; the default page holds them all.
    let all: Value = get_json(&api, &jobs, &token_for(&app, &app.client, "admin", "1").await.0).await;
    assert_eq!(all.as_array().unwrap().len(), 12);

    for (query, named) in [
        (vec![("limit", "0")], "limit"),
        (vec![("limit", "1001")], "limit"),
        (vec![("before", "no-such-job")], "no-such-job"),
        (vec![("limt", "3")], "limt"),
    ] {
        let res = api.get(&jobs).query(&query).bearer_auth(&token).send().await.unwrap();
        let message = api_error(res, StatusCode::BAD_REQUEST, "BadRequest").await;
        assert!(message.contains(named), "{message}");
    }
}

crate::on_both_backends!(
    a_script_restores_with_a_token,
    an_admin_script_sets_up_subscriptions_users_and_access,
    restore_jobs_are_listed_a_page_at_a_time,
    a_backup_operator_changes_backup_policies,
    a_backup_operator_verifies_backups_and_damage_is_named
);

/// Checks `value` against `schema` (a subset of JSON Schema: `$ref`, `type`, `required`,
/// `properties`, `items`, `enum`, `oneOf`/`anyOf`), naming the first mismatch.
fn validate(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let target = doc.pointer(r.trim_start_matches('#')).ok_or_else(|| format!("{at}: unknown schema {r}"))?;
        return validate(doc, target, value, at);
    }
    if let Some(alts) = schema.get("oneOf").or_else(|| schema.get("anyOf")).and_then(Value::as_array) {
        return if alts.iter().any(|s| validate(doc, s, value, at).is_ok()) {
            Ok(())
        } else {
            Err(format!("{at}: {value} matches no alternative"))
        };
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array)
        && !values.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {values:?}"));
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let fits = |t: &str| match t {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "null" => value.is_null(),
        _ => true,
    };
    if !types.is_empty() && !types.iter().any(|t| fits(t)) {
        return Err(format!("{at}: {value} is not {types:?}"));
    }
    if let (Some(items), Some(list)) = (schema.get("items"), value.as_array()) {
        for (i, v) in list.iter().enumerate() {
            validate(doc, items, v, &format!("{at}[{i}]"))?;
        }
    }
    if let Some(obj) = value.as_object() {
        for req in schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            if !obj.contains_key(req) {
                return Err(format!("{at}: required field {req} is missing"));
            }
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (k, v) in obj {
                let s = props.get(k).ok_or_else(|| format!("{at}: field {k} is not in the schema"))?;
                validate(doc, s, v, &format!("{at}.{k}"))?;
            }
        }
    }
    Ok(())
}

/// The response schema of `METHOD path` for `status`.
fn response_schema<'a>(doc: &'a Value, method: &str, path: &str, status: u16) -> &'a Value {
    let op = &doc["paths"][path][method];
    &op["responses"][status.to_string()]["content"]["application/json"]["schema"]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_what_is_served() {
    let app = spawn_app(Backend::Sqlite).await;
    app.login().await;
    let sub = app.subscription("S").await;
    app.account(&sub, "periodic-one").await;
    let doc: Value = app.client.get(url(&app, "/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(doc["openapi"].as_str().map(|v| v.starts_with('3')), Some(true));
    let api = Client::new();

    // Every described operation is served: without a token it answers 401 in the one shape
    // (an operation that was not served would be a 404 or 405).
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            operations += 1;
            let concrete = path.replace("{subscription}", &sub).replace('{', "x-").replace('}', "");
            let req = api.request(method.to_uppercase().parse().unwrap(), url(&app, &concrete));
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
            let body: Value = res.json().await.unwrap();
            validate(&doc, response_schema(&doc, method, path, 401), &body, &format!("{method} {path} 401")).unwrap();
        }
    }
    assert!(operations >= 10, "{operations} operations");

    // And nothing is served undescribed: at every described path, every method the document
    // does not name is refused as not allowed; every path above a described one and one
    // segment below it, unless described itself, is the API's "no such route" for any method.
    let paths = doc["paths"].as_object().unwrap();
    const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];
    let concrete = |path: &str| path.replace("{subscription}", &sub).replace('{', "x-").replace('}', "");
    let mut around = std::collections::BTreeSet::new();
    for (path, item) in paths {
        for method in METHODS.iter().filter(|m| item.get(**m).is_none()) {
            let res = api.request(method.to_uppercase().parse().unwrap(), url(&app, &concrete(path))).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{method} {path} is served but not described");
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["error"]["code"], "MethodNotAllowed", "{method} {path}: {body}");
        }
        let segments: Vec<&str> = path.split('/').collect();
        for n in 2..segments.len() {
            around.insert(segments[..n].join("/"));
        }
        around.insert(format!("{path}/{{extra}}"));
    }
    // Compared as templates: `{account}` and `{extra}` are the same route.
    let template = |path: &str| path.split('/').map(|s| if s.starts_with('{') { "{}" } else { s }).collect::<Vec<_>>().join("/");
    let described: std::collections::BTreeSet<String> = paths.keys().map(|p| template(p)).collect();
    for path in around.iter().filter(|p| !described.contains(&template(p))) {
        for method in METHODS {
            let res = api.request(method.to_uppercase().parse().unwrap(), url(&app, &concrete(path))).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{method} {path} is served but not described");
            let body: Value = res.json().await.unwrap();
            assert!(body["error"]["message"].as_str().unwrap().starts_with("no API route"), "{method} {path}: {body}");
        }
    }
    assert!(around.len() > paths.len(), "{} paths probed around the described ones", around.len());

    // A sample of answers validates against the document.
    let (token, _) = token_for(&app, &app.client, "docs", "1").await;
    for (path, concrete) in [
        ("/subscriptions/{subscription}/accounts", format!("/subscriptions/{sub}/accounts")),
        ("/subscriptions/{subscription}/accounts/{account}", format!("/subscriptions/{sub}/accounts/periodic-one")),
        ("/subscriptions/{subscription}/restorableDatabaseAccounts", format!("/subscriptions/{sub}/restorableDatabaseAccounts")),
        ("/subscriptions/{subscription}/restores", format!("/subscriptions/{sub}/restores")),
        ("/tokens", "/tokens".to_owned()),
        ("/subscriptions", "/subscriptions".to_owned()),
        ("/subscriptions/{subscription}", format!("/subscriptions/{sub}")),
        ("/users", "/users".to_owned()),
        ("/subscriptions/{subscription}/roleDefinitions", format!("/subscriptions/{sub}/roleDefinitions")),
        ("/subscriptions/{subscription}/roleAssignments", format!("/subscriptions/{sub}/roleAssignments")),
        (
            "/subscriptions/{subscription}/accounts/{account}/roleAssignments",
            format!("/subscriptions/{sub}/accounts/periodic-one/roleAssignments"),
        ),
    ] {
        let res = api.get(url(&app, &concrete)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let body: Value = res.json().await.unwrap();
        assert!(!body.is_null());
        validate(&doc, response_schema(&doc, "get", path, 200), &body, path).unwrap();
    }
    let res = api.get(url(&app, &format!("/subscriptions/{sub}/accounts/missing"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body: Value = res.json().await.unwrap();
    validate(&doc, response_schema(&doc, "get", "/subscriptions/{subscription}/accounts/{account}", 404), &body, "404").unwrap();

    // The reference page shows every path.
    let page = api.get(format!("{}/api/docs", app.base)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    for path in doc["paths"].as_object().unwrap().keys() {
        assert!(html.contains(&path.replace('&', "&amp;")), "docs page lacks {path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_answers_cross_site_requests_by_their_token_alone() {
    let app = spawn_app(Backend::Sqlite).await;
    app.login().await;
    let sub = app.subscription("S").await;
    let (token, _) = token_for(&app, &app.client, "cross", "1").await;
    let cross = |r: reqwest::RequestBuilder| r.header("sec-fetch-site", "cross-site").header("origin", "https://evil.example");
    // The portal's session cookie (the client carries it) opens nothing here: the API's own 401,
    // in its own shape, not the portal's cross-site refusal.
    let res = cross(app.client.post(url(&app, &format!("/subscriptions/{sub}/accounts")))).json(&json!({})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "Unauthenticated", "{body}");
    // The refusal is audited (a counted row per address: the first one at once).
    let filter =
        [("subscription_id", ""), ("from", ""), ("to", ""), ("user", ""), ("action", "auth/apiTokens/refused"), ("outcome", "denied")];
    let refused = json_ok(app.call("list_audit", &filter).await).await;
    assert_eq!(refused.as_array().map(Vec::len), Some(1), "{refused}");
    assert_eq!(refused[0]["resource"], format!("/api/v1/subscriptions/{sub}/accounts"), "{refused}");
    // A script's token works from anywhere.
    let res = cross(Client::new().get(url(&app, "/subscriptions"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}
