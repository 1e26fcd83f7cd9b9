//! Base snapshots: every so many shipped changes, the account is rebuilt *from backup storage*
//! (the previous snapshot plus the log after it) as of the last shipped change and sealed as one
//! object, so that a restore replays a bounded tail of log. Built from the backup itself, a
//! snapshot costs the live database nothing and is consistent by construction.

use chrono::Utc;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set};
use sha2::{Digest, Sha256};

use crate::entities::{backup_segment, backup_snapshot, backup_state};
use crate::error::BackupError;
use crate::keys::KeyWrapKey;
use crate::replay::{Bound, Items, rebuild};
use crate::segment;
use crate::storage::{BackupStorage, Put};

/// Takes a base snapshot of `account_id` if at least `every` changes have been shipped since the
/// last one; returns the change it was taken at.
///
/// # Errors
/// Integrity, key, storage and database errors.
pub async fn take_if_due(
    db: &DatabaseConnection,
    storage: &BackupStorage,
    kek: &KeyWrapKey,
    account_id: &str,
    every: i64,
) -> Result<Option<i64>, BackupError> {
    let Some(state) = backup_state::Entity::find_by_id(account_id.to_owned()).one(db).await? else { return Ok(None) };
    let last = backup_snapshot::Entity::find()
        .filter(backup_snapshot::Column::AccountId.eq(account_id))
        .order_by_desc(backup_snapshot::Column::Seq)
        .one(db)
        .await?
        .map_or(0, |s| s.seq);
    let seq = state.shipped_seq;
    if seq - last < every.max(1) {
        return Ok(None);
    }
    // Shipping ends segments at the shipped position, so change `seq` closes a segment.
    let closing = backup_segment::Entity::find()
        .filter(backup_segment::Column::AccountId.eq(account_id))
        .filter(backup_segment::Column::LastSeq.eq(seq))
        .one(db)
        .await?
        .ok_or_else(|| BackupError::Integrity(format!("no segment of account {account_id} ends at change {seq}")))?;
    let (account, _) = rebuild(db, storage, kek, account_id, Bound::Seq(seq), Items::All).await?;
    let key = kek.data_key(db, account_id).await?;
    let name = segment::snapshot_key(account_id, seq);
    let sealed = segment::seal_snapshot(&key, account_id, seq, &account.to_entries(seq, closing.last_at))?;
    let stored = match storage.put_new(&name, sealed.clone()).await? {
        Put::Written => sealed,
        Put::AlreadyThere => {
            let existing = storage.get(&name).await?;
            segment::open_snapshot(&key, account_id, seq, &existing)?;
            existing
        }
    };
    backup_snapshot::Entity::insert(backup_snapshot::ActiveModel {
        account_id: Set(account_id.to_owned()),
        seq: Set(seq),
        taken_at: Set(closing.last_at),
        object_key: Set(name),
        bytes: Set(i64::try_from(stored.len()).unwrap_or(i64::MAX)),
        sha256: Set(hex::encode(Sha256::digest(&stored))),
        items: Set(i64::try_from(account.item_count()).unwrap_or(i64::MAX)),
        created_at: Set(Utc::now()),
    })
    .on_conflict_do_nothing()
    .exec(db)
    .await?;
    Ok(Some(seq))
}
