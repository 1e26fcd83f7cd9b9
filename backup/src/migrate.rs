//! Migrating a periodic account to continuous backup (SPEC §3b), one-way. The account's newest
//! full backup becomes its first base snapshot, and its live change log — which periodic backups
//! prune only up to their own snapshot — is shipped from there on: continuous restore points exist
//! from the moment the migration completes. Its periodic backups stay in the catalog, restorable
//! by request until they expire (the control plane keeps them).

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entities::{backup_snapshot, backup_state};
use crate::error::BackupError;
use crate::ship::GENESIS;

/// Starts continuous backup of `account_id` as of `at`, in the caller's transaction `txn` (which
/// also changes the account's policy, and must hold off periodic backups — their lease — so none
/// prunes the log meanwhile). Records where shipping starts: after the newest snapshot, or from
/// the first change when there is none; and, when the log before that snapshot is gone, the
/// databases and containers that exist now as the catalog's first resource events (numbered up to
/// the snapshot's change, dated when it was taken), so "what existed at this second" answers for
/// every second from `at` on. Nothing before `at` is restorable to a second. Returns the change
/// number shipping starts after.
///
/// # Errors
/// [`BackupError::Invalid`] if the account has continuous backup state already;
/// [`BackupError::Integrity`] if the live log does not continue from the snapshot; database
/// errors.
pub async fn start_continuous(txn: &DatabaseTransaction, account_id: &str, at: DateTime<Utc>) -> Result<i64, BackupError> {
    if backup_state::Entity::find_by_id(account_id.to_owned()).one(txn).await?.is_some() {
        return Err(BackupError::Invalid(format!("account {account_id} has continuous backup already")));
    }
    let base = backup_snapshot::Entity::find()
        .filter(backup_snapshot::Column::AccountId.eq(account_id))
        .order_by_desc(backup_snapshot::Column::Seq)
        .one(txn)
        .await?;
    let from = base.as_ref().map_or(0, |b| b.seq);
    let next = engine::changelog::read(txn, account_id, from, 1).await?;
    if let Some(first) = next.first()
        && first.seq != from + 1
    {
        return Err(BackupError::Integrity(format!(
            "the change log of account {account_id} continues at {} after its last backup of change {from}; a full backup must run first",
            first.seq
        )));
    }
    if let Some(b) = &base {
        let (meta, _) = crate::periodic::live_resources(txn, account_id).await?;
        let mut entries = meta.to_entries(b.seq, b.taken_at);
        let n = i64::try_from(entries.len()).unwrap_or(i64::MAX);
        // Each event its own number, in order, none past the snapshot: the shipped log's
        // own events come after them.
        for (i, e) in (0..).zip(entries.iter_mut()) {
            e.seq = b.seq - n + 1 + i;
        }
        crate::catalog::record(txn, account_id, &entries).await?;
    }
    backup_state::Entity::insert(backup_state::ActiveModel {
        account_id: Set(account_id.to_owned()),
        shipped_seq: Set(from),
        backed_up_through: Set(DateTime::<Utc>::UNIX_EPOCH),
        segments: Set(0),
        bytes: Set(0),
        last_hash: Set(GENESIS.to_owned()),
        cataloged_seq: Set(from),
        restorable_from: Set(Some(at)),
    })
    .exec(txn)
    .await?;
    Ok(from)
}
