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

crate::on_both_backends!(a_script_restores_with_a_token);

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

    // A sample of answers validates against the document.
    let (token, _) = token_for(&app, &app.client, "docs", "1").await;
    for (path, concrete) in [
        ("/subscriptions/{subscription}/accounts", format!("/subscriptions/{sub}/accounts")),
        ("/subscriptions/{subscription}/accounts/{account}", format!("/subscriptions/{sub}/accounts/periodic-one")),
        ("/subscriptions/{subscription}/restorableDatabaseAccounts", format!("/subscriptions/{sub}/restorableDatabaseAccounts")),
        ("/subscriptions/{subscription}/restores", format!("/subscriptions/{sub}/restores")),
        ("/tokens", "/tokens".to_owned()),
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
