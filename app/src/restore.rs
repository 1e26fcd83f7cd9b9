//! Self-service point-in-time restore (SPEC §4): restorable accounts with their windows, what
//! existed at a chosen second, starting a restore into a new account, and watching the jobs.
//!
//! The restore itself runs in the server's restore worker; this module validates the request,
//! reserves the target account (`Restoring`, so it takes no writes and its name is held) and
//! files a durable job, all in one transaction.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::AccountState;
use crate::error::AppError;

/// An account that can be restored (continuous backup), live or deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
pub struct BackupPoint {
    pub taken_at: DateTime<Utc>,
    pub items: i64,
    pub bytes: i64,
}

/// A container as it was at the chosen time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestorableContainer {
    pub id: String,
    pub partition_key: String,
    pub throughput: Option<i64>,
    pub default_ttl: Option<i64>,
}

/// A database as it was at the chosen time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestorableDatabase {
    pub id: String,
    /// Shared throughput: such a database is restored whole.
    pub shared_throughput: Option<i64>,
    pub containers: Vec<RestorableContainer>,
}

/// A restore job as the portal shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// `Pending`, `Running`, `Succeeded`, `Failed`.
    pub state: String,
    /// `plan`, `fetch`, `apply`, `verify`, `done`.
    pub phase: String,
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

/// A database or container event from an account's backup (newest first in lists).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceEvent {
    pub at: DateTime<Utc>,
    /// `Create`, `Replace` or `Delete`.
    pub kind: String,
    /// `database` or `container`.
    pub resource_type: String,
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
        matches!(self.state.as_str(), "Succeeded" | "Failed" | "Rejected")
    }

    /// Percent of items written, 0–100.
    pub fn percent(&self) -> i64 {
        if self.state == "Succeeded" {
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
    use backup::BackupError;
    use backup::entities::restore_job::{JobPhase, JobState};
    use backup::entities::{backup_snapshot, backup_state, restore_job};
    use chrono::{DateTime, Duration, SecondsFormat, Utc};
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
    use serde_json::Value;
    use std::collections::HashMap;

    use super::{BackupPoint, ResourceEvent, RestorableAccount, RestorableContainer, RestorableDatabase, RestoreJob, parse_restore_time};
    use crate::accounts::RestoreParameters;
    use crate::accounts::ssr::seal_new_keys;
    use crate::authz::ssr::{Caller, account_scope};
    use crate::db::account;
    use crate::domain::rbac::{Scope, actions};
    use crate::domain::{AccountName, AccountState, BackupPolicy};
    use crate::error::AppError;
    use crate::subscriptions;

    /// What the restore summary lists as not brought back (SPEC §4b).
    pub const NOT_RESTORED: &str = "Not restored: role assignments, keys (the new account has fresh ones), network rules.";

    /// A backup failure as the caller should see it.
    pub fn backup_error(e: BackupError) -> AppError {
        match e {
            BackupError::Invalid(m) => AppError::Invalid(m),
            e @ (BackupError::KeyUnavailable { .. } | BackupError::Integrity(_)) => {
                AppError::Conflict(format!("{e}; the restore was refused and nothing was written"))
            }
            e => {
                tracing::error!(error = %e, "backup operation failed");
                AppError::Internal
            }
        }
    }

    fn policy_of(row: &account::Model) -> Result<BackupPolicy, AppError> {
        serde_json::from_str(&row.backup_policy).map_err(|e| {
            tracing::error!(account = %row.id, error = %e, "stored backup policy is unreadable");
            AppError::Internal
        })
    }

    /// The restorable window of a continuous account: from `max(creation, now − retention)` to
    /// the latest backed-up instant (no later than its deletion). `None` before the first backup
    /// pass or when nothing in the window is backed up.
    ///
    /// `online_since` is when a restored account's restore finished (`None` for an account that
    /// was not made by a restore): it holds nothing worth restoring before that.
    pub fn window(
        row: &account::Model,
        state: Option<&backup_state::Model>,
        online_since: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let BackupPolicy::Continuous { tier, .. } = policy_of(row).ok()? else { return None };
        let mut oldest = row.created_at.max(now - Duration::days(i64::from(tier.retention_days())));
        if row.create_mode == "Restore" {
            oldest = oldest.max(online_since?);
        }
        let mut latest = state?.backed_up_through;
        if let Some(d) = row.deleted_at {
            latest = latest.min(d);
        }
        (latest >= oldest).then_some((oldest, latest))
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

    pub async fn list_restorable(subscription_id: String) -> Result<Vec<RestorableAccount>, AppError> {
        let caller = Caller::current().await?;
        subscriptions::ssr::ensure_visible(&caller, &subscription_id).await?;
        subscriptions::ssr::find(&caller.state.db, &subscription_id).await?;
        let may_create = caller.can(actions::ACCOUNTS_WRITE, &Scope::Subscription(subscription_id.clone())).await?;
        let now = Utc::now();
        let mut out = Vec::new();
        for row in accounts_of(&caller, &subscription_id).await? {
            if let BackupPolicy::Periodic { retention_hours, .. } = policy_of(&row)? {
                let scope = account_scope(&row);
                if row.create_mode == "Restore" && online_since(&caller, &row).await?.is_none() {
                    continue;
                }
                if !caller.can(actions::RESTORE_REQUESTS_READ, &scope).await? {
                    continue;
                }
                let points = backups_of(&caller, &row, retention_hours, now).await?;
                out.push(RestorableAccount {
                    can_restore: false,
                    can_request: caller.can(actions::RESTORE_REQUESTS_WRITE, &scope).await?,
                    periodic: true,
                    id: row.id,
                    name: row.name,
                    api_kind: row.api_kind,
                    region: row.region,
                    state: row.state.parse()?,
                    created_at: row.created_at,
                    deleted_at: row.deleted_at,
                    tier: "Periodic".into(),
                    oldest_restorable: points.last().map(|p| p.taken_at),
                    latest_restorable: points.first().map(|p| p.taken_at),
                });
                continue;
            }
            let BackupPolicy::Continuous { tier, .. } = policy_of(&row)? else { continue };
            // An account still being restored, or whose restore failed, never held data anyone
            // could see: it is not restorable.
            let since = online_since(&caller, &row).await?;
            if row.create_mode == "Restore" && since.is_none() {
                continue;
            }
            let scope = account_scope(&row);
            if !caller.can(actions::RESTORABLE_READ, &scope).await? {
                continue;
            }
            let state = backup_state::Entity::find_by_id(row.id.clone()).one(&caller.state.db).await?;
            let w = window(&row, state.as_ref(), since, now);
            out.push(RestorableAccount {
                can_restore: may_create && caller.can(actions::RESTORE, &scope).await?,
                can_request: false,
                periodic: false,
                id: row.id,
                name: row.name,
                api_kind: row.api_kind,
                region: row.region,
                state: row.state.parse()?,
                created_at: row.created_at,
                deleted_at: row.deleted_at,
                tier: format!("{tier:?}"),
                oldest_restorable: w.map(|(o, _)| o),
                latest_restorable: w.map(|(_, l)| l),
            });
        }
        Ok(out)
    }

    /// When a restored account's restore finished, if it did (`None` otherwise, and for
    /// accounts not made by a restore).
    async fn online_since(caller: &Caller, row: &account::Model) -> Result<Option<DateTime<Utc>>, AppError> {
        if row.create_mode != "Restore" {
            return Ok(None);
        }
        Ok(restore_job::Entity::find()
            .filter(restore_job::Column::TargetAccountId.eq(&row.id))
            .filter(restore_job::Column::State.eq(JobState::Succeeded))
            .one(&caller.state.db)
            .await?
            .and_then(|j| j.finished_at))
    }

    pub async fn resources_at(subscription_id: String, account_id: String, at: String) -> Result<Vec<RestorableDatabase>, AppError> {
        let caller = Caller::current().await?;
        let row = source_account(&caller, actions::RESTORABLE_READ, &subscription_id, &account_id).await?;
        let at = parse_restore_time(&at)?;
        check_window(&caller, &row, at).await?;
        let state = &caller.state;
        let snapshot =
            backup::catalog::resources_at(&state.db, &state.backup_storage, &state.master_key.backup_key_wrap_key(), &row.id, at)
                .await
                .map_err(backup_error)?;
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

    async fn check_window(caller: &Caller, row: &account::Model, at: DateTime<Utc>) -> Result<(), AppError> {
        let BackupPolicy::Continuous { .. } = policy_of(row)? else {
            return Err(AppError::Invalid(format!(
                "account {:?} uses periodic backup; point-in-time restore needs continuous backup",
                row.name
            )));
        };
        let state = backup_state::Entity::find_by_id(row.id.clone()).one(&caller.state.db).await?;
        let fmt = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
        match window(row, state.as_ref(), online_since(caller, row).await?, Utc::now()) {
            None => {
                Err(AppError::Invalid(format!("account {:?} has no restore point yet; its first backup runs within seconds", row.name)))
            }
            Some((oldest, latest)) if at < oldest || at > latest => Err(AppError::Invalid(format!(
                "restore time {} is outside the restorable window of account {:?}: {} to {}",
                fmt(at),
                row.name,
                fmt(oldest),
                fmt(latest)
            ))),
            Some(_) => Ok(()),
        }
    }

    /// What a restore request carries.
    pub struct StartRestore {
        pub subscription_id: String,
        pub source_account_id: String,
        pub restore_at: String,
        pub target_name: String,
        pub resources: String,
        pub ttl_disabled: bool,
    }

    pub async fn start(input: StartRestore) -> Result<RestoreJob, AppError> {
        let caller = Caller::current().await?;
        let row = source_account(&caller, actions::RESTORE, &input.subscription_id, &input.source_account_id).await?;
        let sub_scope = Scope::Subscription(input.subscription_id.clone());
        let resource = format!("{} -> accounts/{}", account_scope(&row), input.target_name.trim());
        caller.authorize(actions::ACCOUNTS_WRITE, &sub_scope, &resource).await?;
        let result = start_inner(&caller, &row, input).await;
        caller.audited(actions::RESTORE, &account_scope(&row), &resource, result).await
    }

    async fn start_inner(caller: &Caller, source: &account::Model, input: StartRestore) -> Result<RestoreJob, AppError> {
        let state = &caller.state;
        let at = parse_restore_time(&input.restore_at)?;
        check_window(caller, source, at).await?;
        let target = AccountName::parse(input.target_name.trim())?;
        let selection = backup::restore::parse_selection(&input.resources).map_err(backup_error)?;
        // Check the names against what existed then, before anything is reserved.
        let snapshot =
            backup::catalog::resources_at(&state.db, &state.backup_storage, &state.master_key.backup_key_wrap_key(), &source.id, at)
                .await
                .map_err(backup_error)?;
        backup::restore::select(snapshot, &selection, &at.to_rfc3339_opts(SecondsFormat::Secs, true)).map_err(backup_error)?;
        let BackupPolicy::Continuous { tier, redundancy } = policy_of(source)? else { return Err(AppError::Internal) };

        let params = RestoreParameters {
            source_account_id: source.id.clone(),
            source_account_name: source.name.clone(),
            restore_at: at,
            resources: backup::restore::selection_names(&selection),
            ttl_disabled: input.ttl_disabled,
        };
        let txn = engine::store::begin_write(&state.db).await?;
        let target_id = reserve_target(&txn, caller, source, &target, BackupPolicy::Continuous { tier, redundancy }, &params).await?;
        let job = new_job(caller, source, &target_id, target.as_str(), at, &selection, input.ttl_disabled, false, JobState::Pending)?
            .insert(&txn)
            .await?;
        txn.commit().await?;
        tracing::info!(job = %job.id, source = %source.name, target = %target, at = %at, by = %caller.user.name, "restore filed");
        Ok(to_wire(job, &source.name))
    }

    /// Holds `name` for a restore's new account: created at once in state `Restoring` (so it
    /// takes no writes and nobody else can take the name), with fresh keys.
    async fn reserve_target(
        txn: &sea_orm::DatabaseTransaction,
        caller: &Caller,
        source: &account::Model,
        name: &AccountName,
        policy: BackupPolicy,
        params: &RestoreParameters,
    ) -> Result<String, AppError> {
        let taken_message = format!("an account named {:?} already exists", name.as_str());
        let taken = account::Entity::find()
            .filter(account::Column::Name.eq(name.as_str()))
            .filter(account::Column::DeletedAt.is_null())
            .one(txn)
            .await?;
        if taken.is_some() {
            return Err(AppError::Conflict(taken_message));
        }
        let target_id = uuid::Uuid::new_v4().to_string();
        account::ActiveModel {
            sealed_keys: Set(seal_new_keys(&caller.state.master_key, &target_id)),
            id: Set(target_id.clone()),
            subscription_id: Set(source.subscription_id.clone()),
            name: Set(name.to_string()),
            region: Set(source.region.clone()),
            api_kind: Set(source.api_kind.clone()),
            state: Set(AccountState::Restoring.as_str().into()),
            created_at: Set(Utc::now()),
            deleted_at: Set(None),
            backup_policy: Set(serde_json::to_string(&policy).map_err(|_| AppError::Internal)?),
            key_management: Set(source.key_management.clone()),
            create_mode: Set("Restore".into()),
            restore_parameters: Set(Some(serde_json::to_string(params).map_err(|_| AppError::Internal)?)),
        }
        .insert(txn)
        .await
        .map_err(|e| crate::error::conflict_on_unique(e, &taken_message))?;
        Ok(target_id)
    }

    /// A new restore job row.
    #[allow(clippy::too_many_arguments)]
    fn new_job(
        caller: &Caller,
        source: &account::Model,
        target_id: &str,
        target_name: &str,
        at: DateTime<Utc>,
        selection: &[backup::restore::DatabaseSelection],
        ttl_disabled: bool,
        in_place: bool,
        state: JobState,
    ) -> Result<restore_job::ActiveModel, AppError> {
        Ok(restore_job::ActiveModel {
            id: Set(uuid::Uuid::new_v4().to_string()),
            subscription_id: Set(source.subscription_id.clone()),
            source_account_id: Set(source.id.clone()),
            target_account_id: Set(target_id.to_owned()),
            target_name: Set(target_name.to_owned()),
            restore_at: Set(at),
            resources: Set(serde_json::to_string(selection).map_err(|_| AppError::Internal)?),
            ttl_disabled: Set(ttl_disabled),
            in_place: Set(in_place),
            state: Set(state),
            phase: Set(JobPhase::Plan),
            items_total: Set(0),
            items_done: Set(0),
            bytes_done: Set(0),
            message: Set(String::new()),
            requested_by: Set(caller.user.name.clone()),
            requested_by_id: Set(caller.user.id.clone()),
            created_at: Set(Utc::now()),
            started_at: Set(None),
            finished_at: Set(None),
            lease_owner: Set(None),
            lease_until: Set(None),
        })
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
            state: j.state.as_str().to_owned(),
            phase: j.phase.as_str().to_owned(),
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

    pub async fn events(subscription_id: String, account_id: String) -> Result<Vec<ResourceEvent>, AppError> {
        let caller = Caller::current().await?;
        let row = source_account(&caller, actions::RESTORABLE_READ, &subscription_id, &account_id).await?;
        let state = &caller.state;
        let events = backup::catalog::events(&state.db, &state.backup_storage, &state.master_key.backup_key_wrap_key(), &row.id)
            .await
            .map_err(backup_error)?;
        let live = row.deleted_at.is_none() && row.state == AccountState::Online.as_str();
        let backed_up = backup_state::Entity::find_by_id(row.id.clone()).one(&state.db).await?;
        let win = window(&row, backed_up.as_ref(), online_since(&caller, &row).await?, Utc::now());
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
                backup::restore::check_free_in_place(&state.db, &row.id, &selection).await.is_ok()
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
        subscription_id: String,
        account_id: String,
        restore_at: String,
        resources: String,
    ) -> Result<RestoreJob, AppError> {
        let caller = Caller::current().await?;
        let row = source_account(&caller, actions::RESTORE, &subscription_id, &account_id).await?;
        let scope = account_scope(&row);
        let resource = format!("{scope} (in place: {})", resources.trim());
        caller.authorize(actions::ACCOUNTS_WRITE, &scope, &resource).await?;
        let result = in_place_inner(&caller, &row, &restore_at, &resources).await;
        caller.audited(actions::RESTORE, &scope, &resource, result).await
    }

    async fn in_place_inner(caller: &Caller, row: &account::Model, restore_at: &str, resources: &str) -> Result<RestoreJob, AppError> {
        let state = &caller.state;
        if row.deleted_at.is_some() || row.state != AccountState::Online.as_str() {
            return Err(AppError::Conflict(format!("account {:?} is {}; restore it into a new account instead", row.name, row.state)));
        }
        let at = parse_restore_time(restore_at)?;
        check_window(caller, row, at).await?;
        let selection = backup::restore::parse_selection(resources).map_err(backup_error)?;
        if selection.is_empty() {
            return Err(AppError::Invalid("name the deleted databases or containers to restore in place (db or db/container)".into()));
        }
        backup::restore::check_free_in_place(&state.db, &row.id, &selection).await.map_err(backup_error)?;
        let snapshot =
            backup::catalog::resources_at(&state.db, &state.backup_storage, &state.master_key.backup_key_wrap_key(), &row.id, at)
                .await
                .map_err(backup_error)?;
        backup::restore::select(snapshot, &selection, &at.to_rfc3339_opts(SecondsFormat::Millis, true)).map_err(backup_error)?;
        let busy = restore_job::Entity::find()
            .filter(restore_job::Column::TargetAccountId.eq(&row.id))
            .filter(restore_job::Column::State.is_in([JobState::Pending, JobState::Running]))
            .one(&state.db)
            .await?;
        if busy.is_some() {
            return Err(AppError::Conflict(format!("a restore into account {:?} is already under way; wait for it to finish", row.name)));
        }
        let job = new_job(caller, row, &row.id, &row.name, at, &selection, false, true, JobState::Pending)?.insert(&state.db).await?;
        tracing::info!(job = %job.id, account = %row.name, %resources, at = %at, by = %caller.user.name, "in-place restore filed");
        Ok(to_wire(job, &row.name))
    }

    /// A periodic account's full backups within retention, newest first.
    async fn backups_of(
        caller: &Caller,
        row: &account::Model,
        retention_hours: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<BackupPoint>, AppError> {
        Ok(backup_snapshot::Entity::find()
            .filter(backup_snapshot::Column::AccountId.eq(&row.id))
            .filter(backup_snapshot::Column::TakenAt.gte(now - Duration::hours(i64::from(retention_hours))))
            .order_by_desc(backup_snapshot::Column::TakenAt)
            .all(&caller.state.db)
            .await?
            .into_iter()
            .map(|s| BackupPoint { taken_at: s.taken_at, items: s.items, bytes: s.bytes })
            .collect())
    }

    fn periodic_retention(row: &account::Model) -> Result<u32, AppError> {
        match policy_of(row)? {
            BackupPolicy::Periodic { retention_hours, .. } => Ok(retention_hours),
            BackupPolicy::Continuous { .. } => Err(AppError::Invalid(format!(
                "account {:?} uses continuous backup; restore it to a point in time directly instead of by request",
                row.name
            ))),
        }
    }

    pub async fn backups(subscription_id: String, account_id: String) -> Result<Vec<BackupPoint>, AppError> {
        let caller = Caller::current().await?;
        let row = source_account(&caller, actions::RESTORE_REQUESTS_READ, &subscription_id, &account_id).await?;
        let retention = periodic_retention(&row)?;
        backups_of(&caller, &row, retention, Utc::now()).await
    }

    /// `<source>-restored<N>` with the smallest free N (SPEC §3b).
    async fn default_target_name(caller: &Caller, source: &str) -> Result<String, AppError> {
        for n in 1..1000 {
            let candidate = format!("{source}-restored{n}");
            let taken = account::Entity::find()
                .filter(account::Column::Name.eq(&candidate))
                .filter(account::Column::DeletedAt.is_null())
                .one(&caller.state.db)
                .await?;
            if taken.is_none() {
                return Ok(candidate);
            }
        }
        Err(AppError::Conflict(format!("no free name of the form {source}-restoredN; give one")))
    }

    pub async fn request(
        subscription_id: String,
        account_id: String,
        backup_at: String,
        target_name: String,
        resources: String,
    ) -> Result<RestoreJob, AppError> {
        let caller = Caller::current().await?;
        let row = source_account(&caller, actions::RESTORE_REQUESTS_WRITE, &subscription_id, &account_id).await?;
        let scope = account_scope(&row);
        let resource = format!("{scope} (restore request)");
        let result = request_inner(&caller, &row, &backup_at, &target_name, &resources).await;
        caller.audited(actions::RESTORE_REQUESTS_WRITE, &scope, &resource, result).await
    }

    async fn request_inner(
        caller: &Caller,
        row: &account::Model,
        backup_at: &str,
        target_name: &str,
        resources: &str,
    ) -> Result<RestoreJob, AppError> {
        let state = &caller.state;
        let retention = periodic_retention(row)?;
        let at = parse_restore_time(backup_at)?;
        let points = backups_of(caller, row, retention, Utc::now()).await?;
        let Some(point) = points.iter().find(|p| (p.taken_at - at).num_milliseconds().abs() < 1) else {
            return Err(AppError::Invalid(format!(
                "account {:?} has no backup taken at {}; pick one of its {} backups within retention",
                row.name,
                at.to_rfc3339_opts(SecondsFormat::Millis, true),
                points.len()
            )));
        };
        let name =
            if target_name.trim().is_empty() { default_target_name(caller, &row.name).await? } else { target_name.trim().to_owned() };
        let target = AccountName::parse(&name)?;
        let taken = account::Entity::find()
            .filter(account::Column::Name.eq(target.as_str()))
            .filter(account::Column::DeletedAt.is_null())
            .one(&state.db)
            .await?;
        if taken.is_some() {
            return Err(AppError::Conflict(format!("an account named {:?} already exists", target.as_str())));
        }
        let selection = backup::restore::parse_selection(resources).map_err(backup_error)?;
        let then = backup::replay::PointInTime::open(
            &state.db,
            &state.backup_storage,
            &state.master_key.backup_key_wrap_key(),
            &row.id,
            backup::replay::Bound::Time(point.taken_at),
            backup::replay::Items::None,
        )
        .await
        .map_err(backup_error)?;
        backup::restore::select(then.resources().clone(), &selection, &point.taken_at.to_rfc3339_opts(SecondsFormat::Secs, true))
            .map_err(backup_error)?;
        let job = new_job(caller, row, "", target.as_str(), point.taken_at, &selection, false, false, JobState::AwaitingApproval)?
            .insert(&state.db)
            .await?;
        tracing::info!(job = %job.id, source = %row.name, target = %target, by = %caller.user.name, "restore request filed");
        Ok(to_wire(job, &row.name))
    }

    pub async fn decide(subscription_id: String, job_id: String, approve: bool, reason: String) -> Result<RestoreJob, AppError> {
        let caller = Caller::current().await?;
        subscriptions::ssr::ensure_visible(&caller, &subscription_id).await?;
        let job = restore_job::Entity::find_by_id(job_id.clone())
            .filter(restore_job::Column::SubscriptionId.eq(&subscription_id))
            .one(&caller.state.db)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("restore request {job_id:?} not found in subscription {subscription_id:?}")))?;
        let source = source_account(&caller, actions::RESTORE_REQUESTS_APPROVE, &subscription_id, &job.source_account_id).await?;
        let scope = account_scope(&source);
        let resource = format!("{scope} (restore request {job_id} -> accounts/{})", job.target_name);
        let result = decide_inner(&caller, &source, job, approve, reason.trim()).await;
        caller.audited(actions::RESTORE_REQUESTS_APPROVE, &scope, &resource, result).await
    }

    async fn decide_inner(
        caller: &Caller,
        source: &account::Model,
        job: restore_job::Model,
        approve: bool,
        reason: &str,
    ) -> Result<RestoreJob, AppError> {
        if job.state != JobState::AwaitingApproval {
            return Err(AppError::Conflict(format!("restore request {} is {}, not awaiting approval", job.id, job.state.as_str())));
        }
        if approve && job.requested_by_id == caller.user.id {
            return Err(AppError::Forbidden(format!(
                "restore request {} was filed by you; another user with restoreRequests/approve/action must approve it",
                job.id
            )));
        }
        let state = &caller.state;
        let txn = engine::store::begin_write(&state.db).await?;
        let mut active: restore_job::ActiveModel = job.clone().into();
        if approve {
            let target = AccountName::parse(&job.target_name)?;
            let selection: Vec<backup::restore::DatabaseSelection> =
                serde_json::from_str(&job.resources).map_err(|_| AppError::Internal)?;
            let params = RestoreParameters {
                source_account_id: source.id.clone(),
                source_account_name: source.name.clone(),
                restore_at: job.restore_at,
                resources: backup::restore::selection_names(&selection),
                ttl_disabled: job.ttl_disabled,
            };
            let target_id = reserve_target(&txn, caller, source, &target, policy_of(source)?, &params).await?;
            active.target_account_id = Set(target_id);
            active.state = Set(JobState::Pending);
            active.message =
                Set(format!("Approved by {}.{}", caller.user.name, if reason.is_empty() { String::new() } else { format!(" {reason}") }));
        } else {
            active.state = Set(JobState::Rejected);
            active.finished_at = Set(Some(Utc::now()));
            active.message =
                Set(format!("Rejected by {}: {}", caller.user.name, if reason.is_empty() { "no reason given" } else { reason }));
        }
        let updated = restore_job::Entity::update_many()
            .set(active)
            .filter(restore_job::Column::Id.eq(&job.id))
            .filter(restore_job::Column::State.eq(JobState::AwaitingApproval))
            .exec(&txn)
            .await?;
        if updated.rows_affected != 1 {
            return Err(AppError::Conflict(format!("restore request {} was decided by someone else meanwhile", job.id)));
        }
        txn.commit().await?;
        let fresh = restore_job::Entity::find_by_id(job.id.clone()).one(&state.db).await?.ok_or(AppError::Internal)?;
        tracing::info!(job = %job.id, approve, by = %caller.user.name, "restore request decided");
        Ok(to_wire(fresh, &source.name))
    }

    pub async fn list_jobs(subscription_id: String) -> Result<Vec<RestoreJob>, AppError> {
        let caller = Caller::current().await?;
        subscriptions::ssr::ensure_visible(&caller, &subscription_id).await?;
        let accounts: HashMap<String, account::Model> =
            accounts_of(&caller, &subscription_id).await?.into_iter().map(|a| (a.id.clone(), a)).collect();
        let jobs = restore_job::Entity::find()
            .filter(restore_job::Column::SubscriptionId.eq(&subscription_id))
            .order_by_desc(restore_job::Column::CreatedAt)
            .all(&caller.state.db)
            .await?;
        let mut out = Vec::new();
        for j in jobs {
            let Some(source) = accounts.get(&j.source_account_id) else { continue };
            let scope = account_scope(source);
            if caller.can(actions::RESTORABLE_READ, &scope).await? || caller.can(actions::RESTORE_REQUESTS_READ, &scope).await? {
                let awaiting = j.state == JobState::AwaitingApproval && j.requested_by_id != caller.user.id;
                let mut wire = to_wire(j, &source.name);
                wire.can_decide = awaiting && caller.can(actions::RESTORE_REQUESTS_APPROVE, &scope).await?;
                out.push(wire);
            }
        }
        Ok(out)
    }
}

/// Continuous-backup accounts of a subscription (live and deleted) the caller may see restore
/// points of, with their restorable windows.
#[server(endpoint = "list_restorable_accounts")]
pub async fn list_restorable_accounts(subscription_id: String) -> Result<Vec<RestorableAccount>, AppError> {
    crate::request::respond(ssr::list_restorable(subscription_id).await)
}

/// The databases and containers that existed in an account at a time, read from its backup.
#[server(endpoint = "restorable_resources")]
pub async fn restorable_resources(subscription_id: String, account_id: String, at: String) -> Result<Vec<RestorableDatabase>, AppError> {
    crate::request::respond(ssr::resources_at(subscription_id, account_id, at).await)
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
    let ttl_disabled = matches!(ttl_disabled.as_deref(), Some("on" | "true" | "1"));
    crate::request::respond(
        ssr::start(ssr::StartRestore { subscription_id, source_account_id, restore_at, target_name, resources, ttl_disabled }).await,
    )
}

/// An account's database and container events from its backup, newest first, with which
/// deletions can be undone in place.
#[server(endpoint = "list_resource_events")]
pub async fn list_resource_events(subscription_id: String, account_id: String) -> Result<Vec<ResourceEvent>, AppError> {
    crate::request::respond(ssr::events(subscription_id, account_id).await)
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
    crate::request::respond(ssr::in_place(subscription_id, account_id, restore_at, resources).await)
}

/// A periodic-mode account's full backups within retention, newest first.
#[server(endpoint = "list_backups")]
pub async fn list_backups(subscription_id: String, account_id: String) -> Result<Vec<BackupPoint>, AppError> {
    crate::request::respond(ssr::backups(subscription_id, account_id).await)
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
    crate::request::respond(ssr::request(subscription_id, account_id, backup_at, target_name, resources).await)
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
    crate::request::respond(ssr::decide(subscription_id, job_id, approve, reason).await)
}

/// The subscription's restore jobs the caller may see, newest first.
#[server(endpoint = "list_restore_jobs")]
pub async fn list_restore_jobs(subscription_id: String) -> Result<Vec<RestoreJob>, AppError> {
    crate::request::respond(ssr::list_jobs(subscription_id).await)
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
