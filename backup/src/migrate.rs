//! Migrating a periodic account to continuous backup (SPEC §3b), one-way. The account's newest
//! full backup becomes its first base snapshot, and its live change log — which periodic backups
//! prune only up to their own snapshot — is shipped from there on: continuous restore points exist
//! from the moment the migration completes. Its periodic backups stay in the catalog, restorable
//! by request until they expire (the control plane keeps them). The account's journal records
//! the start ([`Record::Migrated`]), written before the migration commits, so a recovery from
//! storage finds where the log begins and the first resource events.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entities::{backup_snapshot, backup_state};
use crate::error::BackupError;
use crate::journal::Record;
use crate::segment::Entry;
use crate::ship::GENESIS;

/// Where an account's continuous backup starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Start {
    /// The change its newest full backup holds (0 without one): shipping starts after it.
    pub log_after: i64,
    /// The databases and containers as the catalog's first resource events — numbered up to
    /// `log_after`, dated when that backup was taken — when the log before it is gone.
    pub events: Vec<Entry>,
}

impl Start {
    /// The journal record that lets a recovery from storage find the same start.
    pub fn record(&self, at: DateTime<Utc>) -> Record {
        Record::Migrated { log_after: self.log_after, at, events: self.events.clone() }
    }
}

/// Where `account_id`'s continuous backup would start now. Read under the account's
/// periodic-backup lease (no full backup may prune its log meanwhile).
///
/// The events describe the databases and containers as they are now, not as of the backup: the
/// log after the backup, shipped from here on, carries every change since, and replaying those on
/// top of any state at or after the backup ends at the same resources for every second from the
/// migration on.
///
/// # Errors
/// [`BackupError::Integrity`] if the live log does not continue from the backup; database errors.
pub async fn start_of(db: &impl ConnectionTrait, account_id: &str) -> Result<Start, BackupError> {
    let base = backup_snapshot::Entity::find()
        .filter(backup_snapshot::Column::AccountId.eq(account_id))
        .order_by_desc(backup_snapshot::Column::Seq)
        .one(db)
        .await?;
    let log_after = base.as_ref().map_or(0, |b| b.seq);
    let next = engine::changelog::read(db, account_id, log_after, 1).await?;
    if let Some(first) = next.first()
        && first.seq != log_after + 1
    {
        return Err(BackupError::Integrity(format!(
            "the change log of account {account_id} continues at {} after its last backup of change {log_after}; a full backup must run first",
            first.seq
        )));
    }
    let mut events = Vec::new();
    if let Some(b) = &base {
        let (meta, _) = crate::periodic::live_resources(db, account_id).await?;
        events = meta.to_entries(b.seq, b.taken_at);
        let n = i64::try_from(events.len()).unwrap_or(i64::MAX);
        // Each event its own number, in order, none past the backup: the shipped log's own
        // events come after them.
        for (i, e) in (0..).zip(events.iter_mut()) {
            e.seq = b.seq - n + 1 + i;
        }
    }
    Ok(Start { log_after, events })
}

/// Starts continuous backup of `account_id` from `start` as of `at`, in the caller's transaction
/// `txn` (which also changes the account's policy): the resource events, and the shipping state —
/// nothing shipped after `start.log_after` yet, nothing restorable to a second before `at`.
///
/// # Errors
/// [`BackupError::Invalid`] if the account has continuous backup state already; database errors.
pub async fn start_continuous(txn: &DatabaseTransaction, account_id: &str, start: &Start, at: DateTime<Utc>) -> Result<(), BackupError> {
    if backup_state::Entity::find_by_id(account_id.to_owned()).one(txn).await?.is_some() {
        return Err(BackupError::Invalid(format!("account {account_id} has continuous backup already")));
    }
    crate::catalog::record(txn, account_id, &start.events).await?;
    backup_state::Entity::insert(backup_state::ActiveModel {
        account_id: Set(account_id.to_owned()),
        shipped_seq: Set(start.log_after),
        backed_up_through: Set(DateTime::<Utc>::UNIX_EPOCH),
        segments: Set(0),
        bytes: Set(0),
        last_hash: Set(GENESIS.to_owned()),
        cataloged_seq: Set(start.log_after),
        restorable_from: Set(Some(at)),
    })
    .exec(txn)
    .await?;
    Ok(())
}
