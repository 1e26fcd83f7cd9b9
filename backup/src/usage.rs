//! What an account's backups take in backup storage, one copy: its snapshots (a chunk carried
//! over from one snapshot to the next counted once) and its log segments; and the series of
//! samples the backup page draws. Computed from the catalog, never by listing storage.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, Set, Statement};

use crate::entities::{backup_segment, backup_usage};
use crate::error::BackupError;

/// How often a sample is recorded at most.
pub const EVERY: Duration = Duration::hours(1);
/// How long samples are kept (the longest retention).
pub const KEPT: Duration = Duration::days(30);

/// The bytes `account_id`'s backups take now.
///
/// # Errors
/// Database errors.
pub async fn stored_bytes(c: &impl ConnectionTrait, account_id: &str) -> Result<i64, BackupError> {
    let backend = c.get_database_backend();
    let p = if backend == DbBackend::Postgres { "$1" } else { "?" };
    // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back so both backends answer an integer.
    let sql = format!(
        "SELECT CAST(COALESCE((SELECT SUM(bytes) FROM (SELECT DISTINCT object_key, bytes FROM backup_snapshot_chunks WHERE account_id = {p}) AS c), 0) \
         + COALESCE((SELECT SUM(bytes) FROM backup_snapshots WHERE account_id = {p} AND chunks = 0), 0) \
         + COALESCE((SELECT SUM(bytes) FROM backup_segments WHERE account_id = {p}), 0) AS BIGINT) AS total"
    );
    let values = [account_id.into(), account_id.into(), account_id.into()];
    let row = c.query_one_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
    Ok(row.map(|r| r.try_get::<i64>("", "total")).transpose()?.unwrap_or(0))
}

/// An account's change log in backup storage: how many segments, their bytes, and the commit
/// times of its first and last change (none without a segment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogSummary {
    pub segments: i64,
    pub bytes: i64,
    pub span: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// `account_id`'s [`LogSummary`]: one aggregate and two indexed reads, whatever the log's length.
///
/// # Errors
/// Database errors.
pub async fn log(c: &impl ConnectionTrait, account_id: &str) -> Result<LogSummary, BackupError> {
    let backend = c.get_database_backend();
    let p = if backend == DbBackend::Postgres { "$1" } else { "?" };
    let sql = format!(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n, CAST(COALESCE(SUM(bytes), 0) AS BIGINT) AS total FROM backup_segments WHERE account_id = {p}"
    );
    let (segments, bytes) = match c.query_one_raw(Statement::from_sql_and_values(backend, sql, [account_id.into()])).await? {
        Some(r) => (r.try_get("", "n")?, r.try_get("", "total")?),
        None => (0, 0),
    };
    let of = |q: sea_orm::Select<backup_segment::Entity>| q.filter(backup_segment::Column::AccountId.eq(account_id)).one(c);
    let first = of(backup_segment::Entity::find().order_by_asc(backup_segment::Column::FirstSeq)).await?;
    let last = of(backup_segment::Entity::find().order_by_desc(backup_segment::Column::LastSeq)).await?;
    Ok(LogSummary { segments, bytes, span: first.zip(last).map(|(f, l)| (f.first_at, l.last_at)) })
}

/// Records a sample of `account_id`'s storage as of `now` unless one was recorded less than
/// [`EVERY`] ago, and forgets samples older than [`KEPT`]. Answers whether it recorded one.
///
/// # Errors
/// Database errors.
pub async fn sample(c: &impl ConnectionTrait, account_id: &str, now: DateTime<Utc>) -> Result<bool, BackupError> {
    let newest = backup_usage::Entity::find()
        .filter(backup_usage::Column::AccountId.eq(account_id))
        .order_by_desc(backup_usage::Column::At)
        .one(c)
        .await?;
    if newest.is_some_and(|n| now - n.at < EVERY) {
        return Ok(false);
    }
    let bytes = stored_bytes(c, account_id).await?;
    backup_usage::Entity::insert(backup_usage::ActiveModel { account_id: Set(account_id.to_owned()), at: Set(now), bytes: Set(bytes) })
        .on_conflict_do_nothing()
        .exec(c)
        .await?;
    backup_usage::Entity::delete_many()
        .filter(backup_usage::Column::AccountId.eq(account_id))
        .filter(backup_usage::Column::At.lt(now - KEPT))
        .exec(c)
        .await?;
    Ok(true)
}

/// `account_id`'s samples, oldest first.
///
/// # Errors
/// Database errors.
pub async fn series(c: &impl ConnectionTrait, account_id: &str) -> Result<Vec<(DateTime<Utc>, i64)>, BackupError> {
    Ok(backup_usage::Entity::find()
        .filter(backup_usage::Column::AccountId.eq(account_id))
        .order_by_asc(backup_usage::Column::At)
        .all(c)
        .await?
        .into_iter()
        .map(|s| (s.at, s.bytes))
        .collect())
}

/// Forgets every sample of `account_id` (its backups are gone).
///
/// # Errors
/// Database errors.
pub async fn forget(c: &impl ConnectionTrait, account_id: &str) -> Result<(), BackupError> {
    backup_usage::Entity::delete_many().filter(backup_usage::Column::AccountId.eq(account_id)).exec(c).await?;
    Ok(())
}
