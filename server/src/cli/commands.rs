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
    AccountsCommand, Cli, Command, CreateArgs, Exit, InPlaceArgs, JobsCommand, Remote, RequestArgs, RestorableCommand, RestoreCommand,
    StartArgs, WaitArgs,
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

/// Runs the command line; the exit code says how it went.
pub async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => return local(serve().await),
        Command::Migrate => return local(migrate().await),
        Command::Accounts { command, remote } => accounts(command, &remote).await,
        Command::Restorable { command, remote } => restorable(command, &remote).await,
        Command::Restore { command, remote } => restore(command, &remote).await,
        Command::Jobs { command, remote } => jobs(command, &remote).await,
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
            let columns: &[Column] =
                &[("AT", "/at"), ("EVENT", "/kind"), ("TYPE", "/resource_type"), ("DATABASE", "/database"), ("CONTAINER", "/container")];
            print(remote.output, &value, columns);
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

async fn jobs(command: JobsCommand, remote: &Remote) -> Result<Exit, Failure> {
    let api = Api::new(remote)?;
    let restores = api.subscription_path()?.join(&["restores"]);
    let value = match command {
        JobsCommand::List => api.get(&restores, &[]).await?,
        JobsCommand::Approve { job_id, reason } => {
            api.post(&restores.join(&[&job_id, "approve"]), &[], &json!({ "reason": reason })).await?
        }
        JobsCommand::Reject { job_id, reason } => api.post(&restores.join(&[&job_id, "reject"]), &[], &json!({ "reason": reason })).await?,
    };
    print(remote.output, &value, JOB_COLUMNS);
    Ok(Exit::Done)
}
