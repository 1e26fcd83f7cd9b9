//! The `rewind` command line against a running server, as an operator's script runs it: list
//! what can be restored, check a plan, start a restore and wait for it, bring a deleted
//! container back in place, create and delete accounts and handle their keys, with JSON or
//! table output and exit codes that say what happened.

use chrono::Utc;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, json_ok, spawn_app};
use crate::restore::{backed_up_through, contents, continuous_account, stamp};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `rewind ARGS` with the server's URL, `token` and the subscription in its environment.
async fn rewind(app: &TestApp, token: &str, sub: &str, args: &[&str]) -> Run {
    rewind_with_input(app, token, sub, args, "").await
}

/// [`rewind`], with `input` on its standard input.
async fn rewind_with_input(app: &TestApp, token: &str, sub: &str, args: &[&str], input: &str) -> Run {
    use std::io::Write;
    use std::process::Stdio;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_rewind"));
    cmd.args(args).env("REWIND_URL", &app.base).env("REWIND_TOKEN", token).env("REWIND_SUBSCRIPTION", sub);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let input = input.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn json_of(run: &Run) -> Value {
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_restores_from_the_command_line() {
    let app = spawn_app(Backend::Sqlite).await;
    app.login().await;
    let sub = app.subscription("S").await;
    let src = continuous_account(&app, &sub, "src").await;
    let db = &app.state.db;
    engine::store::create_database(db, &src, "shop", None).await.unwrap();
    let spec = engine::store::ContainerSpec::from_body(&json!({"id": "orders", "partitionKey": {"paths": ["/tenant"]}})).unwrap();
    engine::store::create_container(db, &src, "shop", spec).await.unwrap();
    for i in 0..10 {
        let doc = json!({"id": format!("o{i}"), "tenant": "t", "n": i});
        engine::store::write_item(db, &src, "shop", "orders", None, doc, engine::store::WriteMode::Create).await.unwrap();
    }
    let at = Utc::now();
    backed_up_through(&app, &sub, "src", at).await;
    let expected = contents(&app, &src).await;
    let made = json_ok(app.call("create_api_token", &[("name", "cli"), ("days", "1")]).await).await;
    let token = made["secret"].as_str().unwrap();

    let listed = json_of(&rewind(&app, token, &sub, &["restorable", "list", "-o", "json"]).await);
    assert!(listed.as_array().unwrap().iter().any(|a| a["id"] == src), "{listed}");
    let table = rewind(&app, token, &sub, &["restorable", "resources", &src, "--at", &stamp(at)]).await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(table.stdout.starts_with("DATABASE") && table.stdout.contains("orders"), "{}", table.stdout);

    let start = ["restore", "start", "--source", &src, "--at", &stamp(at), "--target", "from-cli", "-o", "json"];
    let plan = json_of(&rewind(&app, token, &sub, &[&start[..], &["--dry-run"]].concat()).await);
    assert_eq!(plan["resources"], json!(["shop/orders"]));
    let job = json_of(&rewind(&app, token, &sub, &[&start[..], &["--wait", "--timeout", "60"]].concat()).await);
    assert_eq!(job["state"], "Succeeded", "{job}");
    let target = json_ok(app.call("get_account", &[("subscription_id", &sub), ("name", "from-cli")]).await).await;
    assert_eq!(contents(&app, target["id"].as_str().unwrap()).await, expected);

    let jobs = rewind(&app, token, &sub, &["jobs", "list"]).await;
    assert_eq!(jobs.code, 0, "{}", jobs.stderr);
    assert!(jobs.stdout.starts_with("JOB") && jobs.stdout.contains("from-cli") && jobs.stdout.contains("Succeeded"), "{}", jobs.stdout);
    let status = json_of(&rewind(&app, token, &sub, &["restore", "status", job["id"].as_str().unwrap(), "-o", "json"]).await);
    assert_eq!(status["id"], job["id"]);

    // A container deleted by mistake comes back in place, found through the event feed.
    engine::store::delete_container(db, &src, "shop", "orders").await.unwrap();
    backed_up_through(&app, &sub, "src", Utc::now()).await;
    let events = json_of(&rewind(&app, token, &sub, &["restorable", "events", &src, "-o", "json"]).await);
    let deleted = events.as_array().unwrap().iter().find(|e| e["kind"] == "Delete" && e["container"] == "orders").unwrap().clone();
    // Cosmos DB's two feeds: the databases' events, and the containers' (of one database).
    let kinds = |feed: &Value| -> Vec<(String, String)> {
        feed.as_array()
            .unwrap()
            .iter()
            .map(|e| (e["kind"].as_str().unwrap().to_owned(), e["container"].as_str().unwrap().to_owned()))
            .collect()
    };
    let databases = json_of(&rewind(&app, token, &sub, &["restorable", "databases", &src, "-o", "json"]).await);
    assert_eq!(kinds(&databases), [("Create".to_owned(), String::new())], "{databases}");
    let containers = json_of(&rewind(&app, token, &sub, &["restorable", "containers", &src, "--database", "shop", "-o", "json"]).await);
    assert_eq!(
        kinds(&containers),
        [("Delete".to_owned(), "orders".to_owned()), ("Create".to_owned(), "orders".to_owned())],
        "{containers}"
    );
    let none = json_of(&rewind(&app, token, &sub, &["restorable", "containers", &src, "--database", "other", "-o", "json"]).await);
    assert_eq!(none, json!([]));
    let point = deleted["restore_point"].as_str().unwrap();
    let args = ["restore", "in-place", "--account", &src, "--at", point, "--resource", "shop/orders", "--wait", "-o", "json"];
    let job = json_of(&rewind(&app, token, &sub, &args).await);
    assert_eq!(job["state"], "Succeeded", "{job}");
    assert_eq!(contents(&app, &src).await, expected, "the container is back as it was");

    // Exit codes: refused (1), not allowed (3), not found (4), a usage error (2).
    let taken = rewind(&app, token, &sub, &start).await;
    assert_eq!(taken.code, 1, "{}", taken.stderr);
    assert!(taken.stderr.contains("409"), "{}", taken.stderr);
    assert_eq!(rewind(&app, "rwd_not-a-token", &sub, &["accounts", "list"]).await.code, 3);
    let missing = rewind(&app, token, &sub, &["accounts", "show", "missing"]).await;
    assert_eq!(missing.code, 4, "{}", missing.stderr);
    assert_eq!(rewind(&app, token, &sub, &["restore", "start", "--source", &src]).await.code, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_manages_accounts_and_keys_from_the_command_line() {
    let app = spawn_app(Backend::Sqlite).await;
    app.login().await;
    let sub = app.subscription("S").await;
    let made = json_ok(app.call("create_api_token", &[("name", "cli"), ("days", "1")]).await).await;
    let token = made["secret"].as_str().unwrap();

    let create = ["accounts", "create", "made-by-cli", "--region", "local", "--backup", "Continuous7Days", "-o", "json"];
    let account = json_of(&rewind(&app, token, &sub, &create).await);
    assert_eq!(
        (account["name"].as_str(), account["backup_policy"]["type"].as_str()),
        (Some("made-by-cli"), Some("Continuous")),
        "{account}"
    );
    // The server's rules, named: a bad policy field, a taken name.
    let bad = rewind(&app, token, &sub, &["accounts", "create", "other", "--region", "local", "--interval-hours", "99"]).await;
    assert_eq!(bad.code, 1, "{}", bad.stderr);
    assert!(bad.stderr.contains("400") && bad.stderr.contains("interval"), "{}", bad.stderr);
    let taken = rewind(&app, token, &sub, &create).await;
    assert!(taken.code == 1 && taken.stderr.contains("409"), "{}", taken.stderr);

    let keys = json_of(&rewind(&app, token, &sub, &["accounts", "keys", "made-by-cli", "-o", "json"]).await);
    assert_eq!(keys.as_object().unwrap().len(), 4, "{keys}");
    let table = rewind(&app, token, &sub, &["accounts", "keys", "made-by-cli"]).await;
    assert!(table.stdout.starts_with("KEY") && table.stdout.lines().count() == 5, "{}", table.stdout);
    let regenerated =
        rewind(&app, token, &sub, &["accounts", "regenerate-key", "made-by-cli", "--kind", "PrimaryMaster", "-o", "json"]).await;
    let after = json_of(&regenerated);
    let changed: Vec<&String> = keys.as_object().unwrap().iter().filter(|(k, v)| after[k.as_str()] != **v).map(|(k, _)| k).collect();
    assert_eq!(changed.len(), 1, "exactly one key changed: {changed:?}");
    let wrong = rewind(&app, token, &sub, &["accounts", "regenerate-key", "made-by-cli", "--kind", "Tertiary"]).await;
    assert!(wrong.code == 1 && wrong.stderr.contains("400"), "{}", wrong.stderr);

    let deleted = rewind(&app, token, &sub, &["accounts", "delete", "made-by-cli"]).await;
    assert_eq!(deleted.code, 0, "{}", deleted.stderr);
    assert!(deleted.stdout.contains("deleted"), "{}", deleted.stdout);
    assert_eq!(rewind(&app, token, &sub, &["accounts", "show", "made-by-cli"]).await.code, 4);
    assert_eq!(rewind(&app, token, &sub, &["accounts", "delete", "made-by-cli"]).await.code, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sets_up_a_team_from_the_command_line() {
    let app = spawn_app(Backend::Sqlite).await;
    app.login().await;
    let made = json_ok(app.call("create_api_token", &[("name", "cli"), ("days", "1")]).await).await;
    let token = made["secret"].as_str().unwrap();

    let sub = json_of(&rewind(&app, token, "", &["subscriptions", "create", "Team A", "-o", "json"]).await);
    let sub = sub["id"].as_str().unwrap().to_owned();
    let renamed = rewind(&app, token, "", &["subscriptions", "rename", &sub, "Team B"]).await;
    assert!(renamed.code == 0 && renamed.stdout.starts_with("NAME") && renamed.stdout.contains("Team B"), "{}", renamed.stderr);
    app.account(&sub, "orders").await;

    // The first password comes on standard input, never as an argument.
    let user = json_of(&rewind_with_input(&app, token, &sub, &["users", "create", "rita", "-o", "json"], "a-first-password-1\n").await);
    assert_eq!(user["must_change_password"], true);
    let no_password = rewind(&app, token, &sub, &["users", "create", "sam"]).await;
    assert!(no_password.code == 1 && no_password.stderr.contains("standard input"), "{}", no_password.stderr);
    let rita = crate::helpers::new_client();
    json_ok(app.call_with(&rita, "login", &[("username", "rita"), ("password", "a-first-password-1")]).await).await;

    // Roles by name, at the subscription and at one account.
    let roles = rewind(&app, token, &sub, &["roles", "list"]).await;
    assert!(roles.stdout.contains("Restore Operator"), "{}", roles.stdout);
    let given = ["assignments", "create", "--user", "rita", "--role", "Restore Operator", "--account", "orders", "-o", "json"];
    let assignment = json_of(&rewind(&app, token, &sub, &given).await);
    assert_eq!((assignment["scope_kind"].as_str(), assignment["role_name"].as_str()), (Some("account"), Some("Restore Operator")));
    json_of(&rewind(&app, token, &sub, &["assignments", "create", "--user", "rita", "--role", "Reader", "-o", "json"]).await);
    let unknown = rewind(&app, token, &sub, &["assignments", "create", "--user", "rita", "--role", "Janitor"]).await;
    assert!(unknown.code == 4 && unknown.stderr.contains("Janitor"), "{}", unknown.stderr);
    let listed = json_of(&rewind(&app, token, &sub, &["assignments", "list", "--account", "orders", "-o", "json"]).await);
    let ritas: Vec<(&str, bool)> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["user_name"] == "rita")
        .map(|a| (a["role_name"].as_str().unwrap(), a["inherited"].as_bool().unwrap()))
        .collect();
    assert_eq!(ritas.len(), 2, "{listed}");
    assert!(ritas.contains(&("Reader", true)) && ritas.contains(&("Restore Operator", false)), "{ritas:?}");
    let id = assignment["id"].as_str().unwrap();
    let removed = rewind(&app, token, &sub, &["assignments", "delete", id, "--account", "orders"]).await;
    assert!(removed.code == 0 && removed.stdout.contains("removed"), "{}", removed.stderr);

    // A custom role, then gone again.
    let custom = json_of(&rewind(&app, token, &sub, &["roles", "create", "Viewer", "--action", "accounts/read", "-o", "json"]).await);
    let bad = rewind(&app, token, &sub, &["roles", "create", "Flyer", "--action", "accounts/fly"]).await;
    assert!(bad.code == 1 && bad.stderr.contains("accounts/fly"), "{}", bad.stderr);
    assert_eq!(rewind(&app, token, &sub, &["roles", "delete", custom["id"].as_str().unwrap()]).await.code, 0);

    // Disabled and enabled again; the table says so.
    let disabled = rewind(&app, token, &sub, &["users", "disable", "rita"]).await;
    assert!(disabled.stdout.lines().nth(1).is_some_and(|l| l.contains("rita") && l.contains("true")), "{}", disabled.stdout);
    let enabled = json_of(&rewind(&app, token, &sub, &["users", "enable", "rita", "-o", "json"]).await);
    assert_eq!(enabled["disabled"], false);
    let policy = ["accounts", "set-policy", "orders", "--interval-hours", "6", "--retention-hours", "24", "-o", "json"];
    let account = json_of(&rewind(&app, token, &sub, &policy).await);
    assert_eq!(
        (account["backup_policy"]["interval_hours"].as_u64(), account["backup_policy"]["retention_hours"].as_u64()),
        (Some(6), Some(24))
    );
    let short = rewind(&app, token, &sub, &["accounts", "set-policy", "orders", "--retention-hours", "7"]).await;
    assert!(short.code == 1 && short.stderr.contains("twice the interval"), "{}", short.stderr);
    let users = rewind(&app, token, &sub, &["users", "list"]).await;
    assert!(users.stdout.starts_with("NAME") && users.stdout.contains("rita"), "{}", users.stdout);
    assert_eq!(rewind(&app, token, &sub, &["users", "disable", "ghost"]).await.code, 4);
}
