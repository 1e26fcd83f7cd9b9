//! The restore operations a caller invokes — from the portal's server functions or the REST
//! API — each authorized and audited: restorable accounts and what they held, the event feed,
//! periodic backups, planning (a dry run) and starting a restore, in place, by request and its
//! approval, and the jobs. Planning, filing and running are the rest of [`crate::restore`].

use backup::entities::{backup_state, restore_job};
use chrono::{Duration, Utc};
use domain::error::AppError;
use domain::rbac::{Scope, actions};
use domain::resource::{EventKind, ResourceType};
pub use domain::restore::{
    BackupPoint, JobState, ResourceEvent, RestorableAccount, RestorableContainer, RestorableDatabase, RestoreJob, RestorePlan,
    parse_restore_time,
};
use domain::{AccountState, BackupMode, BackupPolicy, CreateMode};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::Value;
use std::collections::HashMap;

use super::{self as plan, Options, Plan, Requester, Target, backup_error, window};
use crate::authz::{Caller, account_scope};
use crate::db::account;
use crate::{Ctx, subscriptions};

fn requester(caller: &Caller) -> Requester<'_> {
    Requester { id: &caller.user.id, name: &caller.user.name }
}

async fn accounts_of(caller: &Caller, subscription_id: &str) -> Result<Vec<account::Model>, AppError> {
    Ok(account::Entity::find()
        .filter(account::Column::SubscriptionId.eq(subscription_id))
        .order_by_asc(account::Column::Name)
        .order_by_asc(account::Column::CreatedAt)
        .all(&caller.db)
        .await?)
}

/// The source account `account_id` (live or deleted) in the subscription, if the caller may
/// do `action` on it; a missing one is 404 to callers who see the subscription.
async fn source_account(caller: &Caller, action: &str, subscription_id: &str, account_id: &str) -> Result<account::Model, AppError> {
    let row = account::Entity::find_by_id(account_id.to_owned())
        .filter(account::Column::SubscriptionId.eq(subscription_id))
        .one(&caller.db)
        .await?;
    let Some(row) = row else {
        subscriptions::ensure_visible(caller, subscription_id).await?;
        return Err(AppError::NotFound(format!("account {account_id:?} not found in subscription {subscription_id:?}")));
    };
    let scope = account_scope(&row);
    caller.authorize(action, &scope, &scope.to_string()).await?;
    Ok(row)
}

/// The subscription's accounts (live and deleted) whose restore points the caller may see, with
/// their restorable windows and what the caller may do with them.
pub async fn list_restorable(ctx: &Ctx<'_>, caller: &Caller, subscription_id: String) -> Result<Vec<RestorableAccount>, AppError> {
    subscriptions::ensure_visible(caller, &subscription_id).await?;
    subscriptions::find(ctx.db, &subscription_id).await?;
    let db = ctx.db;
    let may_create = caller.can(actions::ACCOUNTS_WRITE, &Scope::Subscription(subscription_id.clone())).await?;
    let now = Utc::now();
    let mut out = Vec::new();
    for row in accounts_of(caller, &subscription_id).await? {
        // An account still being restored, or whose restore failed, never held data anyone
        // could see: it is not restorable.
        if row.create_mode == CreateMode::Restore && row.online_since.is_none() {
            continue;
        }
        let scope = account_scope(&row);
        let (periodic, tier, oldest, latest) = match row.backup_policy {
            BackupPolicy::Periodic { retention_hours, .. } => {
                if !caller.can(actions::RESTORE_REQUESTS_READ, &scope).await? {
                    continue;
                }
                let points = plan::periodic_backups(db, &row, retention_hours, now).await?;
                (true, BackupMode::Periodic.to_string(), points.last().map(|p| p.taken_at), points.first().map(|p| p.taken_at))
            }
            BackupPolicy::Continuous { tier, .. } => {
                if !caller.can(actions::RESTORABLE_READ, &scope).await? {
                    continue;
                }
                let state = backup_state::Entity::find_by_id(row.id.clone()).one(db).await?;
                let w = window(&row, state.as_ref(), now);
                (false, BackupMode::Continuous(tier).to_string(), w.map(|(o, _)| o), w.map(|(_, l)| l))
            }
        };
        out.push(RestorableAccount {
            can_restore: !periodic && may_create && caller.can(actions::RESTORE, &scope).await?,
            can_request: periodic && caller.can(actions::RESTORE_REQUESTS_WRITE, &scope).await?,
            periodic,
            state: row.state,
            id: row.id,
            name: row.name,
            api_kind: row.api_kind,
            region: row.region,
            created_at: row.created_at,
            deleted_at: row.deleted_at,
            tier,
            oldest_restorable: oldest,
            latest_restorable: latest,
        });
    }
    Ok(out)
}

/// The databases and containers the account held at `at` (inside its restorable window).
pub async fn resources_at(
    ctx: &Ctx<'_>,
    caller: &Caller,
    subscription_id: String,
    account_id: String,
    at: String,
) -> Result<Vec<RestorableDatabase>, AppError> {
    let row = source_account(caller, actions::RESTORABLE_READ, &subscription_id, &account_id).await?;
    let at = parse_restore_time(&at)?;
    plan::check_window(ctx.db, &row, at).await?;
    let snapshot = backup::catalog::resources_at(ctx.db, ctx.backup_storage, &ctx.backup_kek(), &row.id, at).await.map_err(backup_error)?;
    Ok(snapshot
        .databases
        .iter()
        .map(|(id, d)| RestorableDatabase {
            id: id.clone(),
            shared_throughput: d.shared_throughput(),
            containers: d
                .containers
                .iter()
                .map(|(cid, c)| RestorableContainer {
                    id: cid.clone(),
                    partition_key: c.body["partitionKey"]["paths"].get(0).and_then(Value::as_str).unwrap_or_default().to_owned(),
                    throughput: c.body.get("throughput").and_then(Value::as_i64),
                    default_ttl: c.body.get("defaultTtl").and_then(Value::as_i64),
                })
                .collect(),
        })
        .collect())
}

/// What a restore form carries.
pub struct StartRestore {
    pub subscription_id: String,
    pub source_account_id: String,
    pub restore_at: String,
    pub target_name: String,
    pub resources: String,
    pub ttl_disabled: bool,
}

impl StartRestore {
    /// From the restore form's fields (`ttl_disabled` is its checkbox: `on` when ticked).
    pub fn from_form(
        subscription_id: String,
        source_account_id: String,
        restore_at: String,
        target_name: String,
        resources: String,
        ttl_disabled: Option<String>,
    ) -> Self {
        let ttl_disabled = matches!(ttl_disabled.as_deref(), Some("on" | "true" | "1"));
        Self { subscription_id, source_account_id, restore_at, target_name, resources, ttl_disabled }
    }
}

/// Authorizes a restore of `input` into a new account and plans it; returns the source and
/// the plan, and the audit scope and resource.
async fn plan_new_account(
    ctx: &Ctx<'_>,
    caller: &Caller,
    input: StartRestore,
) -> Result<(account::Model, Result<Plan, AppError>, Scope, String), AppError> {
    let row = source_account(caller, actions::RESTORE, &input.subscription_id, &input.source_account_id).await?;
    let sub_scope = Scope::Subscription(input.subscription_id.clone());
    let resource = format!("{} -> accounts/{}", account_scope(&row), input.target_name.trim());
    caller.authorize(actions::ACCOUNTS_WRITE, &sub_scope, &resource).await?;
    let planned = async {
        let options = Options {
            at: parse_restore_time(&input.restore_at)?,
            selection: backup::restore::parse_selection(&input.resources).map_err(backup_error)?,
            target: Target::NewAccount { name: input.target_name.trim().to_owned(), ttl_disabled: input.ttl_disabled },
        };
        if matches!(row.backup_policy, BackupPolicy::Periodic { .. }) {
            return Err(AppError::Invalid(format!(
                "account {:?} uses periodic backup; point-in-time restore needs continuous backup",
                row.name
            )));
        }
        let p = plan::plan(ctx, &row, options).await?;
        if p.periodic {
            return Err(AppError::Invalid(format!(
                "{} is before account {:?} moved to continuous backup: its restore points then are its periodic backups, restored by request",
                p.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                row.name
            )));
        }
        Ok(p)
    }
    .await;
    let scope = account_scope(&row);
    Ok((row, planned, scope, resource))
}

/// A dry run: the plan of a restore into a new account, filed nowhere.
pub async fn preview(ctx: &Ctx<'_>, caller: &Caller, input: StartRestore) -> Result<RestorePlan, AppError> {
    let (_, planned, _, _) = plan_new_account(ctx, caller, input).await?;
    Ok(plan_to_wire(&planned?))
}

/// Starts a restore into a new account: planned, the target reserved and the job filed.
pub async fn start(ctx: &Ctx<'_>, caller: &Caller, input: StartRestore) -> Result<RestoreJob, AppError> {
    let (row, planned, scope, resource) = plan_new_account(ctx, caller, input).await?;
    let result = match planned {
        Ok(p) => plan::file(ctx, requester(caller), &row, &p).await.map(|j| to_wire(j, &row.name)),
        Err(e) => Err(e),
    };
    caller.audited(actions::RESTORE, &scope, &resource, result).await
}

fn plan_to_wire(p: &Plan) -> RestorePlan {
    RestorePlan {
        restore_at: p.at,
        target_account_name: match &p.target {
            Target::NewAccount { name, .. } => name.clone(),
            Target::InPlace => String::new(),
        },
        resources: p.resources.databases.iter().flat_map(|(d, db)| db.containers.keys().map(move |c| format!("{d}/{c}"))).collect(),
        databases: p.stats.databases,
        containers: p.stats.containers,
        items: p.stats.backup.items,
        backup_bytes: p.stats.backup.bytes,
        chunks: p.stats.backup.chunks,
        segments: p.stats.backup.segments,
    }
}

fn to_wire(j: restore_job::Model, source_name: &str) -> RestoreJob {
    let resources = backup::restore::selection_names(
        &serde_json::from_str::<Vec<backup::restore::DatabaseSelection>>(&j.resources).unwrap_or_default(),
    );
    RestoreJob {
        id: j.id,
        source_account_id: j.source_account_id,
        source_account_name: source_name.to_owned(),
        target_account_name: j.target_name,
        restore_at: j.restore_at,
        resources,
        ttl_disabled: j.ttl_disabled,
        in_place: j.in_place,
        state: j.state,
        phase: j.phase,
        items_total: j.items_total,
        items_done: j.items_done,
        bytes_done: j.bytes_done,
        message: j.message,
        requested_by: j.requested_by,
        created_at: j.created_at,
        started_at: j.started_at,
        finished_at: j.finished_at,
        can_decide: false,
    }
}

/// Which of an account's resource events a feed holds: all of them (the portal's timeline), or
/// Cosmos DB's two feeds — its databases' (`restorableSqlDatabases`) and its containers',
/// of every database or one (`restorableSqlContainers`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feed {
    All,
    Databases,
    Containers { database: Option<String> },
}

impl Feed {
    fn holds(&self, e: &backup::catalog::ResourceEvent) -> bool {
        match self {
            Feed::All => true,
            Feed::Databases => e.resource_type == ResourceType::Database,
            Feed::Containers { database } => {
                e.resource_type == ResourceType::Container && database.as_ref().is_none_or(|d| *d == e.database)
            }
        }
    }
}

/// The account's database and container events in `feed`, newest first, with which deletions
/// can be undone in place now.
pub async fn events(
    ctx: &Ctx<'_>,
    caller: &Caller,
    subscription_id: String,
    account_id: String,
    feed: Feed,
) -> Result<Vec<ResourceEvent>, AppError> {
    let row = source_account(caller, actions::RESTORABLE_READ, &subscription_id, &account_id).await?;
    let mut events = backup::catalog::events(ctx.db, ctx.backup_storage, &ctx.backup_kek(), &row.id).await.map_err(backup_error)?;
    events.retain(|e| feed.holds(e));
    let live = row.deleted_at.is_none() && row.state == AccountState::Online;
    let backed_up = backup_state::Entity::find_by_id(row.id.clone()).one(ctx.db).await?;
    let win = window(&row, backed_up.as_ref(), Utc::now());
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        let restore_point = e.at - Duration::milliseconds(1);
        let in_window = win.is_some_and(|(o, l)| restore_point >= o && restore_point <= l);
        let restorable_in_place = live && in_window && e.kind == EventKind::Delete && {
            let selection = backup::restore::parse_selection(&if e.container.is_empty() {
                e.database.clone()
            } else {
                format!("{}/{}", e.database, e.container)
            })
            .map_err(backup_error)?;
            backup::restore::check_free_in_place(ctx.db, &row.id, &selection).await.is_ok()
        };
        out.push(ResourceEvent {
            at: e.at,
            kind: e.kind,
            resource_type: e.resource_type,
            database: e.database,
            container: e.container,
            restorable_in_place,
            restore_point,
        });
    }
    Ok(out)
}

/// Brings deleted databases or containers back into their own live account.
pub async fn in_place(
    ctx: &Ctx<'_>,
    caller: &Caller,
    subscription_id: String,
    account_id: String,
    restore_at: String,
    resources: String,
) -> Result<RestoreJob, AppError> {
    let row = source_account(caller, actions::RESTORE, &subscription_id, &account_id).await?;
    let scope = account_scope(&row);
    let resource = format!("{scope} (in place: {})", resources.trim());
    caller.authorize(actions::ACCOUNTS_WRITE, &scope, &resource).await?;
    let result = async {
        let options = Options {
            at: parse_restore_time(&restore_at)?,
            selection: backup::restore::parse_selection(&resources).map_err(backup_error)?,
            target: Target::InPlace,
        };
        let p = plan::plan(ctx, &row, options).await?;
        plan::file(ctx, requester(caller), &row, &p).await.map(|j| to_wire(j, &row.name))
    }
    .await;
    caller.audited(actions::RESTORE, &scope, &resource, result).await
}

/// A periodic account's full backups within retention, newest first.
pub async fn backups(ctx: &Ctx<'_>, caller: &Caller, subscription_id: String, account_id: String) -> Result<Vec<BackupPoint>, AppError> {
    let row = source_account(caller, actions::RESTORE_REQUESTS_READ, &subscription_id, &account_id).await?;
    let retention = plan::periodic_retention(&row)?;
    plan::periodic_backups(ctx.db, &row, retention, Utc::now()).await
}

/// Files a request to restore one of a periodic account's backups; someone else approves it.
pub async fn request(
    ctx: &Ctx<'_>,
    caller: &Caller,
    subscription_id: String,
    account_id: String,
    backup_at: String,
    target_name: String,
    resources: String,
) -> Result<RestoreJob, AppError> {
    let row = source_account(caller, actions::RESTORE_REQUESTS_WRITE, &subscription_id, &account_id).await?;
    let scope = account_scope(&row);
    let resource = format!("{scope} (restore request)");
    let result = async {
        plan::periodic_retention(&row)?;
        let options = Options {
            at: parse_restore_time(&backup_at)?,
            selection: backup::restore::parse_selection(&resources).map_err(backup_error)?,
            target: Target::NewAccount { name: target_name.trim().to_owned(), ttl_disabled: false },
        };
        let p = plan::plan(ctx, &row, options).await?;
        if !p.periodic {
            return Err(AppError::Invalid(format!(
                "account {:?} restores to any second since it moved to continuous backup, without a request; requests are for its periodic backups from before",
                row.name
            )));
        }
        plan::file(ctx, requester(caller), &row, &p).await.map(|j| to_wire(j, &row.name))
    }
    .await;
    caller.audited(actions::RESTORE_REQUESTS_WRITE, &scope, &resource, result).await
}

/// Approves or rejects a restore request filed by someone else.
pub async fn decide(
    ctx: &Ctx<'_>,
    caller: &Caller,
    subscription_id: String,
    job_id: String,
    approve: bool,
    reason: String,
) -> Result<RestoreJob, AppError> {
    subscriptions::ensure_visible(caller, &subscription_id).await?;
    let job = restore_job::Entity::find_by_id(job_id.clone())
        .filter(restore_job::Column::SubscriptionId.eq(&subscription_id))
        .one(ctx.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("restore request {job_id:?} not found in subscription {subscription_id:?}")))?;
    let source = source_account(caller, actions::RESTORE_REQUESTS_APPROVE, &subscription_id, &job.source_account_id).await?;
    let scope = account_scope(&source);
    let resource = format!("{scope} (restore request {job_id} -> accounts/{})", job.target_name);
    let result = plan::decide(ctx, requester(caller), &source, job, approve, reason.trim()).await.map(|j| to_wire(j, &source.name));
    caller.audited(actions::RESTORE_REQUESTS_APPROVE, &scope, &resource, result).await
}

/// A page of the subscription's restore jobs the caller may see, newest first: at most
/// `limit` (1–[`MAX_JOBS_PAGE`](domain::restore::MAX_JOBS_PAGE)), those older than job `before` if given.
/// The database filters and pages, so a page costs the same however many restores the
/// subscription has had.
///
/// # Errors
/// 400 for a limit out of range or a `before` that is not a job of the subscription.
pub async fn list_jobs(
    ctx: &Ctx<'_>,
    caller: &Caller,
    subscription_id: String,
    before: Option<String>,
    limit: u64,
) -> Result<Vec<RestoreJob>, AppError> {
    subscriptions::ensure_visible(caller, &subscription_id).await?;
    if !(1..=domain::restore::MAX_JOBS_PAGE).contains(&limit) {
        return Err(AppError::invalid(format!("limit must be 1 to {} (got {limit})", domain::restore::MAX_JOBS_PAGE)));
    }
    let db = ctx.db;
    let accounts: HashMap<String, account::Model> =
        accounts_of(caller, &subscription_id).await?.into_iter().map(|a| (a.id.clone(), a)).collect();
    let mut query = restore_job::Entity::find().filter(restore_job::Column::SubscriptionId.eq(&subscription_id));
    let whole = Scope::Subscription(subscription_id.clone());
    if !sees_jobs(caller, &whole).await? {
        let mut visible = Vec::new();
        for a in accounts.values() {
            if sees_jobs(caller, &account_scope(a)).await? {
                visible.push(a.id.clone());
            }
        }
        query = query.filter(restore_job::Column::SourceAccountId.is_in(visible));
    }
    if let Some(before) = before.filter(|b| !b.is_empty()) {
        let anchor = restore_job::Entity::find_by_id(before.clone())
            .filter(restore_job::Column::SubscriptionId.eq(&subscription_id))
            .one(db)
            .await?
            .ok_or_else(|| AppError::invalid(format!("before: no restore job {before:?} in this subscription")))?;
        query =
            query.filter(Condition::any().add(restore_job::Column::CreatedAt.lt(anchor.created_at)).add(
                Condition::all().add(restore_job::Column::CreatedAt.eq(anchor.created_at)).add(restore_job::Column::Id.lt(anchor.id)),
            ));
    }
    let jobs = query.order_by_desc(restore_job::Column::CreatedAt).order_by_desc(restore_job::Column::Id).limit(limit).all(db).await?;
    let mut out = Vec::with_capacity(jobs.len());
    for j in jobs {
        let Some(source) = accounts.get(&j.source_account_id) else { continue };
        if let Some(wire) = visible_job(caller, j, source).await? {
            out.push(wire);
        }
    }
    Ok(out)
}

/// Whether the caller may see restore jobs of sources at `scope`.
async fn sees_jobs(caller: &Caller, scope: &Scope) -> Result<bool, AppError> {
    Ok(caller.can(actions::RESTORABLE_READ, scope).await? || caller.can(actions::RESTORE_REQUESTS_READ, scope).await?)
}

/// One restore job of the subscription, under the same rule as [`list_jobs`].
///
/// # Errors
/// 404 when there is no such job or the caller may not see it.
pub async fn job(ctx: &Ctx<'_>, caller: &Caller, subscription_id: String, job_id: String) -> Result<RestoreJob, AppError> {
    subscriptions::ensure_visible(caller, &subscription_id).await?;
    let not_found = || AppError::NotFound(format!("restore job {job_id:?} not found in subscription {subscription_id:?}"));
    let Some(j) = restore_job::Entity::find_by_id(job_id.clone())
        .filter(restore_job::Column::SubscriptionId.eq(&subscription_id))
        .one(ctx.db)
        .await?
    else {
        return Err(not_found());
    };
    let Some(source) = account::Entity::find_by_id(j.source_account_id.clone()).one(ctx.db).await? else {
        return Err(not_found());
    };
    visible_job(caller, j, &source).await?.ok_or_else(not_found)
}

/// A job as `caller` sees it, if they may see jobs of its source account.
async fn visible_job(caller: &Caller, j: restore_job::Model, source: &account::Model) -> Result<Option<RestoreJob>, AppError> {
    let scope = account_scope(source);
    if !sees_jobs(caller, &scope).await? {
        return Ok(None);
    }
    let awaiting = j.state == JobState::AwaitingApproval && j.requested_by_id != caller.user.id;
    let mut wire = to_wire(j, &source.name);
    wire.can_decide = awaiting && caller.can(actions::RESTORE_REQUESTS_APPROVE, &scope).await?;
    Ok(Some(wire))
}
