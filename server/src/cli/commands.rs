//! What each command does. `serve` and `migrate` run on this machine; the rest call a server's
//! REST API (see [`super::api`]).

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

use domain::restore::JobState;

use super::api::{Api, Failure};
use super::output::{Column, print};
use super::{
    AccountsCommand, AssignmentScope, AssignmentsCommand, Cli, Command, CreateArgs, Exit, InPlaceArgs, JobsCommand, Remote, RequestArgs,
    RestorableCommand, RestoreCommand, RolesCommand, StartArgs, SubscriptionsCommand, UsersCommand, WaitArgs,
};
use crate::{Application, Settings, bootstrap, telemetry};

const JOB_COLUMNS: &[Column] = &[
    ("JOB", "/id"),
    ("STATE", "/state"),
    ("PHASE", "/phase"),
    ("SOURCE", "/source_account_name"),
    ("TARGET", "/target_account_name"),
    ("RESTORE TO", "/restore_at"),
    ("ITEMS", "/items_done"),
    ("MESSAGE", "/message"),
];

/// A database or container event feed.
const EVENT_COLUMNS: &[Column] =
    &[("AT", "/at"), ("EVENT", "/kind"), ("TYPE", "/resource_type"), ("DATABASE", "/database"), ("CONTAINER", "/container")];

/// Runs the command line; the exit code says how it went.
pub async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => return local(serve().await),
        Command::Migrate => return local(migrate().await),
        Command::Recover { from_storage, options } => return local(recover(from_storage, options).await),
        Command::Verify { account, deep } => return local(verify(account, deep).await),
        Command::Subscriptions { command, remote } => subscriptions(command, &remote).await,
        Command::Accounts { command, remote } => accounts(command, &remote).await,
        Command::Restorable { command, remote } => restorable(command, &remote).await,
        Command::Restore { command, remote } => restore(command, &remote).await,
        Command::Jobs { command, remote } => jobs(command, &remote).await,
        Command::Users { command, remote } => users(command, &remote).await,
        Command::Roles { command, remote } => roles(command, &remote).await,
        Command::Assignments { command, remote } => assignments(command, &remote).await,
    };
    match result {
        Ok(exit) => exit.into(),
        Err(f) => {
            eprintln!("rewind: {}", f.message);
            f.exit.into()
        }
    }
}

fn local(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rewind: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Loads the configuration, builds the application, serves until a signal arrives.
async fn serve() -> anyhow::Result<()> {
    let settings = Settings::load().context("loading configuration")?;
    telemetry::init(&settings.log);
    let app = Application::build(settings).await.context("starting Rewind")?;
    let shutdown = CancellationToken::new();
    tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            telemetry::wait_for_signal().await;
            shutdown.cancel();
        }
    });
    app.run_until_stopped(shutdown).await
}

/// Opens the configured service database and applies its migrations.
async fn migrate() -> anyhow::Result<()> {
    let settings = Settings::load().context("loading configuration")?;
    telemetry::init(&settings.log);
    bootstrap::open_database(&settings).await?;
    println!("the service database is migrated");
    Ok(())
}

/// Rebuilds the backup catalog of the configured (empty) service database from backup storage.
async fn recover(from_storage: Option<String>, options: Vec<(String, String)>) -> anyhow::Result<()> {
    let settings = Settings::load().context("loading configuration")?;
    telemetry::init(&settings.log);
    if settings.master_key.is_none() && !settings.master_key_file().exists() {
        anyhow::bail!(
            "no master key at {}: recovery needs the master key the backups were made with (put it there, or set REWIND_MASTER_KEY)",
            settings.master_key_file().display()
        );
    }
    let master = bootstrap::load_master_key(&settings)?;
    let storage = match from_storage {
        Some(url) => backup::storage::BackupStorage::new(backup::storage::Store::open(&url, &options.into_iter().collect())?, None, None),
        None => bootstrap::open_backup_storage(&settings).await?,
    };
    storage.check().await?;
    let db = bootstrap::open_database(&settings).await?;
    let keys = bootstrap::backup_keys(&master, &settings);
    let recovery = control::backup_catalog::recover(&db, &storage, &master, &keys).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    for line in &recovery.accounts {
        println!("recovered {line}");
    }
    println!("{} account(s) recovered from {}; each is deleted and restorable", recovery.accounts.len(), storage.label());
    for problem in &recovery.problems {
        eprintln!("problem: {problem}");
    }
    if !recovery.problems.is_empty() {
        anyhow::bail!("recovered with {} problem(s) (above)", recovery.problems.len());
    }
    Ok(())
}

/// Verifies the backups of the configured service's accounts (or those named `account`).
async fn verify(account: Option<String>, deep: bool) -> anyhow::Result<()> {
    use control::db::account as accounts;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let settings = Settings::load().context("loading configuration")?;
    telemetry::init(&settings.log);
    let master = bootstrap::load_master_key(&settings)?;
    let storage = bootstrap::open_backup_storage(&settings).await?;
    let db = bootstrap::open_database(&settings).await?;
    let keys = bootstrap::backup_keys(&master, &settings);
    let ctx = control::Ctx { db: &db, backup_storage: &storage, master_key: &master, backup_keys: &keys, public_url: "" };
    let mut rows = accounts::Entity::find().order_by_asc(accounts::Column::Name);
    if let Some(name) = &account {
        rows = rows.filter(accounts::Column::Name.eq(name));
    }
    let rows = rows.all(&db).await?;
    if rows.is_empty() {
        anyhow::bail!("no account {}", account.map_or_else(|| "at all".to_owned(), |n| format!("named {n:?}")));
    }
    let depth = if deep { backup::verify::Depth::Deep } else { backup::verify::Depth::Presence };
    let mut problems = 0;
    for row in rows {
        let v = control::verification::run_audited(&ctx, &row, depth, "rewind verify")
            .await
            .map_err(|e| anyhow::anyhow!("{}: {e}", row.name))?;
        let state = if row.deleted_at.is_some() { " (deleted)" } else { "" };
        let verdict = if v.passed { "passed".to_owned() } else { format!("{} problem(s)", v.problem_count) };
        println!("{}{state} ({}): {verdict} — {} object copies, {} bytes", row.name, row.id, v.objects, v.bytes);
        for p in &v.problems {
            println!("  {p}");
        }
        problems += v.problem_count;
    }
    if problems > 0 {
        anyhow::bail!("{problems} problem(s) found");
    }
    Ok(())
}

async fn subscriptions(command: SubscriptionsCommand, remote: &Remote) -> Result<Exit, Failure> {
    let api = Api::new(remote)?;
    let all = Api::path(&["subscriptions"]);
    let value = match command {
        SubscriptionsCommand::List => api.get(&all, &[]).await?,
        SubscriptionsCommand::Show { id } => api.get(&all.join(&[&id]), &[]).await?,
        SubscriptionsCommand::Create { name } => api.post(&all, &[], &json!({ "name": name })).await?,
        SubscriptionsCommand::Rename { id, name } => api.patch(&all.join(&[&id]), &json!({ "name": name })).await?,
    };
    print(remote.output, &value, &[("NAME", "/name"), ("ID", "/id"), ("ACCOUNTS", "/account_count"), ("CREATED", "/created_at")]);
    Ok(Exit::Done)
}

async fn users(command: UsersCommand, remote: &Remote) -> Result<Exit, Failure> {
    let api = Api::new(remote)?;
    let all = Api::path(&["users"]);
    let value = match command {
        UsersCommand::List => api.get(&all, &[]).await?,
        UsersCommand::Create { name } => {
            let password = first_password()?;
            api.post(&all, &[], &json!({ "name": name, "password": password })).await?
        }
        UsersCommand::Disable { name } => api.patch(&all.join(&[&name]), &json!({ "disabled": true })).await?,
        UsersCommand::Enable { name } => api.patch(&all.join(&[&name]), &json!({ "disabled": false })).await?,
    };
    let columns: &[Column] =
        &[("NAME", "/name"), ("DISABLED", "/disabled"), ("MUST CHANGE PASSWORD", "/must_change_password"), ("CREATED", "/created_at")];
    print(remote.output, &value, columns);
    Ok(Exit::Done)
}

/// A new user's first password: one line of standard input (never an argument, which other
/// users of the machine could read in the process list).
fn first_password() -> Result<String, Failure> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        eprint!("first password (the user changes it at first sign-in): ");
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| Failure::new(Exit::Refused, format!("reading the password from standard input: {e}")))?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        return Err(Failure::new(Exit::Refused, "no password on standard input (give the new user's first password as one line)"));
    }
    Ok(password)
}

const ROLE_COLUMNS: &[Column] = &[("NAME", "/name"), ("ID", "/id"), ("BUILT IN", "/builtin"), ("ACTIONS", "/actions")];

async fn roles(command: RolesCommand, remote: &Remote) -> Result<Exit, Failure> {
    let api = Api::new(remote)?;
    let all = api.subscription_path()?.join(&["roleDefinitions"]);
    let value = match command {
        RolesCommand::List => api.get(&all, &[]).await?,
        RolesCommand::Create { name, actions, description } => {
            api.post(&all, &[], &json!({ "name": name, "description": description, "actions": actions })).await?
        }
        RolesCommand::Delete { role_id } => {
            api.delete(&all.join(&[&role_id])).await?;
            if remote.output == super::Output::Table {
                println!("role {role_id} deleted");
            }
            return Ok(Exit::Done);
        }
    };
    print(remote.output, &value, ROLE_COLUMNS);
    Ok(Exit::Done)
}

async fn assignments(command: AssignmentsCommand, remote: &Remote) -> Result<Exit, Failure> {
    let api = Api::new(remote)?;
    let sub = api.subscription_path()?;
    let here = |at: &AssignmentScope| match &at.account {
        Some(account) => sub.join(&["accounts", account, "roleAssignments"]),
        None => sub.join(&["roleAssignments"]),
    };
    let value = match command {
        AssignmentsCommand::List { at } => api.get(&here(&at), &[]).await?,
        AssignmentsCommand::Create { user, role, at } => {
            let role_id = role_id(&api, &sub, &role).await?;
            api.post(&here(&at), &[], &json!({ "userName": user, "roleId": role_id })).await?
        }
        AssignmentsCommand::Delete { assignment_id, at } => {
            api.delete(&here(&at).join(&[&assignment_id])).await?;
            if remote.output == super::Output::Table {
                println!("assignment {assignment_id} removed");
            }
            return Ok(Exit::Done);
        }
    };
    let columns: &[Column] =
        &[("ID", "/id"), ("USER", "/user_name"), ("ROLE", "/role_name"), ("AT", "/scope_kind"), ("INHERITED", "/inherited")];
    print(remote.output, &value, columns);
    Ok(Exit::Done)
}

/// The id of the role named `role` (a name as the roles list shows it, or already an id).
async fn role_id(api: &Api, sub: &super::api::Path, role: &str) -> Result<String, Failure> {
    let roles = api.get(&sub.join(&["roleDefinitions"]), &[]).await?;
    let found = roles.as_array().into_iter().flatten().find(|r| r["id"] == role || r["name"] == role);
    found
        .and_then(|r| r["id"].as_str())
        .map(str::to_owned)
        .ok_or_else(|| Failure::new(Exit::NotFound, format!("no role named {role:?} in this subscription (see `rewind roles list`)")))
}

async fn accounts(command: AccountsCommand, remote: &Remote) -> Result<Exit, Failure> {
    let api = Api::new(remote)?;
    let sub = api.subscription_path()?;
    let columns: &[Column] = &[
        ("NAME", "/name"),
        ("ID", "/id"),
        ("STATE", "/state"),
        ("REGION", "/region"),
        ("BACKUP", "/backup_policy/type"),
        ("CREATED", "/created_at"),
    ];
    let value = match command {
        AccountsCommand::List => api.get(&sub.join(&["accounts"]), &[]).await?,
        AccountsCommand::Show { name } => api.get(&sub.join(&["accounts", &name]), &[]).await?,
        AccountsCommand::Create(args) => api.post(&sub.join(&["accounts"]), &[], &create_body(args)).await?,
        AccountsCommand::SetPolicy { name, tier, interval_hours, retention_hours, redundancy } => {
            let body = json!({
                "mode": tier,
                "intervalHours": interval_hours,
                "retentionHours": retention_hours,
                "redundancy": redundancy,
            });
            let account = api.patch(&sub.join(&["accounts", &name, "backupPolicy"]), &body).await?;
            if remote.output == super::Output::Table {
                println!("{}", account.pointer("/backup_policy").map(Value::to_string).unwrap_or_default());
                return Ok(Exit::Done);
            }
            account
        }
        AccountsCommand::Delete { name } => {
            api.delete(&sub.join(&["accounts", &name])).await?;
            if remote.output == super::Output::Table {
                println!("account {name} deleted; it stays restorable for its backup retention");
            }
            return Ok(Exit::Done);
        }
        AccountsCommand::Keys { name } => {
            let keys = api.post(&sub.join(&["accounts", &name, "listKeys"]), &[], &json!({})).await?;
            print_keys(remote, &keys);
            return Ok(Exit::Done);
        }
        AccountsCommand::RegenerateKey { name, kind } => {
            let keys = api.post(&sub.join(&["accounts", &name, "regenerateKey"]), &[], &json!({ "keyKind": kind })).await?;
            print_keys(remote, &keys);
            return Ok(Exit::Done);
        }
    };
    print(remote.output, &value, columns);
    Ok(Exit::Done)
}

/// The REST body for `accounts create`; the server checks every field and names a bad one.
fn create_body(args: CreateArgs) -> Value {
    let mut policy = json!({ "mode": args.backup });
    for (field, value) in
        [("intervalHours", args.interval_hours.map(Value::from)), ("retentionHours", args.retention_hours.map(Value::from))]
    {
        if let Some(v) = value {
            policy[field] = v;
        }
    }
    if let Some(r) = args.redundancy {
        policy["redundancy"] = Value::from(r);
    }
    json!({ "name": args.name, "region": args.region, "backupPolicy": policy })
}

/// Keys as a KEY/VALUE table (one row per key), or as the server sent them.
fn print_keys(remote: &Remote, keys: &Value) {
    let rows: Vec<Value> = keys.as_object().into_iter().flatten().map(|(kind, key)| json!({ "kind": kind, "key": key })).collect();
    let shown = if remote.output == super::Output::Json { keys.clone() } else { Value::Array(rows) };
    print(remote.output, &shown, &[("KEY", "/kind"), ("VALUE", "/key")]);
}

async fn restorable(command: RestorableCommand, remote: &Remote) -> Result<Exit, Failure> {
    let api = Api::new(remote)?;
    let sub = api.subscription_path()?;
    match command {
        RestorableCommand::List => {
            let value = api.get(&sub.join(&["restorableDatabaseAccounts"]), &[]).await?;
            let columns: &[Column] = &[
                ("NAME", "/name"),
                ("ID", "/id"),
                ("STATE", "/state"),
                ("TIER", "/tier"),
                ("OLDEST", "/oldest_restorable"),
                ("LATEST", "/latest_restorable"),
            ];
            print(remote.output, &value, columns);
        }
        RestorableCommand::Resources { account_id, at } => {
            let path = sub.join(&["restorableDatabaseAccounts", &account_id, "restorableSqlResources"]);
            let value = api.get(&path, &[("restoreTimestamp", &at)]).await?;
            // One row per container (a database without any gets a row of its own).
            let rows: Vec<Value> = value
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|d| {
                    let containers = d["containers"].as_array().cloned().unwrap_or_default();
                    if containers.is_empty() {
                        vec![json!({"database": d["id"]})]
                    } else {
                        containers
                            .into_iter()
                            .map(|c| json!({"database": d["id"], "container": c["id"], "partition_key": c["partition_key"]}))
                            .collect()
                    }
                })
                .collect();
            let shown = if remote.output == super::Output::Json { value } else { Value::Array(rows) };
            print(remote.output, &shown, &[("DATABASE", "/database"), ("CONTAINER", "/container"), ("PARTITION KEY", "/partition_key")]);
        }
        RestorableCommand::Events { account_id } => {
            let value = api.get(&sub.join(&["restorableDatabaseAccounts", &account_id, "events"]), &[]).await?;
            print(remote.output, &value, EVENT_COLUMNS);
        }
        RestorableCommand::Databases { account_id } => {
            let value = api.get(&sub.join(&["restorableDatabaseAccounts", &account_id, "restorableSqlDatabases"]), &[]).await?;
            print(remote.output, &value, EVENT_COLUMNS);
        }
        RestorableCommand::Containers { account_id, database } => {
            let query: Vec<(&str, &str)> = database.as_deref().map(|d| ("database", d)).into_iter().collect();
            let value = api.get(&sub.join(&["restorableDatabaseAccounts", &account_id, "restorableSqlContainers"]), &query).await?;
            print(remote.output, &value, EVENT_COLUMNS);
        }
        RestorableCommand::Backups { account_id } => {
            let value = api.get(&sub.join(&["restorableDatabaseAccounts", &account_id, "backups"]), &[]).await?;
            print(remote.output, &value, &[("TAKEN AT", "/taken_at"), ("ITEMS", "/items"), ("BYTES", "/bytes")]);
        }
    }
    Ok(Exit::Done)
}

async fn restore(command: RestoreCommand, remote: &Remote) -> Result<Exit, Failure> {
    let api = Api::new(remote)?;
    match command {
        RestoreCommand::Start(args) => start(&api, remote, args).await,
        RestoreCommand::Status { job_id } => {
            let job = api.get(&api.subscription_path()?.join(&["restores", &job_id]), &[]).await?;
            print(remote.output, &job, JOB_COLUMNS);
            Ok(Exit::Done)
        }
        RestoreCommand::Wait { job_id, wait } => wait_for(&api, remote, &job_id, &wait).await,
        RestoreCommand::InPlace(args) => in_place(&api, remote, args).await,
        RestoreCommand::Request(args) => request(&api, remote, args).await,
    }
}

async fn in_place(api: &Api, remote: &Remote, args: InPlaceArgs) -> Result<Exit, Failure> {
    let path = api.subscription_path()?.join(&["restorableDatabaseAccounts", &args.account, "restoreInPlace"]);
    let job = api.post(&path, &[], &json!({ "restoreTimestamp": args.at, "resources": args.resources })).await?;
    filed(api, remote, &job, args.wait.then_some(&args.wait_args)).await
}

async fn request(api: &Api, remote: &Remote, args: RequestArgs) -> Result<Exit, Failure> {
    let body = json!({
        "sourceAccountId": args.source,
        "backupTimestamp": args.backup,
        "targetAccountName": args.target,
        "resources": args.resources,
    });
    let job = api.post(&api.subscription_path()?.join(&["restoreRequests"]), &[], &body).await?;
    filed(api, remote, &job, None).await
}

/// A job just filed: printed, or (with `wait`) followed to its end.
async fn filed(api: &Api, remote: &Remote, job: &Value, wait: Option<&WaitArgs>) -> Result<Exit, Failure> {
    let Some(wait) = wait else {
        print(remote.output, job, JOB_COLUMNS);
        return Ok(Exit::Done);
    };
    let id = job["id"].as_str().unwrap_or_default();
    if remote.output == super::Output::Table {
        eprintln!("restore job {id} filed; waiting for it");
    }
    wait_for(api, remote, id, wait).await
}

async fn start(api: &Api, remote: &Remote, args: StartArgs) -> Result<Exit, Failure> {
    let path = api.subscription_path()?.join(&["restores"]);
    let body = json!({
        "sourceAccountId": args.source,
        "restoreTimestamp": args.at,
        "targetAccountName": args.target,
        "resources": args.resources,
        "disableTtl": args.disable_ttl,
    });
    if args.dry_run {
        let plan = api.post(&path, &[("dryRun", "true")], &body).await?;
        let columns: &[Column] = &[
            ("TARGET", "/target_account_name"),
            ("RESTORE TO", "/restore_at"),
            ("DATABASES", "/databases"),
            ("CONTAINERS", "/containers"),
            ("ITEMS (ABOUT)", "/items"),
            ("BACKUP BYTES", "/backup_bytes"),
            ("RESOURCES", "/resources"),
        ];
        print(remote.output, &plan, columns);
        return Ok(Exit::Done);
    }
    let job = api.post(&path, &[], &body).await?;
    filed(api, remote, &job, args.wait.then_some(&args.wait_args)).await
}

fn state_of(job: &Value) -> Option<JobState> {
    serde_json::from_value(job["state"].clone()).ok()
}

/// Polls the job until it ends, drawing its progress on the terminal (not when piped).
async fn wait_for(api: &Api, remote: &Remote, job_id: &str, wait: &WaitArgs) -> Result<Exit, Failure> {
    let path = api.subscription_path()?.join(&["restores", job_id]);
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:24} [{bar:30}] {pos}/{len} items ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let started = Instant::now();
    loop {
        let job = api.get(&path, &[]).await?;
        let state = state_of(&job);
        bar.set_length(job["items_total"].as_u64().unwrap_or(0));
        bar.set_position(job["items_done"].as_u64().unwrap_or(0));
        bar.set_message(format!("{} {}", job["state"].as_str().unwrap_or("?"), job["phase"].as_str().unwrap_or("")));
        let exit = match state {
            Some(JobState::Succeeded) => Some(Exit::Done),
            Some(JobState::Failed | JobState::Rejected) => Some(Exit::RestoreFailed),
            _ if started.elapsed() >= Duration::from_secs(wait.timeout) => Some(Exit::TimedOut),
            _ => None,
        };
        if let Some(exit) = exit {
            bar.finish_and_clear();
            print(remote.output, &job, JOB_COLUMNS);
            match exit {
                Exit::RestoreFailed => eprintln!("rewind: the restore did not succeed: {}", job["message"].as_str().unwrap_or_default()),
                Exit::TimedOut => eprintln!("rewind: still {} after {} s; the restore goes on", job["state"], wait.timeout),
                _ => {}
            }
            return Ok(exit);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// A page of jobs, or (with `all`) every page, following each page's last job.
async fn list_jobs(api: &Api, restores: &super::api::Path, limit: u64, before: Option<String>, all: bool) -> Result<Value, Failure> {
    let limit_text = limit.to_string();
    let mut before = before;
    let mut out = Vec::new();
    loop {
        let mut query = vec![("limit", limit_text.as_str())];
        if let Some(b) = &before {
            query.push(("before", b));
        }
        let page = api.get(restores, &query).await?;
        let page = page.as_array().cloned().unwrap_or_default();
        let full = page.len() as u64 == limit;
        before = page.last().and_then(|j| j["id"].as_str()).map(str::to_owned);
        out.extend(page);
        if !all || !full {
            return Ok(Value::Array(out));
        }
    }
}

async fn jobs(command: JobsCommand, remote: &Remote) -> Result<Exit, Failure> {
    let api = Api::new(remote)?;
    let restores = api.subscription_path()?.join(&["restores"]);
    let value = match command {
        JobsCommand::List { limit, before, all } => list_jobs(&api, &restores, limit, before, all).await?,
        JobsCommand::Approve { job_id, reason } => {
            api.post(&restores.join(&[&job_id, "approve"]), &[], &json!({ "reason": reason })).await?
        }
        JobsCommand::Reject { job_id, reason } => api.post(&restores.join(&[&job_id, "reject"]), &[], &json!({ "reason": reason })).await?,
    };
    print(remote.output, &value, JOB_COLUMNS);
    Ok(Exit::Done)
}
