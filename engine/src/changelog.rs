//! The change log: every change to an account's databases, containers and items, numbered by a
//! per-account sequence that is strictly increasing with no gaps.
//!
//! A write transaction takes its number *first*: bumping the account's sequence row is its
//! first statement, so the transaction holds the account's write lock from then on (a row lock
//! in PostgreSQL, the database write lock in SQLite). Writers of one account therefore commit in
//! sequence order, and a transaction that fails rolls its number back with everything else.

use chrono::{SubsecRound, Utc};
pub use domain::resource::{ChangeOp, ResourceType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, Set, Statement, TransactionTrait,
};

use crate::entities::change;
use crate::error::EngineError;

/// One change to record.
#[derive(Debug, Clone)]
pub struct Change {
    pub op: ChangeOp,
    pub resource_type: ResourceType,
    pub database_id: String,
    pub container_id: String,
    pub pk: Option<String>,
    pub item_id: Option<String>,
    /// The full new state as JSON, `None` for a tombstone.
    pub body: Option<String>,
}

/// Opens a logged write: a transaction whose first statement takes the account's next change
/// number. With [`commit`] it is the one bracket around every engine write; dropped without
/// committing, it rolls back, sequence bump included, so no number is lost.
///
/// # Errors
/// Database errors.
pub async fn begin(db: &DatabaseConnection, account_id: &str) -> Result<(DatabaseTransaction, i64), EngineError> {
    let txn = db.begin().await?;
    let seq = next_seq(&txn, account_id).await?;
    Ok((txn, seq))
}

/// Closes a logged write from [`begin`]: appends `change` under its number and commits.
///
/// # Errors
/// Database errors.
pub async fn commit(txn: DatabaseTransaction, account_id: &str, seq: i64, change: Change) -> Result<(), EngineError> {
    append(&txn, account_id, seq, change).await?;
    txn.commit().await?;
    Ok(())
}

/// The last change number issued to `account_id` (0 before its first change).
///
/// # Errors
/// Database errors.
pub async fn last_seq(db: &impl ConnectionTrait, account_id: &str) -> Result<i64, EngineError> {
    Ok(crate::entities::sequence::Entity::find_by_id(account_id.to_owned()).one(db).await?.map_or(0, |s| s.last_seq))
}

/// Takes the account's next sequence number. Must be the transaction's first statement.
///
/// # Errors
/// Database errors.
pub async fn next_seq(txn: &DatabaseTransaction, account_id: &str) -> Result<i64, EngineError> {
    reserve(txn, account_id, 1).await
}

/// Takes the account's next `n` sequence numbers and returns the first. Like [`next_seq`], it
/// must be the transaction's first statement. `n = 0` takes none and returns the last number
/// handed out — holding the account's write lock all the same, which is what a backup's
/// watermark needs (see `backup::ship`).
///
/// # Errors
/// Database errors.
pub async fn reserve(txn: &DatabaseTransaction, account_id: &str, n: i64) -> Result<i64, EngineError> {
    // Every logged write starts here: the one place that tells background work the data plane
    // is writing.
    crate::activity::note();
    let backend = txn.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Postgres => {
            "INSERT INTO account_sequences (account_id, last_seq) VALUES ($1, $2) \
             ON CONFLICT (account_id) DO UPDATE SET last_seq = account_sequences.last_seq + $2 \
             RETURNING last_seq"
        }
        _ => {
            "INSERT INTO account_sequences (account_id, last_seq) VALUES (?1, ?2) \
             ON CONFLICT (account_id) DO UPDATE SET last_seq = account_sequences.last_seq + ?2 \
             RETURNING last_seq"
        }
    };
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [account_id.into(), n.into()]))
        .await?
        .ok_or_else(|| EngineError::Db(sea_orm::DbErr::Custom("sequence bump returned no row".into())))?;
    Ok(row.try_get::<i64>("", "last_seq")? - n + 1)
}

/// Appends `change` under `seq` (from [`next_seq`] in the same transaction).
///
/// # Errors
/// Database errors.
pub async fn append(txn: &DatabaseTransaction, account_id: &str, seq: i64, change: Change) -> Result<(), EngineError> {
    entry(account_id, seq, change).insert(txn).await?;
    Ok(())
}

/// Appends many changes numbered from `first_seq` (from [`reserve`] in the same transaction).
///
/// # Errors
/// Database errors.
pub async fn append_many(txn: &DatabaseTransaction, account_id: &str, first_seq: i64, changes: Vec<Change>) -> Result<(), EngineError> {
    if changes.is_empty() {
        return Ok(());
    }
    let rows = changes.into_iter().zip(first_seq..).map(|(c, seq)| entry(account_id, seq, c));
    change::Entity::insert_many(rows).exec(txn).await?;
    Ok(())
}

fn entry(account_id: &str, seq: i64, change: Change) -> change::ActiveModel {
    change::ActiveModel {
        account_id: Set(account_id.to_owned()),
        seq: Set(seq),
        // Milliseconds are what the spec asks for and what both backends keep exactly.
        committed_at: Set(Utc::now().trunc_subsecs(3)),
        op: Set(change.op),
        resource_type: Set(change.resource_type),
        database_id: Set(change.database_id),
        container_id: Set(change.container_id),
        pk: Set(change.pk),
        item_id: Set(change.item_id),
        body: Set(change.body),
    }
}

/// An account's change log from `after_seq` (exclusive), oldest first, at most `limit` entries.
///
/// # Errors
/// Database errors.
pub async fn read(db: &impl ConnectionTrait, account_id: &str, after_seq: i64, limit: u64) -> Result<Vec<change::Model>, EngineError> {
    use sea_orm::QuerySelect;
    Ok(change::Entity::find()
        .filter(change::Column::AccountId.eq(account_id))
        .filter(change::Column::Seq.gt(after_seq))
        .order_by_asc(change::Column::Seq)
        .limit(limit)
        .all(db)
        .await?)
}

/// Removes up to `batch` of the oldest entries numbered `through` or lower — ones that backup
/// storage holds already, or that nothing will read again — and returns how many went. The live
/// database then keeps the log that unshipped work needs, not the account's whole history.
///
/// # Errors
/// Database errors.
pub async fn prune(db: &impl ConnectionTrait, account_id: &str, through: i64, batch: i64) -> Result<u64, EngineError> {
    use sea_orm::QuerySelect;
    let oldest: Option<i64> = change::Entity::find()
        .select_only()
        .column(change::Column::Seq)
        .filter(change::Column::AccountId.eq(account_id))
        .order_by_asc(change::Column::Seq)
        .into_tuple()
        .one(db)
        .await?;
    let Some(oldest) = oldest.filter(|o| *o <= through) else { return Ok(0) };
    // A range of the primary key: one index range, bounded work per call.
    let upto = through.min(oldest.saturating_add(batch - 1));
    let gone = change::Entity::delete_many()
        .filter(change::Column::AccountId.eq(account_id))
        .filter(change::Column::Seq.between(oldest, upto))
        .exec(db)
        .await?;
    Ok(gone.rows_affected)
}
