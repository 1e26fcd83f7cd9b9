//! The `rewind` command line: `rewind serve` (the default), `rewind migrate`, `rewind recover` and
//! `rewind verify` run here, on the machine; every other command talks to a running server over the REST API with an API token
//! (`--server`/`REWIND_URL`, `--token`/`REWIND_TOKEN`).
//!
//! Exit codes, for scripts: 0 done; 1 the server refused the call (400, 409, 5xx) or could not
//! be reached; 2 a usage error; 3 not signed in or not allowed (401, 403); 4 not found (404);
//! 5 the restore failed; 6 a wait timed out.

mod api;
mod commands;
mod output;

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::process::ExitCode;

pub use commands::run;

#[derive(Debug, Parser)]
#[command(name = "rewind", version, about = "Rewind: a document database with online backup and point-in-time restore")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default): settings from rewind.toml and REWIND_* variables.
    Serve,
    /// Apply the service database's migrations and exit.
    Migrate,
    /// Rebuild the backup catalog of an empty service database from backup storage (after the
    /// database was lost): every account comes back deleted and restorable. Needs the master
    /// key the backups were made with.
    Recover {
        /// The backup storage to read (file://, s3:// or az:// URL); the configured one if left out.
        #[arg(long, value_name = "URL")]
        from_storage: Option<String>,
        /// An option of that store (`aws_endpoint=…`, `azure_storage_use_emulator=true`, …); repeatable.
        #[arg(long = "option", value_name = "KEY=VALUE", value_parser = key_value)]
        options: Vec<(String, String)>,
    },
    /// Verify backups on this machine (no server needed): every object the catalog names, in every
    /// store of its account's redundancy; the result is kept and audited as a scheduled one is.
    Verify {
        /// Only the accounts of this name (deleted ones too); every account if left out.
        #[arg(long)]
        account: Option<String>,
        /// Read every copy and check its hash, authentication tag and contents (else presence and size).
        #[arg(long)]
        deep: bool,
    },
    /// Subscriptions, which hold accounts.
    Subscriptions {
        #[command(subcommand)]
        command: SubscriptionsCommand,
        #[command(flatten)]
        remote: Remote,
    },
    /// Database accounts.
    Accounts {
        #[command(subcommand)]
        command: AccountsCommand,
        #[command(flatten)]
        remote: Remote,
    },
    /// Restorable accounts and what they held (Cosmos DB's restorable resources).
    Restorable {
        #[command(subcommand)]
        command: RestorableCommand,
        #[command(flatten)]
        remote: Remote,
    },
    /// Start, follow and wait for restores.
    Restore {
        #[command(subcommand)]
        command: RestoreCommand,
        #[command(flatten)]
        remote: Remote,
    },
    /// Restore jobs.
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
        #[command(flatten)]
        remote: Remote,
    },
    /// The service's users.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
        #[command(flatten)]
        remote: Remote,
    },
    /// Roles: the built-in ones and the subscription's custom ones.
    Roles {
        #[command(subcommand)]
        command: RolesCommand,
        #[command(flatten)]
        remote: Remote,
    },
    /// Who holds which role at the subscription, or at one of its accounts.
    Assignments {
        #[command(subcommand)]
        command: AssignmentsCommand,
        #[command(flatten)]
        remote: Remote,
    },
}

fn key_value(text: &str) -> Result<(String, String), String> {
    text.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())).ok_or_else(|| format!("{text:?} is not KEY=VALUE"))
}

/// Where the server is, who calls it, and how answers are shown.
#[derive(Debug, Args)]
pub struct Remote {
    /// The server's base URL.
    #[arg(long, env = "REWIND_URL", default_value = "http://127.0.0.1:3000", global = true)]
    pub server: String,
    /// An API token (make one on the portal's API tokens page).
    #[arg(long, env = "REWIND_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// The subscription's id.
    #[arg(long, short = 's', env = "REWIND_SUBSCRIPTION", global = true)]
    pub subscription: Option<String>,
    /// How answers are printed.
    #[arg(long, short = 'o', value_enum, default_value_t = Output::Table, global = true)]
    pub output: Output,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum SubscriptionsCommand {
    /// The subscriptions you hold a role in or over.
    List,
    /// One subscription, by id.
    Show { id: String },
    /// Create a subscription (a root-level role is needed).
    Create { name: String },
    /// Rename a subscription.
    Rename { id: String, name: String },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Every user.
    List,
    /// Create a user; their first password is read from standard input (one line), and they
    /// must change it at first sign-in.
    Create { name: String },
    /// Disable a user: their sessions end and their tokens stop working at once.
    Disable { name: String },
    /// Let a disabled user sign in again.
    Enable { name: String },
}

#[derive(Debug, Subcommand)]
pub enum RolesCommand {
    /// The built-in roles and the subscription's custom ones, with their actions.
    List,
    /// Define a custom role in the subscription.
    Create {
        name: String,
        /// An action (`accounts/read`), a group (`accounts/*`) or `*` (repeat).
        #[arg(long = "action", required = true)]
        actions: Vec<String>,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Delete a custom role that nobody holds, by id.
    Delete { role_id: String },
}

#[derive(Debug, Subcommand)]
pub enum AssignmentsCommand {
    /// The assignments in force (those made above marked inherited).
    List {
        #[command(flatten)]
        at: AssignmentScope,
    },
    /// Give a user a role.
    Create {
        #[arg(long)]
        user: String,
        /// The role's name (e.g. "Restore Operator") or id.
        #[arg(long)]
        role: String,
        #[command(flatten)]
        at: AssignmentScope,
    },
    /// Remove an assignment made exactly here, by id.
    Delete {
        assignment_id: String,
        #[command(flatten)]
        at: AssignmentScope,
    },
}

/// Where an assignment is made: the subscription, or one of its accounts.
#[derive(Debug, Args)]
pub struct AssignmentScope {
    /// An account's name, for assignments on that account only (otherwise the whole subscription).
    #[arg(long)]
    pub account: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// The subscription's accounts.
    List,
    /// One account, by name.
    Show { name: String },
    /// Create an account (the server checks the name, region and policy).
    Create(CreateArgs),
    /// Delete an account: it stays restorable for its backup retention.
    Delete { name: String },
    /// The account's four keys (audited).
    Keys { name: String },
    /// Change the backup policy: a periodic account's interval, retention and redundancy, a
    /// continuous account's tier and redundancy (what is not given stays).
    SetPolicy {
        name: String,
        /// Continuous7Days or Continuous30Days (a continuous account's tier).
        #[arg(long)]
        tier: Option<String>,
        /// Periodic: hours between full backups (1–24).
        #[arg(long)]
        interval_hours: Option<u32>,
        /// Periodic: hours each backup is kept (twice the interval to 720).
        #[arg(long)]
        retention_hours: Option<u32>,
        /// Local, Zone or Geo, for backups taken from now on.
        #[arg(long)]
        redundancy: Option<String>,
    },
    /// Replace one key; the old one stops working at once.
    RegenerateKey {
        name: String,
        /// PrimaryMaster, SecondaryMaster, PrimaryReadonly or SecondaryReadonly.
        #[arg(long)]
        kind: String,
    },
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// 3–44 lowercase letters, digits and hyphens.
    pub name: String,
    #[arg(long)]
    pub region: String,
    /// Periodic (the default), Continuous7Days or Continuous30Days.
    #[arg(long, default_value = "Periodic")]
    pub backup: String,
    /// Periodic: hours between full backups (1–24; default 4).
    #[arg(long)]
    pub interval_hours: Option<u32>,
    /// Periodic: hours each backup is kept (default 8).
    #[arg(long)]
    pub retention_hours: Option<u32>,
    /// Local, Zone or Geo (the default).
    #[arg(long)]
    pub redundancy: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum RestorableCommand {
    /// Accounts that can be restored, with their restorable windows.
    List,
    /// The databases and containers an account held at a time.
    Resources {
        /// The account's id (see `rewind restorable list`).
        account_id: String,
        /// The time (RFC 3339, e.g. 2026-11-26T07:00:00Z).
        #[arg(long)]
        at: String,
    },
    /// The account's database and container events, newest first.
    Events { account_id: String },
    /// The account's database events, newest first (Cosmos DB's restorable SQL databases).
    Databases { account_id: String },
    /// The account's container events, newest first (Cosmos DB's restorable SQL containers).
    Containers {
        account_id: String,
        /// Only this database's containers.
        #[arg(long)]
        database: Option<String>,
    },
    /// A periodic-mode account's full backups (its restore points), newest first.
    Backups { account_id: String },
}

#[derive(Debug, Subcommand)]
pub enum RestoreCommand {
    /// Restore an account (or some of its databases and containers) as of a time into a new account.
    Start(StartArgs),
    /// A restore job's state and progress.
    Status { job_id: String },
    /// Wait for a restore job to finish, showing its progress; exits 5 if it failed.
    Wait {
        job_id: String,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Restore deleted databases or containers back into the same account.
    InPlace(InPlaceArgs),
    /// Ask for a periodic backup to be restored into a new account; someone else approves.
    Request(RequestArgs),
}

#[derive(Debug, Args)]
pub struct InPlaceArgs {
    /// The account's id.
    #[arg(long)]
    pub account: String,
    /// A second before the deletion (see `rewind restorable events`), RFC 3339.
    #[arg(long)]
    pub at: String,
    /// A deleted database or database/container (repeat).
    #[arg(long = "resource", required = true)]
    pub resources: Vec<String>,
    /// Wait for the restore to finish, showing its progress.
    #[arg(long)]
    pub wait: bool,
    #[command(flatten)]
    pub wait_args: WaitArgs,
}

#[derive(Debug, Args)]
pub struct RequestArgs {
    /// The source account's id.
    #[arg(long)]
    pub source: String,
    /// The backup's time, as `rewind restorable backups` lists it.
    #[arg(long)]
    pub backup: String,
    /// The new account's name.
    #[arg(long)]
    pub target: String,
    /// A database or database/container to restore (repeat; none restores the whole account).
    #[arg(long = "resource")]
    pub resources: Vec<String>,
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// The source account's id (see `rewind restorable list`).
    #[arg(long)]
    pub source: String,
    /// The time to restore to (RFC 3339), inside the source's restorable window.
    #[arg(long)]
    pub at: String,
    /// The new account's name.
    #[arg(long)]
    pub target: String,
    /// A database or database/container to restore (repeat; none restores the whole account).
    #[arg(long = "resource")]
    pub resources: Vec<String>,
    /// Restore with time-to-live off.
    #[arg(long)]
    pub disable_ttl: bool,
    /// Only check and show the plan; start nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Wait for the restore to finish, showing its progress.
    #[arg(long)]
    pub wait: bool,
    #[command(flatten)]
    pub wait_args: WaitArgs,
}

#[derive(Debug, Args)]
pub struct WaitArgs {
    /// Give up waiting after this many seconds (exit 6; the restore goes on).
    #[arg(long, default_value_t = 3600)]
    pub timeout: u64,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// The subscription's restore jobs, newest first, a page at a time.
    List {
        /// At most this many (1–1000).
        #[arg(long, default_value_t = 50)]
        limit: u64,
        /// Only jobs older than this one (the last of the previous page).
        #[arg(long)]
        before: Option<String>,
        /// Every job, fetching page after page.
        #[arg(long, conflicts_with = "before")]
        all: bool,
    },
    /// Approve a restore request filed by someone else; the restore then runs.
    Approve {
        job_id: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Reject a restore request, saying why.
    Reject {
        job_id: String,
        #[arg(long)]
        reason: String,
    },
}

/// How a command ended, as the process's exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Done,
    Refused,
    NotAllowed,
    NotFound,
    RestoreFailed,
    TimedOut,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(match e {
            Exit::Done => 0,
            Exit::Refused => 1,
            Exit::NotAllowed => 3,
            Exit::NotFound => 4,
            Exit::RestoreFailed => 5,
            Exit::TimedOut => 6,
        })
    }
}
