//! Shipping an account's change log to backup storage, one bounded batch per segment.
//!
//! A pass first takes a *watermark*: inside a transaction that holds the account's write lock
//! (the same lock every writer takes first, see `engine::changelog`), it reads the last sequence
//! number handed out and the time. Every change numbered up to it has committed; every later
//! one commits with a later time. Once everything up to that number is in backup storage, the
//! state of the account at any instant up to the watermark can be rebuilt exactly — that is the
//! latest restorable time.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set, TransactionTrait};

use crate::entities::{backup_segment, backup_state};
use crate::error::BackupError;
use crate::keys::KeyWrapKey;
use crate::segment::{self, Entry};
use crate::storage::BackupStorage;

/// The `prev_sha256` of an account's first segment.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How large a segment may grow; it ends at whichever bound it reaches first (the byte bound
/// may be passed by the one entry that reaches it). Bounding bytes as well as entries keeps a
/// segment of large items from holding gigabytes in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentBounds {
    pub entries: u64,
    pub bytes: usize,
}

impl SegmentBounds {
    /// What the backup worker uses.
    pub const DEFAULT: Self = Self { entries: 2_000, bytes: 16 * 1024 * 1024 };
}

/// Change-log rows read at a time while filling a segment: at first a few, then as many as the
/// segment's byte bound leaves room for at the rows' size so far, up to this many.
const READ_AHEAD: u64 = 1_000;

/// What one pass did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipped {
    pub segments: usize,
    pub entries: usize,
    /// The account's latest restorable time after the pass.
    pub through: DateTime<Utc>,
    /// Every change up to this number is in backup storage (the live log may drop it).
    pub shipped_seq: i64,
}

/// Ships whatever of `account_id`'s change log is not yet in backup storage, in segments within
/// `bounds`, then moves its latest restorable time up to this pass's watermark.
///
/// Safe to run on several replicas at once: objects are create-only, and the manifest row and
/// the shipped position move together only from the position this pass started at.
///
/// # Errors
/// Database or storage errors; [`BackupError::Integrity`] if the change log has a gap.
pub async fn ship_account(
    db: &DatabaseConnection,
    storage: &BackupStorage,
    kek: &KeyWrapKey,
    account_id: &str,
    bounds: SegmentBounds,
) -> Result<Shipped, BackupError> {
    let (last_seq, watermark) = watermark(db, account_id).await?;
    backup_state::Entity::insert(backup_state::ActiveModel {
        account_id: Set(account_id.to_owned()),
        shipped_seq: Set(0),
        backed_up_through: Set(DateTime::<Utc>::UNIX_EPOCH),
        segments: Set(0),
        bytes: Set(0),
        last_hash: Set(GENESIS.to_owned()),
        cataloged_seq: Set(0),
        restorable_from: Set(None),
    })
    .on_conflict_do_nothing()
    .exec(db)
    .await?;
    let state = backup_state::Entity::find_by_id(account_id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| BackupError::Integrity(format!("backup state of account {account_id} vanished")))?;

    let (mut shipped, mut prev) = (state.shipped_seq, state.last_hash.clone());
    let (mut segments, mut entries) = (0, 0);
    if shipped < last_seq {
        let key = kek.data_key(db, storage, account_id).await?;
        while shipped < last_seq {
            let (batch, entry_bytes) = next_segment(db, account_id, shipped, last_seq, bounds).await?;
            let (Some(first), Some(last)) = (batch.first(), batch.last()) else {
                return Err(BackupError::Integrity(format!(
                    "change log of account {account_id} has nothing after {shipped} though {last_seq} was handed out"
                )));
            };
            if first.seq != shipped + 1 {
                return Err(BackupError::Integrity(format!("change log of account {account_id} skips from {shipped} to {}", first.seq)));
            }
            let (first_seq, last_seq_here, first_at, last_at) = (first.seq, last.seq, first.committed_at, last.committed_at);
            let name = segment::object_key(account_id, first_seq, last_seq_here);
            let sealed = segment::seal(&key, account_id, &batch)?;
            // One written by a pass that did not get to record it (or by a replica) is used
            // only if it really holds this range.
            let (check_key, check_account) = (key.clone(), account_id.to_owned());
            let stored = storage
                .put_sealed(&name, sealed, move |existing| {
                    segment::open(&check_key, &check_account, first_seq, last_seq_here, existing).map(drop)
                })
                .await?;
            let (sha, size) = (stored.sha256, i64::try_from(stored.len).unwrap_or(i64::MAX));

            let txn = db.begin().await?;
            let moved = backup_state::Entity::update_many()
                .col_expr(backup_state::Column::ShippedSeq, Expr::value(last_seq_here))
                .col_expr(backup_state::Column::Segments, Expr::col(backup_state::Column::Segments).add(1))
                .col_expr(backup_state::Column::Bytes, Expr::col(backup_state::Column::Bytes).add(size))
                .col_expr(backup_state::Column::LastHash, Expr::value(sha.clone()))
                .filter(backup_state::Column::AccountId.eq(account_id))
                .filter(backup_state::Column::ShippedSeq.eq(shipped))
                .exec(&txn)
                .await?;
            if moved.rows_affected == 0 {
                // Another replica shipped this range first; it carries on from here.
                txn.rollback().await?;
                break;
            }
            backup_segment::Entity::insert(backup_segment::ActiveModel {
                account_id: Set(account_id.to_owned()),
                first_seq: Set(first_seq),
                last_seq: Set(last_seq_here),
                first_at: Set(first_at),
                last_at: Set(last_at),
                object_key: Set(name),
                bytes: Set(size),
                sha256: Set(sha.clone()),
                prev_sha256: Set(prev.clone()),
                created_at: Set(Utc::now()),
                entry_bytes: Set(i64::try_from(entry_bytes).unwrap_or(i64::MAX)),
            })
            .exec(&txn)
            .await?;
            // The segment's database and container events enter the catalog with it.
            crate::catalog::record(&txn, account_id, &batch).await?;
            crate::catalog::advance(&txn, account_id, shipped, last_seq_here).await?;
            txn.commit().await?;
            segments += 1;
            entries += batch.len();
            shipped = last_seq_here;
            prev = sha;
        }
    }

    backup_state::Entity::update_many()
        .col_expr(backup_state::Column::BackedUpThrough, Expr::value(watermark))
        .filter(backup_state::Column::AccountId.eq(account_id))
        .filter(backup_state::Column::ShippedSeq.gte(last_seq))
        .filter(backup_state::Column::BackedUpThrough.lt(watermark))
        .exec(db)
        .await?;
    let (through, shipped_seq) = backup_state::Entity::find_by_id(account_id.to_owned())
        .one(db)
        .await?
        .map_or((state.backed_up_through, shipped), |s| (s.backed_up_through, s.shipped_seq));
    Ok(Shipped { segments, entries, through, shipped_seq })
}

/// The entries of the next segment — from `after` (exclusive) up to `last_seq`, within
/// `bounds` — and their size.
async fn next_segment(
    db: &DatabaseConnection,
    account_id: &str,
    after: i64,
    last_seq: i64,
    bounds: SegmentBounds,
) -> Result<(Vec<Entry>, usize), BackupError> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut bytes = 0usize;
    let mut next = after;
    while (entries.len() as u64) < bounds.entries && bytes < bounds.bytes && next < last_seq {
        let room = if entries.is_empty() { 16 } else { ((bounds.bytes - bytes) / (bytes / entries.len()).max(1)) as u64 };
        let want = Ord::min(room.clamp(1, READ_AHEAD), bounds.entries - entries.len() as u64);
        let rows = engine::changelog::read(db, account_id, next, want).await?;
        if rows.is_empty() {
            break;
        }
        for r in rows {
            if r.seq > last_seq || bytes >= bounds.bytes {
                return Ok((entries, bytes));
            }
            bytes +=
                r.body.as_ref().map_or(0, String::len) + r.item_id.as_ref().map_or(0, String::len) + r.pk.as_ref().map_or(0, String::len);
            next = r.seq;
            entries.push(Entry::from(r));
        }
    }
    Ok((entries, bytes))
}

/// The last sequence number handed out and an instant before any later change's commit time.
async fn watermark(db: &DatabaseConnection, account_id: &str) -> Result<(i64, DateTime<Utc>), BackupError> {
    let txn = db.begin().await?;
    let last_seq = engine::changelog::reserve(&txn, account_id, 0).await? - 1;
    // Commit times are kept to the millisecond; a writer right after us may share ours.
    let now = Utc::now().trunc_subsecs(3) - Duration::milliseconds(1);
    txn.commit().await?;
    Ok((last_seq, now))
}
