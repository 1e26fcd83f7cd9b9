//! A restore's plan, made once: the options (source, time, selection, target) are checked —
//! the time against the window or the backups, the names against what existed then and what
//! exists now — and turned into what will be restored, with statistics from the catalog. A job
//! keeps its plan and the runner executes it; a dry run shows it and files nothing.

use backup::replay::{AccountAt, Bound, Estimate, Items, PointInTime};
use backup::restore::{DatabaseSelection, check_free_in_place, select};
use chrono::{DateTime, SecondsFormat, Utc};
use domain::error::AppError;
use domain::{AccountName, AccountState, BackupPolicy};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};

use super::job::backup_error;
use super::window::{check_window, periodic_backups, periodic_retention};
use crate::db::account;
use crate::{Ctx, account_names};

/// Where a restore writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    /// A new account of this name. From a periodic account's backup an empty name means
    /// `<source>-restored<N>` with the smallest free N (SPEC §3b).
    NewAccount { name: String, ttl_disabled: bool },
    /// Deleted databases or containers back into their own live account.
    InPlace,
}

/// What somebody asks to restore.
#[derive(Debug, Clone)]
pub struct Options {
    /// A second in a continuous account's window, or the time of one of a periodic account's
    /// backups.
    pub at: DateTime<Utc>,
    /// Databases and containers (empty = the whole account).
    pub selection: Vec<DatabaseSelection>,
    pub target: Target,
}

/// What a plan will read and write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanStats {
    pub databases: usize,
    pub containers: usize,
    /// From the catalog, without opening a backup object.
    pub backup: Estimate,
}

/// What a restore will do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub source_account_id: String,
    /// The restore point (for a periodic account, the backup's exact time).
    pub at: DateTime<Utc>,
    /// From a periodic account's backup: runs once another user approves it.
    pub periodic: bool,
    pub selection: Vec<DatabaseSelection>,
    /// The target, its name resolved.
    pub target: Target,
    /// The databases and containers to create, with their settings then.
    pub resources: AccountAt,
    pub stats: PlanStats,
}

impl Plan {
    /// The containers it restores, as (database, container).
    pub fn containers(&self) -> Vec<(String, String)> {
        self.resources.databases.iter().flat_map(|(d, db)| db.containers.keys().map(move |c| (d.clone(), c.clone()))).collect()
    }
}

/// Checks `options` against `source` and what it held then, and plans the restore.
///
/// # Errors
/// [`AppError::Invalid`] for a time outside the window (or not a backup's), a name that did not
/// exist then, a malformed target name, or backups whose key is not available (named); [`AppError::Conflict`] for a target name taken, an
/// in-place restore into an account that is not live or over a name in use.
pub async fn plan(ctx: &Ctx<'_>, source: &account::Model, options: Options) -> Result<Plan, AppError> {
    // Refused before anything is filed when the key that wraps the backups is gone (a revoked
    // customer key): never a partial restore.
    ctx.backup_kek().check_account(ctx.db, &source.id).await.map_err(|e| AppError::invalid(e.to_string()))?;
    let policy = source.backup_policy;
    // A migrated account's times before its migration are its periodic backups'.
    let periodic = matches!(policy, BackupPolicy::Periodic { .. }) || source.migrated_at.is_some_and(|m| options.at < m);
    let at = if periodic {
        let points = periodic_backups(ctx.db, source, periodic_retention(source)?, Utc::now()).await?;
        let Some(point) = points.iter().find(|p| (p.taken_at - options.at).num_milliseconds().abs() < 1) else {
            let at = options.at.to_rfc3339_opts(SecondsFormat::Millis, true);
            return Err(AppError::Invalid(match source.migrated_at {
                Some(m) => format!(
                    "{at} is before account {:?} moved to continuous backup at {}: pick one of its {} periodic backups from before, or a second from then on",
                    source.name,
                    m.to_rfc3339_opts(SecondsFormat::Secs, true),
                    points.len()
                ),
                None => format!(
                    "account {:?} has no backup taken at {at}; pick one of its {} backups within retention",
                    source.name,
                    points.len()
                ),
            }));
        };
        point.taken_at
    } else {
        check_window(ctx.db, source, options.at).await?;
        options.at
    };
    let target = match options.target {
        Target::InPlace => {
            if periodic {
                return Err(AppError::Invalid(match source.migrated_at {
                    Some(_) => format!(
                        "that time is one of account {:?}'s periodic backups from before its move to continuous backup; periodic backups restore into a new account by request",
                        source.name
                    ),
                    None => format!("account {:?} uses periodic backup; its backups restore into a new account by request", source.name),
                }));
            }
            if source.deleted_at.is_some() || source.state != AccountState::Online {
                return Err(AppError::Conflict(format!(
                    "account {:?} is {}; restore it into a new account instead",
                    source.name, source.state
                )));
            }
            if options.selection.is_empty() {
                return Err(AppError::Invalid("name the deleted databases or containers to restore in place (db or db/container)".into()));
            }
            check_free_in_place(ctx.db, &source.id, &options.selection).await.map_err(backup_error)?;
            Target::InPlace
        }
        Target::NewAccount { name, ttl_disabled } => {
            let name = match name.trim() {
                "" if periodic => default_target_name(ctx.db, &source.name).await?,
                given => given.to_owned(),
            };
            let name = AccountName::parse(&name)?;
            account_names::ensure_free(ctx.db, name.as_str()).await?;
            Target::NewAccount { name: name.to_string(), ttl_disabled }
        }
    };
    let resources = resources(ctx, &source.id, at, periodic, &options.selection).await?;
    let mut plan = Plan {
        source_account_id: source.id.clone(),
        at,
        periodic,
        selection: options.selection,
        target,
        resources,
        stats: PlanStats::default(),
    };
    plan.stats = PlanStats {
        databases: plan.resources.databases.len(),
        containers: plan.resources.databases.values().map(|d| d.containers.len()).sum(),
        backup: backup::replay::estimate(ctx.db, &source.id, at, &plan.containers()).await.map_err(backup_error)?,
    };
    Ok(plan)
}

/// The databases and containers `selection` names as they were at `at`: from the resource
/// events in the catalog (continuous), or from the backup's own list (periodic).
///
/// # Errors
/// A name that did not exist then; backup errors.
pub(super) async fn resources(
    ctx: &Ctx<'_>,
    account_id: &str,
    at: DateTime<Utc>,
    periodic: bool,
    selection: &[DatabaseSelection],
) -> Result<AccountAt, AppError> {
    let kek = ctx.backup_kek();
    let then = if periodic {
        PointInTime::open(ctx.db, ctx.backup_storage, &kek, account_id, Bound::Time(at), Items::None)
            .await
            .map_err(backup_error)?
            .resources()
            .clone()
    } else {
        backup::catalog::resources_at(ctx.db, ctx.backup_storage, &kek, account_id, at).await.map_err(backup_error)?
    };
    select(then, selection, &at.to_rfc3339_opts(SecondsFormat::Millis, true)).map_err(backup_error)
}

/// `<source>-restored<N>` with the smallest free N (SPEC §3b).
async fn default_target_name(db: &impl ConnectionTrait, source: &str) -> Result<String, AppError> {
    for n in 1..1000 {
        let candidate = format!("{source}-restored{n}");
        if !account_names::taken(db, &candidate).await? {
            return Ok(candidate);
        }
    }
    Err(AppError::Conflict(format!("no free name of the form {source}-restoredN; give one")))
}
