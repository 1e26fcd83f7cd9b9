//! A restore job from filing to the runner: filed from a plan (a new account's name reserved at
//! once), a periodic request approved or rejected by another user. The runner's side — claim,
//! lease, finish — is in `run`.

use backup::BackupError;
use backup::entities::restore_job::{self, JobPhase, JobState};
use backup::restore::selection_names;
use chrono::Utc;
use domain::error::AppError;
use domain::{AccountName, AccountState, CreateMode, RegionName, RestoreParameters};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};

use super::plan::{Plan, Target};
use crate::Ctx;
use crate::db::account;
use crate::new_account::NewAccount;

/// What the restore summary lists as not brought back (SPEC §4b).
pub const NOT_RESTORED: &str = "Not restored: role assignments, keys (the new account has fresh ones), network rules.";

/// The user a job is filed or decided for (already authorized by the caller).
#[derive(Debug, Clone, Copy)]
pub struct Requester<'a> {
    pub id: &'a str,
    pub name: &'a str,
}

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

/// Files `plan` (made by [`super::plan`] for `source`) as a job: a continuous restore into a new
/// account reserves the account at once and is `Pending`; an in-place restore is `Pending`
/// unless another one into the account is under way; a periodic one is a request,
/// `AwaitingApproval`, its account reserved when approved.
///
/// # Errors
/// [`AppError::Conflict`] when the target name was taken meanwhile or an in-place restore is
/// already under way.
pub async fn file(ctx: &Ctx<'_>, by: Requester<'_>, source: &account::Model, plan: &Plan) -> Result<restore_job::Model, AppError> {
    let txn = engine::store::begin_write(ctx.db).await?;
    let (target_id, target_name, state) = match &plan.target {
        Target::InPlace => {
            let busy = restore_job::Entity::find()
                .filter(restore_job::Column::TargetAccountId.eq(&source.id))
                .filter(restore_job::Column::State.is_in([JobState::Pending, JobState::Running]))
                .one(&txn)
                .await?;
            if busy.is_some() {
                return Err(AppError::Conflict(format!(
                    "a restore into account {:?} is already under way; wait for it to finish",
                    source.name
                )));
            }
            (source.id.clone(), source.name.clone(), JobState::Pending)
        }
        Target::NewAccount { name, .. } if plan.periodic => (String::new(), name.clone(), JobState::AwaitingApproval),
        Target::NewAccount { name, .. } => (reserve_target(ctx, &txn, source, name, plan).await?, name.clone(), JobState::Pending),
    };
    let job = restore_job::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        subscription_id: Set(source.subscription_id.clone()),
        source_account_id: Set(source.id.clone()),
        target_account_id: Set(target_id),
        target_name: Set(target_name),
        restore_at: Set(plan.at),
        resources: Set(serde_json::to_string(&plan.selection).map_err(|_| AppError::Internal)?),
        ttl_disabled: Set(matches!(plan.target, Target::NewAccount { ttl_disabled: true, .. })),
        in_place: Set(plan.target == Target::InPlace),
        state: Set(state),
        phase: Set(JobPhase::Plan),
        items_total: Set(i64::try_from(plan.stats.backup.items).unwrap_or(i64::MAX)),
        items_done: Set(0),
        bytes_done: Set(0),
        message: Set(String::new()),
        requested_by: Set(by.name.to_owned()),
        requested_by_id: Set(by.id.to_owned()),
        created_at: Set(Utc::now()),
        started_at: Set(None),
        finished_at: Set(None),
        lease_owner: Set(None),
        lease_until: Set(None),
        plan: Set(Some(serde_json::to_string(plan).map_err(|_| AppError::Internal)?)),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    tracing::info!(job = %job.id, source = %source.name, target = %job.target_name, at = %plan.at, state = job.state.as_str(), by = %by.name, "restore filed");
    Ok(job)
}

/// Approves or rejects a request awaiting approval; approving reserves the new account.
///
/// # Errors
/// [`AppError::Conflict`] when the job is not awaiting approval (or was decided meanwhile) or
/// the name was taken since; [`AppError::Forbidden`] for the requester approving their own.
pub async fn decide(
    ctx: &Ctx<'_>,
    by: Requester<'_>,
    source: &account::Model,
    job: restore_job::Model,
    approve: bool,
    reason: &str,
) -> Result<restore_job::Model, AppError> {
    if job.state != JobState::AwaitingApproval {
        return Err(AppError::Conflict(format!("restore request {} is {}, not awaiting approval", job.id, job.state.as_str())));
    }
    if approve && job.requested_by_id == by.id {
        return Err(AppError::Forbidden(format!(
            "restore request {} was filed by you; another user with restoreRequests/approve/action must approve it",
            job.id
        )));
    }
    let plan = if approve { Some(super::run::plan_of(ctx, &job).await?) } else { None };
    let txn = engine::store::begin_write(ctx.db).await?;
    let mut active: restore_job::ActiveModel = job.clone().into();
    if let Some(plan) = plan {
        active.target_account_id = Set(reserve_target(ctx, &txn, source, &job.target_name, &plan).await?);
        active.state = Set(JobState::Pending);
        active.message = Set(format!("Approved by {}.{}", by.name, if reason.is_empty() { String::new() } else { format!(" {reason}") }));
    } else {
        active.state = Set(JobState::Rejected);
        active.finished_at = Set(Some(Utc::now()));
        active.message = Set(format!("Rejected by {}: {}", by.name, if reason.is_empty() { "no reason given" } else { reason }));
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
    tracing::info!(job = %job.id, approve, by = %by.name, "restore request decided");
    restore_job::Entity::find_by_id(job.id.clone()).one(ctx.db).await?.ok_or(AppError::Internal)
}

/// Holds `name` for a restore's new account: created at once in state `Restoring` (so it takes
/// no writes and nobody else can take the name), with fresh keys and the source's policy.
async fn reserve_target(
    ctx: &Ctx<'_>,
    txn: &DatabaseTransaction,
    source: &account::Model,
    name: &str,
    plan: &Plan,
) -> Result<String, AppError> {
    let name = AccountName::parse(name)?;
    let params = RestoreParameters {
        source_account_id: source.id.clone(),
        source_account_name: source.name.clone(),
        restore_at: plan.at,
        resources: selection_names(&plan.selection),
        ttl_disabled: matches!(plan.target, Target::NewAccount { ttl_disabled: true, .. }),
    };
    let row = NewAccount {
        subscription_id: &source.subscription_id,
        name: &name,
        region: &RegionName::parse(&source.region)?,
        api_kind: source.api_kind,
        state: AccountState::Restoring,
        policy: &source.backup_policy,
        // A restored account's backups start under the service-managed key; it can rotate to a
        // customer key once it is online.
        customer_key: None,
        create_mode: CreateMode::Restore,
        restore_parameters: Some(&params),
    }
    .insert(txn, ctx)
    .await?;
    Ok(row.id)
}
