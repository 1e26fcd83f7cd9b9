//! The authorization matrix: for every server function and every REST endpoint, every built-in
//! role, assigned at the subscription, at one account, or at another subscription, the call is
//! allowed or refused with 403 exactly as these tables say. A server function or an endpoint of
//! the OpenAPI document missing from its table fails the test.

use reqwest::{Client, StatusCode};
use std::collections::BTreeSet;

use crate::helpers::{TestApp, USER_PASSWORD};

/// Where an endpoint's check applies, relative to the fixture subscription S1 and account A1.
#[derive(Debug, Clone, Copy)]
enum Check {
    /// Signed-in is enough.
    SignedIn,
    /// Any role in or over S1.
    SeesSubscription,
    /// The listed roles, held on S1.
    Subscription(&'static [&'static str]),
    /// The listed roles, held on S1 or on A1.
    Account(&'static [&'static str]),
    /// Only root-level roles (none of the scenarios have one).
    Root,
}

/// Roles that manage databases and containers (`accounts/write`).
const MANAGE: &[&str] = &["Owner", "Account Contributor", "Account Operator"];
/// Roles that read and write items (`data/read`, `data/write`).
const DATA: &[&str] = &["Owner", "Account Contributor"];
const ALL: &[&str] = &["Owner", "Account Contributor", "Account Operator", "Backup Operator", "Restore Operator", "Support", "Reader"];

/// Every server function and its check. Adding one without a row here fails `table_is_complete`.
const MATRIX: &[(&str, Check)] = &[
    ("login", Check::SignedIn),
    ("logout", Check::SignedIn),
    ("current_user", Check::SignedIn),
    ("change_password", Check::SignedIn),
    ("my_permissions", Check::SignedIn),
    ("list_subscriptions", Check::SignedIn),
    ("get_subscription", Check::SeesSubscription),
    ("list_accounts", Check::SeesSubscription),
    ("list_role_definitions", Check::SeesSubscription),
    ("create_subscription", Check::Root),
    ("rename_subscription", Check::Subscription(&["Owner"])),
    ("create_account", Check::Subscription(&["Owner", "Account Contributor", "Account Operator"])),
    ("get_account", Check::Account(ALL)),
    ("list_keys", Check::Account(&["Owner", "Account Contributor"])),
    ("regenerate_key", Check::Account(&["Owner", "Account Contributor"])),
    ("explorer_tree", Check::Account(ALL)),
    ("explorer_create_database", Check::Account(MANAGE)),
    ("explorer_delete_database", Check::Account(MANAGE)),
    ("explorer_create_container", Check::Account(MANAGE)),
    ("explorer_delete_container", Check::Account(MANAGE)),
    ("explorer_items", Check::Account(DATA)),
    ("explorer_query", Check::Account(DATA)),
    ("explorer_save_item", Check::Account(DATA)),
    ("explorer_delete_item", Check::Account(DATA)),
    ("delete_account", Check::Account(&["Owner", "Account Contributor", "Account Operator"])),
    ("list_users", Check::Root),
    ("create_user", Check::Root),
    ("set_user_disabled", Check::Root),
    ("create_custom_role", Check::Subscription(&["Owner"])),
    ("delete_custom_role", Check::Subscription(&["Owner"])),
    ("list_role_assignments", Check::Subscription(&["Owner", "Reader"])),
    ("create_role_assignment", Check::Subscription(&["Owner"])),
    ("delete_role_assignment", Check::Subscription(&["Owner"])),
    ("list_audit", Check::Subscription(&["Owner"])),
    ("verify_audit_chain", Check::Root),
    // Restore: the lists filter by `restorableAccounts/read`; starting one needs the restore
    // action on the source and `accounts/write` in the subscription (SPEC §5).
    ("list_restorable_accounts", Check::SeesSubscription),
    ("list_restore_jobs", Check::SeesSubscription),
    ("restorable_resources", Check::Account(&["Owner", "Restore Operator"])),
    ("start_restore", Check::Subscription(&["Owner"])),
    // A dry run is checked as starting would be.
    ("preview_restore", Check::Subscription(&["Owner"])),
    ("list_resource_events", Check::Account(&["Owner", "Restore Operator"])),
    // In place: the restore action and `accounts/write` on the account itself.
    ("restore_in_place", Check::Account(&["Owner"])),
    // Periodic mode: backups are listed with `restoreRequests/read`, requests filed with
    // `restoreRequests/write`; approving is tested in `restore.rs` (here the job does not exist).
    ("list_backups", Check::Account(&["Owner", "Restore Operator", "Support", "Reader"])),
    ("request_restore", Check::Account(&["Owner", "Restore Operator"])),
    ("decide_restore_request", Check::SeesSubscription),
    ("list_customer_keys", Check::Subscription(&["Owner", "Account Contributor", "Account Operator"])),
    // Backup verification.
    ("verify_backups", Check::Account(&["Owner", "Backup Operator"])),
    ("last_verification", Check::Account(&["Owner", "Account Contributor", "Account Operator", "Backup Operator", "Reader"])),
    // The backup page.
    ("backup_status", Check::Account(&["Owner", "Account Contributor", "Account Operator", "Backup Operator", "Reader"])),
    ("preview_backup_policy", Check::Account(&["Owner", "Backup Operator"])),
    ("change_backup_policy", Check::Account(&["Owner", "Backup Operator"])),
    // One's own API tokens.
    ("create_api_token", Check::SignedIn),
    ("list_api_tokens", Check::SignedIn),
    ("revoke_api_token", Check::SignedIn),
];

/// Every REST endpoint (method, path under `/api/v1`) and its check: the same as the server
/// function it shares its operation with. An operation of the OpenAPI document without a row
/// here fails the test.
const REST_MATRIX: &[(&str, &str, Check)] = &[
    ("GET", "/subscriptions/{subscription}/accounts", Check::SeesSubscription),
    ("GET", "/subscriptions/{subscription}/accounts/{account}", Check::Account(ALL)),
    ("GET", "/subscriptions/{subscription}/restorableDatabaseAccounts", Check::SeesSubscription),
    (
        "GET",
        "/subscriptions/{subscription}/restorableDatabaseAccounts/{account}/restorableSqlResources",
        Check::Account(&["Owner", "Restore Operator"]),
    ),
    ("GET", "/subscriptions/{subscription}/restorableDatabaseAccounts/{account}/events", Check::Account(&["Owner", "Restore Operator"])),
    (
        "GET",
        "/subscriptions/{subscription}/restorableDatabaseAccounts/{account}/restorableSqlDatabases",
        Check::Account(&["Owner", "Restore Operator"]),
    ),
    (
        "GET",
        "/subscriptions/{subscription}/restorableDatabaseAccounts/{account}/restorableSqlContainers",
        Check::Account(&["Owner", "Restore Operator"]),
    ),
    ("POST", "/subscriptions/{subscription}/restores", Check::Subscription(&["Owner"])),
    ("GET", "/subscriptions/{subscription}/restores", Check::SeesSubscription),
    ("GET", "/subscriptions/{subscription}/restores/{job}", Check::SeesSubscription),
    ("GET", "/tokens", Check::SignedIn),
    ("DELETE", "/tokens/{token}", Check::SignedIn),
    ("POST", "/subscriptions/{subscription}/accounts", Check::Subscription(&["Owner", "Account Contributor", "Account Operator"])),
    ("DELETE", "/subscriptions/{subscription}/accounts/{account}", Check::Account(&["Owner", "Account Contributor", "Account Operator"])),
    ("POST", "/subscriptions/{subscription}/accounts/{account}/listKeys", Check::Account(&["Owner", "Account Contributor"])),
    ("POST", "/subscriptions/{subscription}/accounts/{account}/regenerateKey", Check::Account(&["Owner", "Account Contributor"])),
    (
        "GET",
        "/subscriptions/{subscription}/restorableDatabaseAccounts/{account}/backups",
        Check::Account(&["Owner", "Restore Operator", "Support", "Reader"]),
    ),
    ("POST", "/subscriptions/{subscription}/restorableDatabaseAccounts/{account}/restoreInPlace", Check::Account(&["Owner"])),
    ("POST", "/subscriptions/{subscription}/restoreRequests", Check::Account(&["Owner", "Restore Operator"])),
    ("POST", "/subscriptions/{subscription}/restores/{job}/approve", Check::SeesSubscription),
    ("POST", "/subscriptions/{subscription}/restores/{job}/reject", Check::SeesSubscription),
    ("PATCH", "/subscriptions/{subscription}/accounts/{account}/backupPolicy", Check::Account(&["Owner", "Backup Operator"])),
    ("POST", "/subscriptions/{subscription}/accounts/{account}/backups/verify", Check::Account(&["Owner", "Backup Operator"])),
    ("POST", "/subscriptions/{subscription}/accounts/{account}/backupPolicy/preview", Check::Account(&["Owner", "Backup Operator"])),
    (
        "GET",
        "/subscriptions/{subscription}/accounts/{account}/backups",
        Check::Account(&["Owner", "Account Contributor", "Account Operator", "Backup Operator", "Reader"]),
    ),
    (
        "POST",
        "/subscriptions/{subscription}/accounts/{account}/rotateBackupKey",
        Check::Account(&["Owner", "Account Contributor", "Account Operator"]),
    ),
    ("GET", "/subscriptions/{subscription}/customerKeys", Check::Subscription(&["Owner", "Account Contributor", "Account Operator"])),
    (
        "GET",
        "/subscriptions/{subscription}/accounts/{account}/backups/verification",
        Check::Account(&["Owner", "Account Contributor", "Account Operator", "Backup Operator", "Reader"]),
    ),
    ("GET", "/subscriptions", Check::SignedIn),
    ("POST", "/subscriptions", Check::Root),
    ("GET", "/subscriptions/{subscription}", Check::SeesSubscription),
    ("PATCH", "/subscriptions/{subscription}", Check::Subscription(&["Owner"])),
    ("GET", "/users", Check::Root),
    ("POST", "/users", Check::Root),
    ("PATCH", "/users/{user}", Check::Root),
    ("GET", "/subscriptions/{subscription}/roleDefinitions", Check::SeesSubscription),
    ("POST", "/subscriptions/{subscription}/roleDefinitions", Check::Subscription(&["Owner"])),
    ("DELETE", "/subscriptions/{subscription}/roleDefinitions/{role}", Check::Subscription(&["Owner"])),
    ("GET", "/subscriptions/{subscription}/roleAssignments", Check::Subscription(&["Owner", "Reader"])),
    ("POST", "/subscriptions/{subscription}/roleAssignments", Check::Subscription(&["Owner"])),
    ("DELETE", "/subscriptions/{subscription}/roleAssignments/{assignment}", Check::Subscription(&["Owner"])),
    ("GET", "/subscriptions/{subscription}/accounts/{account}/roleAssignments", Check::Account(&["Owner", "Reader"])),
    ("POST", "/subscriptions/{subscription}/accounts/{account}/roleAssignments", Check::Account(&["Owner"])),
    ("DELETE", "/subscriptions/{subscription}/accounts/{account}/roleAssignments/{assignment}", Check::Account(&["Owner"])),
];

/// REST calls that change the fixture for the calls after them: made last, next to the server
/// functions that do the same.
const REST_LAST: &[(&str, &str)] = &[("DELETE", "/subscriptions/{subscription}/accounts/{account}")];

/// One call of the matrix: a REST operation or a server function.
enum Call {
    Rest(&'static (&'static str, &'static str, Check)),
    ServerFn(&'static (&'static str, Check)),
}

/// The operations the served OpenAPI document describes, as `METHOD path`.
async fn openapi(app: &TestApp) -> serde_json::Value {
    app.client.get(format!("{}/api/v1/openapi.json", app.base)).send().await.unwrap().json().await.unwrap()
}

async fn described_operations(app: &TestApp) -> BTreeSet<String> {
    let doc = openapi(app).await;
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            out.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    out
}

/// Calls a REST endpoint of the matrix as the fixture's user, with their API token.
async fn call_rest(app: &TestApp, token: &str, method: &str, path: &str, f: &Fixture) -> reqwest::Response {
    // Accounts are named by name under `accounts/`, by id under `restorableDatabaseAccounts/`.
    let account = if path.contains("restorableDatabaseAccounts/") { &f.account_id } else { &f.account };
    let concrete = path
        .replace("{subscription}", &f.sub)
        .replace("{account}", account)
        .replace("{job}", "no-such-job")
        .replace("{token}", "no-such-token")
        .replace("{role}", "no-such-role")
        .replace("{assignment}", "no-such-assignment")
        .replace("{user}", &f.user);
    let url = format!("{}/api/v1{concrete}", app.base);
    let client = Client::new();
    let at = "2026-01-01T00:00:00Z";
    let u = &f.user;
    let body = match (method, path) {
        (_, "/subscriptions/{subscription}/restores") => {
            serde_json::json!({"sourceAccountId": f.account_id, "restoreTimestamp": at, "targetAccountName": format!("rest-restored-{u}")})
        }
        (_, "/subscriptions/{subscription}/restoreRequests") => {
            serde_json::json!({"sourceAccountId": f.account_id, "backupTimestamp": at, "targetAccountName": format!("rest-req-{u}")})
        }
        (_, p) if p.ends_with("/restoreInPlace") => serde_json::json!({"restoreTimestamp": at, "resources": ["d"]}),
        (_, "/subscriptions/{subscription}/accounts") => serde_json::json!({"name": format!("rest-made-{u}"), "region": "x"}),
        (_, p) if p.ends_with("/regenerateKey") => serde_json::json!({"keyKind": "SecondaryReadonly"}),
        ("POST", "/subscriptions") => serde_json::json!({"name": format!("rest-sub-{u}")}),
        ("PATCH", "/subscriptions/{subscription}") => serde_json::json!({"name": format!("rest-renamed-{u}")}),
        ("POST", "/users") => serde_json::json!({"name": format!("rest-new-{u}"), "password": "long-enough-password"}),
        ("PATCH", "/users/{user}") => serde_json::json!({"disabled": false}),
        (_, p) if p.contains("/backupPolicy") => serde_json::json!({"redundancy": "Zone"}),
        (_, p) if p.ends_with("/backups/verify") => serde_json::json!({"deep": true}),
        (_, p) if p.ends_with("/rotateBackupKey") => serde_json::json!({"customerKey": null}),
        (_, p) if p.ends_with("/roleDefinitions") => serde_json::json!({"name": "RestCustom", "actions": ["accounts/read"]}),
        (_, p) if p.ends_with("/roleAssignments") => serde_json::json!({"userName": u, "roleId": "builtin:Reader"}),
        _ => serde_json::json!({"reason": "matrix"}),
    };
    let req = match method {
        "GET" if path.ends_with("/restorableSqlResources") => client.get(&url).query(&[("restoreTimestamp", at)]),
        "GET" => client.get(&url),
        "DELETE" => client.delete(&url),
        "PATCH" => client.patch(&url).json(&body),
        _ => client.post(&url).json(&body),
    };
    req.bearer_auth(token).send().await.unwrap()
}

#[derive(Debug, Clone, Copy, PartialEq)]
/// Where the role under test is held.
enum Held {
    Subscription,
    Account,
    OtherSubscription,
}

fn expected_allowed(check: Check, role: &str, held: Held) -> bool {
    match check {
        Check::SignedIn => true,
        Check::SeesSubscription => held != Held::OtherSubscription,
        Check::Subscription(roles) => held == Held::Subscription && roles.contains(&role),
        Check::Account(roles) => held != Held::OtherSubscription && roles.contains(&role),
        Check::Root => false,
    }
}

struct Fixture {
    sub: String,
    account: String,
    account_id: String,
    user: String,
}

async fn fixture(app: &TestApp, role: &str, held: Held, n: usize) -> (Fixture, Client) {
    let sub = app.subscription(&format!("S1-{n}")).await;
    let other = app.subscription(&format!("S2-{n}")).await;
    let account = format!("acct-{n}");
    let a = app.account(&sub, &account).await;
    let account_id = a["id"].as_str().unwrap().to_owned();
    let user = format!("user-{n}");
    let client = app.new_user(&user).await;
    let role_id = format!("builtin:{role}");
    let (s, acct) = match held {
        Held::Subscription => (sub.clone(), String::new()),
        Held::Account => (sub.clone(), account_id.clone()),
        Held::OtherSubscription => (other.clone(), String::new()),
    };
    app.assign(&s, &acct, &user, &role_id).await;
    (Fixture { sub, account, account_id, user }, client)
}

fn args(endpoint: &str, f: &Fixture) -> Vec<(&'static str, String)> {
    let sub = || ("subscription_id", f.sub.clone());
    match endpoint {
        "login" => vec![("username", f.user.clone()), ("password", USER_PASSWORD.into())],
        "change_password" => vec![("current", "x".into()), ("new", "a-new-password-1".into()), ("confirm", "mismatch-000000".into())],
        "my_permissions" => vec![sub(), ("account_id", f.account_id.clone())],
        "get_subscription" => vec![("id", f.sub.clone())],
        "list_accounts" | "list_role_definitions" | "list_restorable_accounts" | "list_restore_jobs" | "list_customer_keys" => vec![sub()],
        "restorable_resources" => vec![sub(), ("account_id", f.account_id.clone()), ("at", "2026-01-01T00:00:00Z".into())],
        "list_resource_events" | "list_backups" => vec![sub(), ("account_id", f.account_id.clone())],
        "request_restore" => vec![
            sub(),
            ("account_id", f.account_id.clone()),
            ("backup_at", "2026-01-01T00:00:00Z".into()),
            ("target_name", String::new()),
            ("resources", String::new()),
        ],
        "decide_restore_request" => {
            vec![sub(), ("job_id", "no-such-request".into()), ("approve", "true".into()), ("reason", String::new())]
        }
        "restore_in_place" => {
            vec![sub(), ("account_id", f.account_id.clone()), ("restore_at", "2026-01-01T00:00:00Z".into()), ("resources", "d".into())]
        }
        "start_restore" | "preview_restore" => vec![
            sub(),
            ("source_account_id", f.account_id.clone()),
            ("restore_at", "2026-01-01T00:00:00Z".into()),
            ("target_name", format!("restored-{}", f.user)),
            ("resources", String::new()),
        ],
        "create_subscription" => vec![("name", format!("made-by-{}", f.user))],
        "rename_subscription" => vec![("id", f.sub.clone()), ("name", format!("renamed-{}", f.user))],
        "create_account" => vec![sub(), ("name", format!("made-{}", f.user)), ("region", "x".into()), ("mode", String::new())],
        "get_account" | "list_keys" | "delete_account" | "last_verification" | "backup_status" => vec![sub(), ("name", f.account.clone())],
        // As the REST rows: Zone redundancy, which the test server has a store for.
        "preview_backup_policy" | "change_backup_policy" => vec![sub(), ("name", f.account.clone()), ("redundancy", "Zone".into())],
        "verify_backups" => vec![sub(), ("name", f.account.clone()), ("deep", "on".into())],
        e if e.starts_with("explorer_") => vec![
            sub(),
            ("name", f.account.clone()),
            ("database", "d".into()),
            ("container", "c".into()),
            ("partition_key", "/pk".into()),
            ("throughput", "400".into()),
            ("after", String::new()),
            ("json", "{\"id\": \"x\", \"pk\": \"p\"}".into()),
            ("original_pk", String::new()),
            ("original_id", String::new()),
            ("pk", "[\"p\"]".into()),
            ("id", "x".into()),
            ("sql", "SELECT * FROM c".into()),
        ],
        "regenerate_key" => vec![sub(), ("name", f.account.clone()), ("kind", "SecondaryReadonly".into())],
        "create_user" => vec![("name", format!("new-{}", f.user)), ("password", "long-enough-password".into())],
        "set_user_disabled" => vec![("name", f.user.clone()), ("disabled", "false".into())],
        "create_custom_role" => vec![sub(), ("name", "Custom".into()), ("description", String::new()), ("actions", "accounts/read".into())],
        "delete_custom_role" => vec![sub(), ("role_id", "no-such-role".into())],
        "list_role_assignments" => vec![sub(), ("account_id", String::new())],
        "create_role_assignment" => {
            vec![sub(), ("account_id", String::new()), ("user_name", f.user.clone()), ("role_id", "builtin:Reader".into())]
        }
        "delete_role_assignment" => vec![sub(), ("account_id", String::new()), ("assignment_id", "no-such-assignment".into())],
        "create_api_token" => vec![("name", "from-the-matrix".into()), ("days", "0".into())],
        "revoke_api_token" => vec![("id", "no-such-token".into())],
        "list_audit" => vec![
            sub(),
            ("from", String::new()),
            ("to", String::new()),
            ("user", String::new()),
            ("action", String::new()),
            ("outcome", String::new()),
        ],
        _ => vec![],
    }
}

async fn every_role_at_every_scope_gets_exactly_its_permissions(app: TestApp) {
    app.login().await;
    let listed: BTreeSet<String> = REST_MATRIX.iter().map(|(m, p, _)| format!("{m} {p}")).collect();
    let described = described_operations(&app).await;
    assert_eq!(listed, described, "REST_MATRIX must list exactly the operations of the OpenAPI document");
    let doc = openapi(&app).await;
    let mut failures = Vec::new();
    let mut n = 0;
    for role in ALL {
        for held in [Held::Subscription, Held::Account, Held::OtherSubscription] {
            n += 1;
            let (fx, client) = fixture(&app, role, held, n).await;
            let made = app.call_with(&client, "create_api_token", &[("name", "matrix"), ("days", "1")]).await;
            let token = made.json::<serde_json::Value>().await.unwrap()["secret"].as_str().unwrap().to_owned();
            // REST first (what changes the fixture last), then the server functions (destructive
            // ones last, signing out the very last), so every call sees the fixture intact.
            let (rest_last, rest_first): (Vec<_>, Vec<_>) = REST_MATRIX.iter().partition(|(m, p, _)| REST_LAST.contains(&(*m, *p)));
            const LAST: [&str; 2] = ["delete_account", "logout"];
            let calls = rest_first
                .into_iter()
                .map(Call::Rest)
                .chain(MATRIX.iter().filter(|(e, _)| !LAST.contains(e)).map(Call::ServerFn))
                .chain(rest_last.into_iter().map(Call::Rest))
                .chain(LAST.iter().filter_map(|l| MATRIX.iter().find(|(e, _)| e == l)).map(Call::ServerFn));
            for call in calls {
                let (what, check, res) = match call {
                    Call::Rest((method, path, check)) => {
                        let res = call_rest(&app, &token, method, path, &fx).await;
                        // Whatever it answers, the document says it may.
                        let status = res.status().as_u16().to_string();
                        if doc["paths"][path][method.to_lowercase()]["responses"].get(&status).is_none() {
                            failures
                                .push(format!("REST {method} {path} as {role} {held:?} answered {status}, which its description lacks"));
                        }
                        (format!("REST {method} {path}"), *check, res)
                    }
                    Call::ServerFn((endpoint, check)) => {
                        let a = args(endpoint, &fx);
                        let pairs: Vec<(&str, &str)> = a.iter().map(|(k, v)| (*k, v.as_str())).collect();
                        ((*endpoint).to_owned(), *check, app.call_with(&client, endpoint, &pairs).await)
                    }
                };
                let status = res.status();
                let allowed = expected_allowed(check, role, held);
                let ok = if allowed {
                    status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED
                } else {
                    status == StatusCode::FORBIDDEN
                };
                if !ok {
                    let body = res.text().await.unwrap_or_default();
                    failures.push(format!(
                        "{what} as {role} {held:?}: expected {}, got {status} {body}",
                        if allowed { "allowed" } else { "403" }
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn table_is_complete() {
    let registered: BTreeSet<String> =
        leptos::server_fn::axum::server_fn_paths().map(|(path, _)| path.trim_start_matches("/api/").to_owned()).collect();
    let listed: BTreeSet<String> = MATRIX.iter().map(|(e, _)| (*e).to_owned()).collect();
    let missing: Vec<_> = registered.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&registered).collect();
    assert!(missing.is_empty(), "server functions without an authorization-matrix entry: {missing:?}");
    assert!(stale.is_empty(), "matrix entries for server functions that no longer exist: {stale:?}");
}

crate::on_both_backends!(every_role_at_every_scope_gets_exactly_its_permissions);
