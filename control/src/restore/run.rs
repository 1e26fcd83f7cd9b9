//! The runner's side of a job: claim one under a lease, execute its plan — read the source as of
//! the restore time from backup storage and stream the chosen databases and containers into the
//! target, verifying as it writes — and finish: only then does a new target turn `Online`.
//!
//! A job whose runner died (its lease ran out) is taken over: the target's partial contents are
//! removed and the restore starts again, so a crash never leaves a half-restored account
//! `Online`. A job that fails removes what it wrote and marks the target deleted, freeing its
//! name; the job keeps the reason.

use backup::BackupError;
use backup::chunk::ChunkBounds;
use backup::entities::restore_job::{self, JobPhase, JobState};
use backup::replay::{Bound, Items, PointInTime};
use backup::restore::{DatabaseSelection, Progress, Recording};
use chrono::{SecondsFormat, Utc};
use domain::AccountState;
use domain::audit::Outcome as AuditOutcome;
use domain::error::AppError;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, TransactionTrait};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::job::NOT_RESTORED;
use super::plan::{Plan, PlanStats, Target, resources};
use crate::Ctx;
use crate::audit::{Record, append_all};
use crate::db::account;

/// How long a claim lasts without renewal; the runner renews it every [`RENEW`].
const LEASE: Duration = Duration::from_secs(30);
const RENEW: Duration = Duration::from_millis(500);
/// SPEC §4e: at most this many restores run at once per source account.
pub const MAX_PER_SOURCE: u64 = 3;

/// What one step did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Idle,
    Succeeded(String),
    Failed(String, String),
}

fn lease_end() -> chrono::DateTime<Utc> {
    Utc::now() + chrono::Duration::from_std(LEASE).unwrap_or_default()
}

/// Claims the oldest runnable job (pending, or running under an expired lease), if any, keeping
/// to [`MAX_PER_SOURCE`] running restores per source across replicas.
///
/// Returns the job as claimed and whether it had started before (a take-over).
///
/// # Errors
/// Database errors.
pub async fn claim(db: &DatabaseConnection, owner: &str) -> Result<Option<(restore_job::Model, bool)>, sea_orm::DbErr> {
    let now = Utc::now();
    let candidates = restore_job::Entity::find()
        .filter(
            Condition::any()
                .add(restore_job::Column::State.eq(JobState::Pending))
                .add(Condition::all().add(restore_job::Column::State.eq(JobState::Running)).add(restore_job::Column::LeaseUntil.lt(now))),
        )
        .order_by_asc(restore_job::Column::CreatedAt)
        .all(db)
        .await?;
    for job in candidates {
        // Claimers of one source take turns, across replicas: a write to the source's account
        // row holds its row lock (PostgreSQL) or the database's write lock (SQLite) until this
        // transaction ends, so no other claim can slip between the count and the claim.
        let txn = db.begin().await?;
        account::Entity::update_many()
            .col_expr(account::Column::Id, Expr::col(account::Column::Id))
            .filter(account::Column::Id.eq(&job.source_account_id))
            .exec(&txn)
            .await?;
        if let Some(claimed) = claim_one(&txn, &job, owner, now).await? {
            txn.commit().await?;
            let fresh = restore_job::Entity::find_by_id(claimed.id.clone()).one(db).await?;
            return Ok(fresh.map(|j| (j, claimed.started_at.is_some())));
        }
        txn.rollback().await?;
    }
    Ok(None)
}

/// Claims `job` if fewer than [`MAX_PER_SOURCE`] restores of its source run (and, in place, none
/// into its account); returns it as it was before the claim.
async fn claim_one(
    c: &impl sea_orm::ConnectionTrait,
    job: &restore_job::Model,
    owner: &str,
    now: chrono::DateTime<Utc>,
) -> Result<Option<restore_job::Model>, sea_orm::DbErr> {
    let running = restore_job::Entity::find()
        .filter(restore_job::Column::SourceAccountId.eq(&job.source_account_id))
        .filter(restore_job::Column::State.eq(JobState::Running))
        .filter(restore_job::Column::LeaseUntil.gte(now))
        .count(c)
        .await?;
    if running >= MAX_PER_SOURCE {
        return Ok(None);
    }
    if job.in_place {
        // One in-place restore per account at a time: two would write the same names.
        let busy = restore_job::Entity::find()
            .filter(restore_job::Column::TargetAccountId.eq(&job.target_account_id))
            .filter(restore_job::Column::InPlace.eq(true))
            .filter(restore_job::Column::State.eq(JobState::Running))
            .filter(restore_job::Column::LeaseUntil.gte(now))
            .filter(restore_job::Column::Id.ne(&job.id))
            .count(c)
            .await?;
        if busy > 0 {
            return Ok(None);
        }
    }
    let mut claim = restore_job::Entity::update_many()
        .col_expr(restore_job::Column::State, Expr::value(JobState::Running))
        .col_expr(restore_job::Column::LeaseOwner, Expr::value(owner))
        .col_expr(restore_job::Column::LeaseUntil, Expr::value(lease_end()))
        .col_expr(restore_job::Column::StartedAt, Expr::value(job.started_at.unwrap_or(now)))
        .filter(restore_job::Column::Id.eq(&job.id))
        .filter(restore_job::Column::State.eq(job.state));
    claim = match job.lease_until {
        Some(t) => claim.filter(restore_job::Column::LeaseUntil.eq(t)),
        None => claim.filter(restore_job::Column::LeaseUntil.is_null()),
    };
    Ok((claim.exec(c).await?.rows_affected == 1).then(|| job.clone()))
}

/// Claims and runs one job to its end: the worker's step.
///
/// # Errors
/// Database errors while claiming or recording the outcome (the job is then retried when its
/// lease runs out).
pub async fn step(ctx: &Ctx<'_>, owner: &str) -> Result<Outcome, sea_orm::DbErr> {
    let Some((job, resumed)) = claim(ctx.db, owner).await? else { return Ok(Outcome::Idle) };
    tracing::info!(job = %job.id, target = %job.target_name, resumed, "restore started");
    let (tx, rx) = watch::channel(Progress::default());
    let (phase_tx, phase_rx) = watch::channel(JobPhase::Plan);
    let stop = CancellationToken::new();
    let lost = Arc::new(AtomicBool::new(false));
    let keeper = tokio::spawn(keep(ctx.db.clone(), job.id.clone(), owner.to_owned(), rx, phase_rx, stop.clone(), lost.clone()));
    let result = execute(ctx, &job, resumed, &tx, &phase_tx, &lost).await;
    stop.cancel();
    let _ = keeper.await;
    finish(ctx, &job, owner, result).await
}

/// Renews the lease and records progress until stopped.
async fn keep(
    db: DatabaseConnection,
    id: String,
    owner: String,
    progress: watch::Receiver<Progress>,
    phase: watch::Receiver<JobPhase>,
    stop: CancellationToken,
    lost: Arc<AtomicBool>,
) {
    loop {
        let p = *progress.borrow();
        let ph = *phase.borrow();
        let renewed = restore_job::Entity::update_many()
            .col_expr(restore_job::Column::LeaseUntil, Expr::value(lease_end()))
            .col_expr(restore_job::Column::Phase, Expr::value(ph))
            .col_expr(restore_job::Column::ItemsTotal, Expr::value(i64::try_from(p.items_total).unwrap_or(i64::MAX)))
            .col_expr(restore_job::Column::ItemsDone, Expr::value(i64::try_from(p.items_done).unwrap_or(i64::MAX)))
            .col_expr(restore_job::Column::BytesDone, Expr::value(i64::try_from(p.bytes_done).unwrap_or(i64::MAX)))
            .filter(restore_job::Column::Id.eq(&id))
            .filter(restore_job::Column::LeaseOwner.eq(&owner))
            .filter(restore_job::Column::State.eq(JobState::Running))
            .exec(&db)
            .await;
        match renewed {
            Ok(r) if r.rows_affected == 0 => {
                // Another runner holds the job now: stop writing.
                tracing::warn!(job = %id, "lost the restore lease; stopping");
                lost.store(true, Ordering::Relaxed);
                return;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(job = %id, error = %e, "could not renew the restore lease"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(RENEW) => {}
        }
    }
}

/// The plan a job was filed with; a job filed before plans were kept is planned now, from what
/// it recorded (its names were checked, and its account reserved, when it was filed).
///
/// # Errors
/// An unreadable stored plan or selection; planning errors.
pub(super) async fn plan_of(ctx: &Ctx<'_>, job: &restore_job::Model) -> Result<Plan, AppError> {
    if let Some(stored) = &job.plan {
        return serde_json::from_str(stored).map_err(|e| {
            tracing::error!(job = %job.id, error = %e, "the job's plan is unreadable");
            AppError::Internal
        });
    }
    let selection = selection_of(job).map_err(super::backup_error)?;
    let periodic = job.target_account_id.is_empty() || account_is_periodic(ctx, &job.source_account_id).await?;
    let resources = resources(ctx, &job.source_account_id, job.restore_at, periodic, &selection).await?;
    Ok(Plan {
        source_account_id: job.source_account_id.clone(),
        at: job.restore_at,
        periodic,
        selection,
        target: if job.in_place {
            Target::InPlace
        } else {
            Target::NewAccount { name: job.target_name.clone(), ttl_disabled: job.ttl_disabled }
        },
        resources,
        stats: PlanStats::default(),
    })
}

async fn account_is_periodic(ctx: &Ctx<'_>, id: &str) -> Result<bool, AppError> {
    let row = account::Entity::find_by_id(id.to_owned()).one(ctx.db).await?.ok_or(AppError::Internal)?;
    Ok(matches!(row.backup_policy, domain::BackupPolicy::Periodic { .. }))
}

/// What a finished restore brought back.
struct Summary {
    /// Objects read from a second copy because the first was missing or altered.
    fallbacks: Vec<String>,
    databases: usize,
    containers: usize,
    done: Progress,
}

/// Executes the job's plan. The error's flag tells whether anything may have been written.
async fn execute(
    ctx: &Ctx<'_>,
    job: &restore_job::Model,
    resumed: bool,
    progress: &watch::Sender<Progress>,
    phase: &watch::Sender<JobPhase>,
    lost: &AtomicBool,
) -> Result<Summary, (BackupError, bool)> {
    let target = &job.target_account_id;
    let plan = plan_of(ctx, job).await.map_err(|e| (BackupError::Invalid(e.to_string()), false))?;
    // A runner died part-way through writing: remove what it wrote — only that, recognised by
    // the job's own resource ids — and start again. (The phase is recorded as `apply` before the
    // first write, so an earlier one wrote nothing.)
    if resumed && job.phase.may_have_written() {
        backup::restore::remove(ctx.db, &job.id, target, &plan.selection).await.map_err(|e| (e, false))?;
    }
    phase.send_replace(JobPhase::Fetch);
    let kek = ctx.backup_kek();
    // Notes every object read from a second copy, for the job's summary.
    let storage = ctx.backup_storage.reporting();
    let pit = PointInTime::open(ctx.db, &storage, &kek, &job.source_account_id, Bound::Time(job.restore_at), Items::Of(&plan.selection))
        .await
        .map_err(|e| (e, false))?;
    if job.in_place {
        // The names must still be free: somebody may have made a new one since the request.
        backup::restore::check_free_in_place(ctx.db, target, &plan.selection).await.map_err(|e| (e, false))?;
    }
    let stats = pit.stats();
    tracing::info!(job = %job.id, segments = stats.segments, bytes = stats.bytes, entries = stats.entries, "restore fetched");
    phase.send_replace(JobPhase::Apply);
    restore_job::Entity::update_many()
        .col_expr(restore_job::Column::Phase, Expr::value(JobPhase::Apply))
        .filter(restore_job::Column::Id.eq(&job.id))
        .exec(ctx.db)
        .await
        .map_err(|e| (e.into(), false))?;
    // Writing verifies as it goes (chunk hashes and counts, rows written, items held).
    // A new account takes no writes until it is Online, so its backup is seeded from what is
    // written; an account restored into in place goes on taking writes, so its items are logged.
    let seeding;
    let recording = if job.in_place {
        Recording::Logged
    } else {
        let redundancy = account::Entity::find_by_id(target.clone())
            .one(ctx.db)
            .await
            .map_err(|e| (e.into(), false))?
            .map_or(domain::Redundancy::Local, |a| a.backup_policy.redundancy());
        seeding = storage.writing_for(redundancy).map_err(|e| (e, false))?;
        Recording::Seeded { storage: &seeding, kek: &kek, chunks: ChunkBounds::DEFAULT }
    };
    let done = backup::restore::apply(
        ctx.db,
        &job.id,
        target,
        &pit,
        &plan.resources,
        &plan.selection,
        job.ttl_disabled,
        recording,
        progress,
        lost,
    )
    .await?;
    Ok(Summary {
        fallbacks: storage.fallbacks(),
        databases: plan.resources.databases.len(),
        containers: plan.resources.databases.values().map(|d| d.containers.len()).sum(),
        done,
    })
}

/// " Read from a second copy: …" — the first few objects whose first copy failed, and how many.
fn fallback_note(fallbacks: &[String]) -> String {
    const SHOWN: usize = 3;
    match fallbacks.len() {
        0 => String::new(),
        n => {
            let more = if n > SHOWN { format!("; and {} more", n - SHOWN) } else { String::new() };
            format!(" Read {n} backup object(s) from a second copy: {}{more}.", fallbacks[..n.min(SHOWN)].join("; "))
        }
    }
}

fn selection_of(job: &restore_job::Model) -> Result<Vec<DatabaseSelection>, BackupError> {
    serde_json::from_str(&job.resources).map_err(|e| BackupError::Invalid(format!("the job's selection is unreadable: {e}")))
}

/// Records the outcome: the target goes `Online` only here, in the same transaction that marks
/// the job succeeded, and only if this runner still holds the lease.
async fn finish(
    ctx: &Ctx<'_>,
    job: &restore_job::Model,
    owner: &str,
    result: Result<Summary, (BackupError, bool)>,
) -> Result<Outcome, sea_orm::DbErr> {
    let db = ctx.db;
    let (job_state, message, target_state, deleted_at) = match &result {
        Ok(s) => (
            JobState::Succeeded,
            format!(
                "Restored {} database(s), {} container(s), {} item(s) as of {}. {NOT_RESTORED}{}",
                s.databases,
                s.containers,
                s.done.items_done,
                job.restore_at.to_rfc3339_opts(SecondsFormat::Secs, true),
                fallback_note(&s.fallbacks),
            ),
            AccountState::Online,
            None,
        ),
        Err((e, wrote)) => {
            // Remove what was written: in place, only the resources being restored; nothing at
            // all if writing never began (the names may belong to somebody else by now).
            // Only while this runner still holds the job: a runner that took it over owns the
            // target's contents now.
            let still_ours = restore_job::Entity::update_many()
                .col_expr(restore_job::Column::LeaseUntil, Expr::value(lease_end()))
                .filter(restore_job::Column::Id.eq(&job.id))
                .filter(restore_job::Column::LeaseOwner.eq(owner))
                .filter(restore_job::Column::State.eq(JobState::Running))
                .filter(restore_job::Column::LeaseUntil.gt(Utc::now()))
                .exec(db)
                .await?
                .rows_affected
                == 1;
            if *wrote && still_ours {
                let cleaned = match selection_of(job) {
                    Ok(selection) => backup::restore::remove(db, &job.id, &job.target_account_id, &selection).await,
                    Err(e) => Err(e),
                };
                if let Err(clean) = cleaned {
                    tracing::error!(job = %job.id, error = %clean, "could not remove a failed restore's partial data");
                }
            }
            (JobState::Failed, format!("{e}"), AccountState::Deleted, Some(Utc::now()))
        }
    };
    let txn = db.begin().await?;
    let mut update = restore_job::Entity::update_many()
        .col_expr(restore_job::Column::State, Expr::value(job_state))
        .col_expr(restore_job::Column::Message, Expr::value(message.clone()))
        .col_expr(restore_job::Column::FinishedAt, Expr::value(Utc::now()))
        .col_expr(restore_job::Column::LeaseUntil, Expr::value(Option::<chrono::DateTime<Utc>>::None))
        .filter(restore_job::Column::Id.eq(&job.id))
        .filter(restore_job::Column::LeaseOwner.eq(owner));
    if let Ok(s) = &result {
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        update = update
            .col_expr(restore_job::Column::Phase, Expr::value(JobPhase::Done))
            .col_expr(restore_job::Column::ItemsTotal, Expr::value(n(s.done.items_total)))
            .col_expr(restore_job::Column::ItemsDone, Expr::value(n(s.done.items_done)))
            .col_expr(restore_job::Column::BytesDone, Expr::value(n(s.done.bytes_done)));
    }
    if update.exec(&txn).await?.rows_affected == 0 {
        // Another runner took the job over; its outcome stands.
        txn.rollback().await?;
        return Ok(Outcome::Idle);
    }
    // A new account goes Online (or, failed, away); an account restored into in place was
    // Online throughout and stays so.
    if !job.in_place {
        let online_since = result.is_ok().then(Utc::now);
        account::Entity::update_many()
            .col_expr(account::Column::State, Expr::value(target_state.as_str()))
            .col_expr(account::Column::DeletedAt, Expr::value(deleted_at))
            .col_expr(account::Column::OnlineSince, Expr::value(online_since))
            .filter(account::Column::Id.eq(&job.target_account_id))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;

    let source = account::Entity::find_by_id(job.source_account_id.clone()).one(db).await?;
    let record = Record {
        user_id: String::new(),
        user_name: format!("rewind (for {})", job.requested_by),
        client_ip: String::new(),
        action: "restore/complete".into(),
        scope: source.map_or_else(String::new, |s| s.scope().to_string()),
        resource: if job.in_place {
            format!(
                "restore job {} -> in place ({})",
                job.id,
                backup::restore::selection_names(&selection_of(job).unwrap_or_default()).join(", ")
            )
        } else {
            format!("restore job {} -> accounts/{}", job.id, job.target_name)
        },
        outcome: if result.is_ok() { AuditOutcome::Succeeded } else { AuditOutcome::Failed },
        detail: message.clone(),
    };
    append_all(db, vec![record]).await;
    Ok(match result {
        Ok(_) => {
            tracing::info!(job = %job.id, target = %job.target_name, "restore succeeded");
            Outcome::Succeeded(job.id.clone())
        }
        Err(_) => {
            tracing::warn!(job = %job.id, target = %job.target_name, %message, "restore failed");
            Outcome::Failed(job.id.clone(), message)
        }
    })
}
