//! The backup catalog's resource events: every database and container change of an account is
//! recorded as its segment is shipped (in the same transaction as the segment's manifest row),
//! so the restore page's event feed and "what existed at this second" cost O(events) and never
//! fetch or decrypt a segment.
//!
//! Accounts shipped before the catalog existed catch up once from their segments
//! ([`catch_up`]); `backup_state.cataloged_seq` says how far the events go.

use chrono::{DateTime, Utc};
use domain::resource::{EventKind, ResourceType};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entities::{backup_event, backup_segment, backup_state};
use crate::error::BackupError;
use crate::keys::KeyWrapKey;
use crate::replay::{AccountAt, fetch};
use crate::segment::Entry;
use crate::storage::BackupStorage;

/// A database or container event, as the restore page's feed shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceEvent {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub kind: EventKind,
    /// `Database` or `Container`.
    pub resource_type: ResourceType,
    pub database: String,
    /// Empty for a database event.
    pub container: String,
    /// The resource's properties after the event (`None` for a deletion).
    pub body: Option<String>,
}

/// Records the database and container changes among `entries` (a shipped segment's).
///
/// # Errors
/// Database errors.
pub async fn record(c: &impl ConnectionTrait, account_id: &str, entries: &[Entry]) -> Result<(), BackupError> {
    let rows: Vec<backup_event::ActiveModel> = entries
        .iter()
        .filter(|e| e.resource_type != ResourceType::Item)
        .map(|e| backup_event::ActiveModel {
            account_id: Set(account_id.to_owned()),
            seq: Set(e.seq),
            committed_at: Set(e.committed_at),
            op: Set(e.op),
            resource_type: Set(e.resource_type),
            database_id: Set(e.database_id.clone()),
            container_id: Set(e.container_id.clone()),
            body: Set(e.body.clone()),
        })
        .collect();
    for chunk in rows.chunks(500) {
        // A catch-up and the shipper may record the same events: the first one stands.
        backup_event::Entity::insert_many(chunk.to_vec()).on_conflict_do_nothing().exec(c).await?;
    }
    Ok(())
}

/// Moves `cataloged_seq` from `from` to `to`, if it is still at `from` (a catch-up elsewhere may
/// have moved it already).
///
/// # Errors
/// Database errors.
pub async fn advance(c: &impl ConnectionTrait, account_id: &str, from: i64, to: i64) -> Result<(), BackupError> {
    backup_state::Entity::update_many()
        .col_expr(backup_state::Column::CatalogedSeq, Expr::value(to))
        .filter(backup_state::Column::AccountId.eq(account_id))
        .filter(backup_state::Column::CatalogedSeq.eq(from))
        .exec(c)
        .await?;
    Ok(())
}

/// Brings the catalog up to everything shipped, reading (once) the segments shipped before it
/// recorded them. A no-op, one row read, when it is up to date.
///
/// # Errors
/// Integrity, key, storage and database errors.
pub async fn catch_up(db: &DatabaseConnection, storage: &BackupStorage, kek: &KeyWrapKey, account_id: &str) -> Result<(), BackupError> {
    let Some(state) = backup_state::Entity::find_by_id(account_id.to_owned()).one(db).await? else { return Ok(()) };
    if state.cataloged_seq >= state.shipped_seq {
        return Ok(());
    }
    let segs = backup_segment::Entity::find()
        .filter(backup_segment::Column::AccountId.eq(account_id))
        .filter(backup_segment::Column::LastSeq.gt(state.cataloged_seq))
        .order_by_asc(backup_segment::Column::FirstSeq)
        .all(db)
        .await?;
    let key = kek.data_key(db, storage, account_id).await?;
    let mut through = state.cataloged_seq;
    for s in segs {
        let (entries, _) = fetch(storage, &key, &s).await?;
        record(db, account_id, &entries).await?;
        advance(db, account_id, through, s.last_seq).await?;
        through = s.last_seq;
    }
    Ok(())
}

/// Every database and container event of the account, newest first.
///
/// # Errors
/// As [`catch_up`].
pub async fn events(
    db: &DatabaseConnection,
    storage: &BackupStorage,
    kek: &KeyWrapKey,
    account_id: &str,
) -> Result<Vec<ResourceEvent>, BackupError> {
    catch_up(db, storage, kek, account_id).await?;
    let rows = backup_event::Entity::find()
        .filter(backup_event::Column::AccountId.eq(account_id))
        .order_by_desc(backup_event::Column::Seq)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|e| ResourceEvent {
            seq: e.seq,
            at: e.committed_at,
            kind: EventKind::of(e.op, e.body.is_some()),
            resource_type: e.resource_type,
            database: e.database_id,
            container: e.container_id,
            body: e.body,
        })
        .collect())
}

/// The databases and containers (with their settings, without items) that existed at `at`.
///
/// # Errors
/// As [`catch_up`].
pub async fn resources_at(
    db: &DatabaseConnection,
    storage: &BackupStorage,
    kek: &KeyWrapKey,
    account_id: &str,
    at: DateTime<Utc>,
) -> Result<AccountAt, BackupError> {
    catch_up(db, storage, kek, account_id).await?;
    let rows = backup_event::Entity::find()
        .filter(backup_event::Column::AccountId.eq(account_id))
        .filter(backup_event::Column::CommittedAt.lte(at))
        .order_by_asc(backup_event::Column::Seq)
        .all(db)
        .await?;
    let mut state = AccountAt::default();
    for e in rows {
        let entry = Entry {
            seq: e.seq,
            committed_at: e.committed_at,
            op: e.op,
            resource_type: e.resource_type,
            database_id: e.database_id,
            container_id: e.container_id,
            pk: None,
            item_id: None,
            body: e.body,
        };
        state.apply(&entry);
    }
    Ok(state)
}
