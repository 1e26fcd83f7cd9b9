//! Backup verification from the control plane's side: running one (`backup::verify`) and
//! keeping its result, on demand (`backups/verify/action`, held by Backup Operator and Owner),
//! on the schedule ([`due`], run by a leased worker) or from `rewind verify`; and the last
//! result (`backups/read`). Every run is audited.

use backup::entities::backup_verification;
use backup::verify::{Depth, Report};
use chrono::{DateTime, Duration, Utc};
use domain::audit::Outcome;
use domain::error::AppError;
use domain::rbac::actions;
use domain::verification::BackupVerification;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::Ctx;
use crate::accounts::authorized_account;
use crate::audit::{Record, append_all};
use crate::authz::{Caller, account_scope};
use crate::db::account;

/// Problems kept per run: an account whose every object is gone has millions.
const KEPT_PROBLEMS: usize = 1_000;

/// Verifies `row`'s backups now and keeps the result (not audited: the caller does).
///
/// # Errors
/// Database errors, and a redundancy this server keeps no store for.
pub async fn run(ctx: &Ctx<'_>, row: &account::Model, depth: Depth, requested_by: &str) -> Result<BackupVerification, AppError> {
    let started_at = Utc::now();
    let report = backup::verify::account(ctx.db, ctx.backup_storage, &ctx.backup_kek(), &row.id, row.backup_policy.redundancy(), depth)
        .await
        .map_err(|e| AppError::Invalid(e.to_string()))?;
    let saved = save(ctx.db, row, depth, started_at, &report, requested_by).await?;
    Ok(to_wire(saved, &row.name))
}

async fn save(
    db: &DatabaseConnection,
    row: &account::Model,
    depth: Depth,
    started_at: DateTime<Utc>,
    report: &Report,
    requested_by: &str,
) -> Result<backup_verification::Model, AppError> {
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    let problems: Vec<String> = report.problems.iter().take(KEPT_PROBLEMS).map(ToString::to_string).collect();
    Ok(backup_verification::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        account_id: Set(row.id.clone()),
        deep: Set(depth == Depth::Deep),
        started_at: Set(started_at),
        finished_at: Set(Utc::now()),
        objects: Set(n(report.objects)),
        bytes: Set(n(report.bytes)),
        problem_count: Set(n(report.problems.len() as u64)),
        problems: Set(problems.join("\n")),
        requested_by: Set(requested_by.to_owned()),
    }
    .insert(db)
    .await?)
}

fn to_wire(m: backup_verification::Model, account_name: &str) -> BackupVerification {
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    BackupVerification {
        account_id: m.account_id,
        account_name: account_name.to_owned(),
        deep: m.deep,
        started_at: m.started_at,
        finished_at: m.finished_at,
        objects: n(m.objects),
        bytes: n(m.bytes),
        passed: m.problem_count == 0,
        problem_count: n(m.problem_count),
        problems: m.problems.lines().map(str::to_owned).collect(),
        requested_by: m.requested_by,
    }
}

/// The audit entry's detail: how it went and the first problems.
fn summary(v: &BackupVerification) -> String {
    let head = format!(
        "{} verification of {} object copies ({} bytes): {} problem(s)",
        if v.deep { "deep" } else { "presence" },
        v.objects,
        v.bytes,
        v.problem_count
    );
    std::iter::once(head).chain(v.problems.iter().take(5).cloned()).collect::<Vec<_>>().join("; ")
}

/// Verifies an account's backups now, for a caller holding `backups/verify/action` on it.
///
/// # Errors
/// [`AppError::Forbidden`]/[`AppError::NotFound`] as for any account; those of [`run`].
pub async fn verify_now(
    ctx: &Ctx<'_>,
    caller: &Caller,
    subscription_id: String,
    name: String,
    deep: bool,
) -> Result<BackupVerification, AppError> {
    let action = actions::BACKUPS_VERIFY;
    let row = authorized_account(caller, action, &subscription_id, &name).await?;
    let scope = account_scope(&row);
    let depth = if deep { Depth::Deep } else { Depth::Presence };
    let result = run(ctx, &row, depth, &caller.user.name).await;
    let resource = match &result {
        Ok(v) => format!("{scope} ({})", summary(v)),
        Err(_) => scope.to_string(),
    };
    caller.audited(action, &scope, &resource, result).await
}

/// The account's last verification (`None`: never verified), for a caller holding
/// `backups/read` on it.
///
/// # Errors
/// As for any account.
pub async fn last(ctx: &Ctx<'_>, caller: &Caller, subscription_id: String, name: String) -> Result<Option<BackupVerification>, AppError> {
    let row = authorized_account(caller, actions::BACKUPS_READ, &subscription_id, &name).await?;
    let last = backup_verification::Entity::find()
        .filter(backup_verification::Column::AccountId.eq(&row.id))
        .order_by_desc(backup_verification::Column::FinishedAt)
        .one(ctx.db)
        .await?;
    Ok(last.map(|l| to_wire(l, &row.name)))
}

/// Verifies `row` for someone outside a request (the schedule, `rewind verify`) and audits it
/// under `by`.
///
/// # Errors
/// Those of [`run`].
pub async fn run_audited(ctx: &Ctx<'_>, row: &account::Model, depth: Depth, by: &str) -> Result<BackupVerification, AppError> {
    let result = run(ctx, row, depth, by).await;
    let scope = account_scope(row);
    let (outcome, detail) = match &result {
        Ok(v) if v.passed => (Outcome::Succeeded, summary(v)),
        Ok(v) => (Outcome::Failed, summary(v)),
        Err(e) => (Outcome::Failed, e.to_string()),
    };
    let record = Record {
        user_id: String::new(),
        user_name: by.to_owned(),
        client_ip: String::new(),
        action: actions::BACKUPS_VERIFY.to_owned(),
        scope: scope.to_string(),
        resource: scope.to_string(),
        outcome,
        detail,
    };
    append_all(ctx.db, vec![record]).await;
    result
}

/// The accounts whose backups are due a scheduled verification: those whose last verification
/// finished `every` ago or more — or, never verified, whose backups began that long ago.
///
/// # Errors
/// Database errors.
pub async fn due(db: &DatabaseConnection, every: Duration, now: DateTime<Utc>) -> Result<Vec<account::Model>, AppError> {
    let began: std::collections::HashMap<String, DateTime<Utc>> =
        backup::entities::backup_key::Entity::find().all(db).await?.into_iter().map(|k| (k.account_id, k.created_at)).collect();
    let mut out = Vec::new();
    for row in account::Entity::find().order_by_asc(account::Column::Id).all(db).await? {
        let Some(&began) = began.get(&row.id) else { continue };
        let last = backup_verification::Entity::find()
            .filter(backup_verification::Column::AccountId.eq(&row.id))
            .order_by_desc(backup_verification::Column::FinishedAt)
            .one(db)
            .await?;
        if last.map_or(began, |l| l.finished_at) + every <= now {
            out.push(row);
        }
    }
    Ok(out)
}
