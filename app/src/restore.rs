//! Self-service point-in-time restore (SPEC §4): restorable accounts with their windows, what
//! existed at a chosen second, starting a restore into a new account, and watching the jobs.
//!
//! The restore itself runs in the server's restore worker; this module validates the request,
//! reserves the target account (`Restoring`, so it takes no writes and its name is held) and
//! files a durable job, all in one transaction.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::authz::ssr::Caller;
use crate::domain::AccountState;
use crate::domain::resource::ResourceType;
use crate::domain::restore::{JobPhase, JobState};
use crate::error::AppError;

/// An account that can be restored (continuous backup), live or deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RestorableAccount {
    pub id: String,
    pub name: String,
    pub api_kind: String,
    pub region: String,
    pub state: AccountState,
    pub created_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    /// `Continuous7Days`, `Continuous30Days`, or `Periodic`.
    pub tier: String,
    /// Periodic mode: restore points are the full backups, restored by approved request.
    pub periodic: bool,
    /// The restorable window; `None` until the first backup pass has run.
    pub oldest_restorable: Option<DateTime<Utc>>,
    pub latest_restorable: Option<DateTime<Utc>>,
    /// Whether the caller may start a restore from it (restore permission on the account and
    /// `accounts/write` in the subscription).
    pub can_restore: bool,
    /// Periodic mode: whether the caller may file a restore request.
    pub can_request: bool,
}

/// One periodic full backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BackupPoint {
    pub taken_at: DateTime<Utc>,
    pub items: i64,
    pub bytes: i64,
}

/// A container as it was at the chosen time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RestorableContainer {
    pub id: String,
    pub partition_key: String,
    pub throughput: Option<i64>,
    pub default_ttl: Option<i64>,
}

/// A database as it was at the chosen time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RestorableDatabase {
    pub id: String,
    /// Shared throughput: such a database is restored whole.
    pub shared_throughput: Option<i64>,
    pub containers: Vec<RestorableContainer>,
}

/// Restore jobs listed per call unless the caller asks for another number.
pub const JOBS_PAGE: u64 = 50;
/// The most restore jobs one call lists.
pub const MAX_JOBS_PAGE: u64 = 1_000;

/// A restore job as the portal shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RestoreJob {
    pub id: String,
    pub source_account_id: String,
    pub source_account_name: String,
    pub target_account_name: String,
    pub restore_at: DateTime<Utc>,
    /// `db` or `db/container`; empty = the whole account.
    pub resources: Vec<String>,
    pub ttl_disabled: bool,
    /// Deleted databases or containers restored back into their own account.
    pub in_place: bool,
    pub state: JobState,
    pub phase: JobPhase,
    pub items_total: i64,
    pub items_done: i64,
    pub bytes_done: i64,
    pub message: String,
    pub requested_by: String,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// A request awaiting approval that the caller may approve or reject.
    pub can_decide: bool,
}

/// What a restore will do, before it is filed (a dry run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RestorePlan {
    pub restore_at: DateTime<Utc>,
    pub target_account_name: String,
    /// `db/container` of every container it restores.
    pub resources: Vec<String>,
    pub databases: usize,
    pub containers: usize,
    /// About how many items (from the snapshot it starts from).
    pub items: u64,
    /// Backup data it reads: stored bytes, snapshot chunks and log segments.
    pub backup_bytes: u64,
    pub chunks: u64,
    pub segments: u64,
}

/// A database or container event from an account's backup (newest first in lists).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ResourceEvent {
    pub at: DateTime<Utc>,
    /// `Create`, `Replace` or `Delete`.
    pub kind: String,
    /// `database` or `container`.
    pub resource_type: ResourceType,
    pub database: String,
    /// Empty for a database event.
    pub container: String,
    /// A deletion that can be undone in place now: the account is live, the name is free, the
    /// parent database (for a container) exists, and the moment before it is restorable.
    pub restorable_in_place: bool,
    /// Just before the event: the default restore point for undoing a deletion.
    pub restore_point: DateTime<Utc>,
}

impl ResourceEvent {
    /// `db` or `db/container`, as a restore names it.
    pub fn name(&self) -> String {
        if self.container.is_empty() { self.database.clone() } else { format!("{}/{}", self.database, self.container) }
    }
}

impl RestoreJob {
    /// Done, one way or the other.
    pub fn is_finished(&self) -> bool {
        matches!(self.state, JobState::Succeeded | JobState::Failed | JobState::Rejected)
    }

    /// Percent of items written, 0–100.
    pub fn percent(&self) -> i64 {
        if self.state == JobState::Succeeded {
            100
        } else if self.items_total > 0 {
            (self.items_done * 100 / self.items_total).clamp(0, 100)
        } else {
            0
        }
    }
}

/// Parses a restore time: RFC 3339 (`2026-11-25T10:15:30Z`, fractions allowed) or the portal's
/// `2026-11-25T10:15:30` / `2026-11-25T10:15`, read as UTC.
///
/// # Errors
/// [`AppError::Invalid`] showing the expected form.
pub fn parse_restore_time(text: &str) -> Result<DateTime<Utc>, AppError> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(n) = chrono::NaiveDateTime::parse_from_str(t, fmt) {
            return Ok(n.and_utc());
        }
    }
    Err(AppError::Invalid(format!("restore time {t:?} is not a UTC time like 2026-11-25T10:15:30Z")))
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! The portal's restore operations: each checks the caller's roles, turns the form into
    //! options and hands them to `control::restore`, which plans, files and runs the job.

    use backup::entities::{backup_state, restore_job};
    use chrono::{Duration, Utc};
    use control::restore::{self as plan, Options, Plan, Requester, Target, backup_error, online_since, policy_of, window};
    use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    use serde_json::Value;
    use std::collections::HashMap;

    use super::{
        BackupPoint, JobState, ResourceEvent, RestorableAccount, RestorableContainer, RestorableDatabase, RestoreJob, RestorePlan,
        parse_restore_time,
    };
    use crate::authz::ssr::{Caller, account_scope};
    use crate::db::account;
    use crate::domain::rbac::{Scope, actions};
    use crate::domain::{AccountState, BackupPolicy, CreateMode};
    use crate::error::AppError;
    use crate::subscriptions;

    fn requester(caller: &Caller) -> Requester<'_> {
        Requester { id: &caller.user.id, name: &caller.user.name }
    }

    async fn accounts_of(caller: &Caller, subscription_id: &str) -> Result<Vec<account::Model>, AppError> {
        Ok(account::Entity::find()
            .filter(account::Column::SubscriptionId.eq(subscription_id))
            .order_by_asc(account::Column::Name)
            .order_by_asc(account::Column::CreatedAt)
            .all(&caller.state.db)
            .await?)
    }

    /// The source account `account_id` (live or deleted) in the subscription, if the caller may
    /// do `action` on it; a missing one is 404 to callers who see the subscription.
    async fn source_account(caller: &Caller, action: &str, subscription_id: &str, account_id: &str) -> Result<account::Model, AppError> {
        let row = account::Entity::find_by_id(account_id.to_owned())
            .filter(account::Column::SubscriptionId.eq(subscription_id))
            .one(&caller.state.db)
            .await?;
        let Some(row) = row else {
            subscriptions::ssr::ensure_visible(caller, subscription_id).await?;
            return Err(AppError::NotFound(format!("account {account_id:?} not found in subscription {subscription_id:?}")));
        };
        let scope = account_scope(&row);
        caller.authorize(action, &scope, &scope.to_string()).await?;
        Ok(row)
    }

    pub async fn list_restorable(caller: &Caller, subscription_id: String) -> Result<Vec<RestorableAccount>, AppError> {
        subscriptions::ssr::ensure_visible(caller, &subscription_id).await?;
        subscriptions::ssr::find(&caller.state.db, &subscription_id).await?;
        let db = &caller.state.db;
        let may_create = caller.can(actions::ACCOUNTS_WRITE, &Scope::Subscription(subscription_id.clone())).await?;
        let now = Utc::now();
        let mut out = Vec::new();
        for row in accounts_of(caller, &subscription_id).await? {
            // An account still being restored, or whose restore failed, never held data anyone
            // could see: it is not restorable.
            let since = online_since(db, &row).await?;
            if row.create_mode == CreateMode::Restore && since.is_none() {
                continue;
            }
            let scope = account_scope(&row);
            let (periodic, tier, oldest, latest) = match policy_of(&row)? {
                BackupPolicy::Periodic { retention_hours, .. } => {
                    if !caller.can(actions::RESTORE_REQUESTS_READ, &scope).await? {
                        continue;
                    }
                    let points = plan::periodic_backups(db, &row, retention_hours, now).await?;
                    (true, "Periodic".to_owned(), points.last().map(|p| p.taken_at), points.first().map(|p| p.taken_at))
                }
                BackupPolicy::Continuous { tier, .. } => {
                    if !caller.can(actions::RESTORABLE_READ, &scope).await? {
                        continue;
                    }
                    let state = backup_state::Entity::find_by_id(row.id.clone()).one(db).await?;
                    let w = window(&row, state.as_ref(), since, now);
                    (false, format!("{tier:?}"), w.map(|(o, _)| o), w.map(|(_, l)| l))
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

    pub async fn resources_at(
        caller: &Caller,
        subscription_id: String,
        account_id: String,
        at: String,
    ) -> Result<Vec<RestorableDatabase>, AppError> {
        let row = source_account(caller, actions::RESTORABLE_READ, &subscription_id, &account_id).await?;
        let at = parse_restore_time(&at)?;
        plan::check_window(&caller.state.db, &row, at).await?;
        let ctx = caller.state.ctx();
        let snapshot =
            backup::catalog::resources_at(ctx.db, ctx.backup_storage, &ctx.backup_kek(), &row.id, at).await.map_err(backup_error)?;
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
            if matches!(policy_of(&row)?, BackupPolicy::Periodic { .. }) {
                return Err(AppError::Invalid(format!(
                    "account {:?} uses periodic backup; point-in-time restore needs continuous backup",
                    row.name
                )));
            }
            plan::plan(&caller.state.ctx(), &row, options).await
        }
        .await;
        let scope = account_scope(&row);
        Ok((row, planned, scope, resource))
    }

    /// A dry run: the plan of a restore into a new account, filed nowhere.
    pub async fn preview(caller: &Caller, input: StartRestore) -> Result<RestorePlan, AppError> {
        let (_, planned, _, _) = plan_new_account(caller, input).await?;
        Ok(plan_to_wire(&planned?))
    }

    pub async fn start(caller: &Caller, input: StartRestore) -> Result<RestoreJob, AppError> {
        let (row, planned, scope, resource) = plan_new_account(caller, input).await?;
        let result = match planned {
            Ok(p) => plan::file(&caller.state.ctx(), requester(caller), &row, &p).await.map(|j| to_wire(j, &row.name)),
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

    pub async fn events(caller: &Caller, subscription_id: String, account_id: String) -> Result<Vec<ResourceEvent>, AppError> {
        let row = source_account(caller, actions::RESTORABLE_READ, &subscription_id, &account_id).await?;
        let ctx = caller.state.ctx();
        let events = backup::catalog::events(ctx.db, ctx.backup_storage, &ctx.backup_kek(), &row.id).await.map_err(backup_error)?;
        let live = row.deleted_at.is_none() && row.state == AccountState::Online;
        let backed_up = backup_state::Entity::find_by_id(row.id.clone()).one(ctx.db).await?;
        let win = window(&row, backed_up.as_ref(), online_since(ctx.db, &row).await?, Utc::now());
        let mut out = Vec::with_capacity(events.len());
        for e in events {
            let restore_point = e.at - Duration::milliseconds(1);
            let in_window = win.is_some_and(|(o, l)| restore_point >= o && restore_point <= l);
            let restorable_in_place = live && in_window && e.kind == "Delete" && {
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
                kind: e.kind.to_owned(),
                resource_type: e.resource_type,
                database: e.database,
                container: e.container,
                restorable_in_place,
                restore_point,
            });
        }
        Ok(out)
    }

    pub async fn in_place(
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
            let ctx = caller.state.ctx();
            let p = plan::plan(&ctx, &row, options).await?;
            plan::file(&ctx, requester(caller), &row, &p).await.map(|j| to_wire(j, &row.name))
        }
        .await;
        caller.audited(actions::RESTORE, &scope, &resource, result).await
    }

    pub async fn backups(caller: &Caller, subscription_id: String, account_id: String) -> Result<Vec<BackupPoint>, AppError> {
        let row = source_account(caller, actions::RESTORE_REQUESTS_READ, &subscription_id, &account_id).await?;
        let retention = plan::periodic_retention(&row)?;
        Ok(plan::periodic_backups(&caller.state.db, &row, retention, Utc::now())
            .await?
            .into_iter()
            .map(|s| BackupPoint { taken_at: s.taken_at, items: s.items, bytes: s.bytes })
            .collect())
    }

    pub async fn request(
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
            let ctx = caller.state.ctx();
            let p = plan::plan(&ctx, &row, options).await?;
            plan::file(&ctx, requester(caller), &row, &p).await.map(|j| to_wire(j, &row.name))
        }
        .await;
        caller.audited(actions::RESTORE_REQUESTS_WRITE, &scope, &resource, result).await
    }

    pub async fn decide(
        caller: &Caller,
        subscription_id: String,
        job_id: String,
        approve: bool,
        reason: String,
    ) -> Result<RestoreJob, AppError> {
        subscriptions::ssr::ensure_visible(caller, &subscription_id).await?;
        let job = restore_job::Entity::find_by_id(job_id.clone())
            .filter(restore_job::Column::SubscriptionId.eq(&subscription_id))
            .one(&caller.state.db)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("restore request {job_id:?} not found in subscription {subscription_id:?}")))?;
        let source = source_account(caller, actions::RESTORE_REQUESTS_APPROVE, &subscription_id, &job.source_account_id).await?;
        let scope = account_scope(&source);
        let resource = format!("{scope} (restore request {job_id} -> accounts/{})", job.target_name);
        let result = plan::decide(&caller.state.ctx(), requester(caller), &source, job, approve, reason.trim())
            .await
            .map(|j| to_wire(j, &source.name));
        caller.audited(actions::RESTORE_REQUESTS_APPROVE, &scope, &resource, result).await
    }

    /// A page of the subscription's restore jobs the caller may see, newest first: at most
    /// `limit` (1–[`MAX_JOBS_PAGE`](super::MAX_JOBS_PAGE)), those older than job `before` if given.
    /// The database filters and pages, so a page costs the same however many restores the
    /// subscription has had.
    ///
    /// # Errors
    /// 400 for a limit out of range or a `before` that is not a job of the subscription.
    pub async fn list_jobs(
        caller: &Caller,
        subscription_id: String,
        before: Option<String>,
        limit: u64,
    ) -> Result<Vec<RestoreJob>, AppError> {
        subscriptions::ssr::ensure_visible(caller, &subscription_id).await?;
        if !(1..=super::MAX_JOBS_PAGE).contains(&limit) {
            return Err(AppError::invalid(format!("limit must be 1 to {} (got {limit})", super::MAX_JOBS_PAGE)));
        }
        let db = &caller.state.db;
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
            query = query.filter(Condition::any().add(restore_job::Column::CreatedAt.lt(anchor.created_at)).add(
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
    pub async fn job(caller: &Caller, subscription_id: String, job_id: String) -> Result<RestoreJob, AppError> {
        subscriptions::ssr::ensure_visible(caller, &subscription_id).await?;
        let not_found = || AppError::NotFound(format!("restore job {job_id:?} not found in subscription {subscription_id:?}"));
        let Some(j) = restore_job::Entity::find_by_id(job_id.clone())
            .filter(restore_job::Column::SubscriptionId.eq(&subscription_id))
            .one(&caller.state.db)
            .await?
        else {
            return Err(not_found());
        };
        let Some(source) = account::Entity::find_by_id(j.source_account_id.clone()).one(&caller.state.db).await? else {
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
}

/// Continuous-backup accounts of a subscription (live and deleted) the caller may see restore
/// points of, with their restorable windows.
#[server(endpoint = "list_restorable_accounts")]
pub async fn list_restorable_accounts(subscription_id: String) -> Result<Vec<RestorableAccount>, AppError> {
    crate::request::respond(async move { ssr::list_restorable(&Caller::current().await?, subscription_id).await }.await)
}

/// The databases and containers that existed in an account at a time, read from its backup.
#[server(endpoint = "restorable_resources")]
pub async fn restorable_resources(subscription_id: String, account_id: String, at: String) -> Result<Vec<RestorableDatabase>, AppError> {
    crate::request::respond(async move { ssr::resources_at(&Caller::current().await?, subscription_id, account_id, at).await }.await)
}

/// Starts a restore of an account (or of some databases/containers, `resources`: `db` or
/// `db/container`, comma-separated; empty = all) as of `restore_at` into a new account.
#[server(endpoint = "start_restore")]
pub async fn start_restore(
    subscription_id: String,
    source_account_id: String,
    restore_at: String,
    target_name: String,
    resources: String,
    ttl_disabled: Option<String>,
) -> Result<RestoreJob, AppError> {
    let form = ssr::StartRestore::from_form(subscription_id, source_account_id, restore_at, target_name, resources, ttl_disabled);
    crate::request::respond(async move { ssr::start(&Caller::current().await?, form).await }.await)
}

/// The plan of a restore into a new account (the same inputs as `start_restore`), checked as
/// starting it would be, without filing it: a dry run.
#[server(endpoint = "preview_restore")]
pub async fn preview_restore(
    subscription_id: String,
    source_account_id: String,
    restore_at: String,
    target_name: String,
    resources: String,
    ttl_disabled: Option<String>,
) -> Result<RestorePlan, AppError> {
    let form = ssr::StartRestore::from_form(subscription_id, source_account_id, restore_at, target_name, resources, ttl_disabled);
    crate::request::respond(async move { ssr::preview(&Caller::current().await?, form).await }.await)
}

/// An account's database and container events from its backup, newest first, with which
/// deletions can be undone in place.
#[server(endpoint = "list_resource_events")]
pub async fn list_resource_events(subscription_id: String, account_id: String) -> Result<Vec<ResourceEvent>, AppError> {
    crate::request::respond(async move { ssr::events(&Caller::current().await?, subscription_id, account_id).await }.await)
}

/// Restores deleted databases or containers (`resources`: `db` or `db/container`, comma-separated)
/// back into their own live account, as they were at `restore_at`.
#[server(endpoint = "restore_in_place")]
pub async fn restore_in_place(
    subscription_id: String,
    account_id: String,
    restore_at: String,
    resources: String,
) -> Result<RestoreJob, AppError> {
    crate::request::respond(
        async move { ssr::in_place(&Caller::current().await?, subscription_id, account_id, restore_at, resources).await }.await,
    )
}

/// A periodic-mode account's full backups within retention, newest first.
#[server(endpoint = "list_backups")]
pub async fn list_backups(subscription_id: String, account_id: String) -> Result<Vec<BackupPoint>, AppError> {
    crate::request::respond(async move { ssr::backups(&Caller::current().await?, subscription_id, account_id).await }.await)
}

/// Files a request to restore one of a periodic account's backups (`backup_at`: its time) into a
/// new account (`target_name`, or `<source>-restored<N>` when empty); it runs once approved.
#[server(endpoint = "request_restore")]
pub async fn request_restore(
    subscription_id: String,
    account_id: String,
    backup_at: String,
    target_name: String,
    resources: String,
) -> Result<RestoreJob, AppError> {
    crate::request::respond(
        async move { ssr::request(&Caller::current().await?, subscription_id, account_id, backup_at, target_name, resources).await }.await,
    )
}

/// Approves (`approve` = `true`) or rejects a restore request awaiting approval.
#[server(endpoint = "decide_restore_request")]
pub async fn decide_restore_request(
    subscription_id: String,
    job_id: String,
    approve: String,
    reason: String,
) -> Result<RestoreJob, AppError> {
    let approve = matches!(approve.as_str(), "true" | "on" | "1" | "approve");
    crate::request::respond(async move { ssr::decide(&Caller::current().await?, subscription_id, job_id, approve, reason).await }.await)
}

/// A page of the subscription's restore jobs the caller may see, newest first: the newest
/// [`JOBS_PAGE`], or those older than job `before`.
#[server(endpoint = "list_restore_jobs")]
pub async fn list_restore_jobs(subscription_id: String, before: Option<String>) -> Result<Vec<RestoreJob>, AppError> {
    crate::request::respond(async move { ssr::list_jobs(&Caller::current().await?, subscription_id, before, JOBS_PAGE).await }.await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restore_times_read_rfc3339_and_the_portal_form() {
        let t = parse_restore_time("2026-11-25T10:15:30Z").unwrap();
        assert_eq!(parse_restore_time("2026-11-25T10:15:30").unwrap(), t);
        assert_eq!(parse_restore_time("2026-11-25T12:15:30+02:00").unwrap(), t);
        assert!(parse_restore_time("2026-11-25T10:15").is_ok());
        let e = parse_restore_time("yesterday").unwrap_err();
        assert!(e.to_string().contains("\"yesterday\""), "{e}");
    }
}
