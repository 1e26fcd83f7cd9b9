//! The backup catalog inside backup storage, so that losing the service database loses no
//! backup: everything the database knows about an account's backups is also kept beside them,
//! under `accounts/<id>/`, and [`crate::recover`] rebuilds the catalog from there.
//!
//! - `keys/<n>.json` — the account's data key, wrapped by the key-encryption key (never plain).
//!   Written before the key is first used ([`crate::keys::KeyWrapKey::data_key`]), so nothing
//!   is ever sealed under a key that backup storage does not hold.
//! - `journal/<n>.rec` — records sealed under the data key like segments (their number is their
//!   authenticated identity), each naming the SHA-256 of the record before it: the account as
//!   the control plane describes it, each snapshot with its chunk list, each periodic restore
//!   point, what the retention sweeper removed, and a migration to continuous backup. Every record also carries the log's head when it was written (the last change
//!   shipped and its segment's hash), so a recovery notices segments missing from the end of the
//!   log up to the newest record.
//! - the log describes itself: a segment's name gives its range, its sealed entries their times
//!   and the database and container events.
//!
//! Records are appended after the database rows they describe (the exporter in
//! `control::backup_catalog` runs every few seconds), except the key, which comes first.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};

use crate::entities::{backup_journal, backup_key, backup_point, backup_snapshot, backup_snapshot_chunk, backup_state};
use crate::error::BackupError;
use crate::keys::DataKey;
use crate::segment;
use crate::ship::GENESIS;
use crate::storage::{BackupStorage, Put};

/// One fact of the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    /// The account as the control plane describes it (its JSON, opaque here); the newest one
    /// stands.
    Account { account: serde_json::Value },
    /// A snapshot (base snapshot or periodic full backup) and its chunk list.
    Snapshot { snapshot: backup_snapshot::Model, chunks: Vec<backup_snapshot_chunk::Model> },
    /// A periodic restore point.
    Point { point: backup_point::Model },
    /// What the retention sweeper removed ([`crate::retention`]): snapshots (by change),
    /// restore points (by time), and the log's segments up to and including change
    /// `log_through`.
    /// `restorable_from` is where the backups begin after it, if it swept the log's start.
    Swept { snapshots: Vec<i64>, points: Vec<DateTime<Utc>>, log_through: i64, restorable_from: Option<DateTime<Utc>> },
    /// A periodic account migrated to continuous backup ([`crate::migrate`]): its log is shipped
    /// from after change `log_after`, continuous restore points begin `at`, and `events` are the
    /// catalog's first resource events (the log before `log_after` is not in storage).
    Migrated { log_after: i64, at: DateTime<Utc>, events: Vec<segment::Entry> },
}

/// How far the log had been shipped when a record was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogHead {
    pub shipped_seq: i64,
    /// SHA-256 (hex) of the segment that ends at `shipped_seq` ([`GENESIS`] before any).
    pub last_sha256: String,
}

/// A record as stored: its place in the chain and the log's head with it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub n: i64,
    pub prev_sha256: String,
    pub written_at: DateTime<Utc>,
    pub log_head: LogHead,
    pub record: Record,
}

/// Where key number `n` of an account lives (1 when it is made; each rotation writes the next).
pub fn key_object(account_id: &str, n: i64) -> String {
    format!("accounts/{account_id}/keys/{n:020}.json")
}

/// Where record `n` of an account's journal lives.
pub fn record_object(account_id: &str, n: i64) -> String {
    format!("accounts/{account_id}/journal/{n:020}.rec")
}

fn aad(account_id: &str, n: i64) -> Vec<u8> {
    format!("rewind/backup/v1/{account_id}/journal/{n}").into_bytes()
}

/// Keeps the wrapped data key `row` in backup storage unless one is there already, and returns
/// the one that stands: a replica that made another key at the same moment uses the stored one.
///
/// # Errors
/// Storage errors; [`BackupError::Integrity`] if the stored key object is unreadable.
pub async fn store_key(storage: &BackupStorage, row: backup_key::Model) -> Result<backup_key::Model, BackupError> {
    let name = key_object(&row.account_id, 1);
    let json = serde_json::to_vec(&row).map_err(|e| BackupError::Invalid(format!("key record does not serialise: {e}")))?;
    match storage.put_new(&name, json).await? {
        Put::Written => Ok(row),
        Put::AlreadyThere => read_key(storage, &name).await,
    }
}

async fn read_key(storage: &BackupStorage, name: &str) -> Result<backup_key::Model, BackupError> {
    serde_json::from_slice(&storage.get(name).await?).map_err(|e| BackupError::Integrity(format!("{name}: not a key record: {e}")))
}

/// Keeps a rewrapped data key (a rotation) as the account's next key object; the newest one
/// stands.
///
/// # Errors
/// Storage errors.
pub async fn store_next_key(storage: &BackupStorage, row: &backup_key::Model) -> Result<(), BackupError> {
    let json = serde_json::to_vec(row).map_err(|e| BackupError::Invalid(format!("key record does not serialise: {e}")))?;
    let mut n = i64::try_from(storage.list(&format!("accounts/{}/keys/", row.account_id)).await?.len()).unwrap_or(i64::MAX);
    loop {
        n += 1;
        if storage.put_new(&key_object(&row.account_id, n), json.clone()).await? == Put::Written {
            return Ok(());
        }
    }
}

/// The account's newest wrapped data key in backup storage.
///
/// # Errors
/// [`BackupError::Integrity`] if there is none or it is unreadable; storage errors.
pub async fn stored_key(storage: &BackupStorage, account_id: &str) -> Result<backup_key::Model, BackupError> {
    let names = storage.list(&format!("accounts/{account_id}/keys/")).await?;
    let newest = names
        .last()
        .ok_or_else(|| BackupError::Integrity(format!("backup storage {} holds no key for account {account_id}", storage.label())))?;
    let row = read_key(storage, newest).await?;
    if row.account_id != account_id {
        return Err(BackupError::Integrity(format!("{newest}: holds the key of account {}", row.account_id)));
    }
    Ok(row)
}

/// Starts the account's journal: makes sure backup storage holds its key (written there when
/// it was made, except for keys older than the journal), then the head row. Nothing if started.
///
/// # Errors
/// Storage and database errors; [`BackupError::Integrity`] if backup storage holds another key.
pub async fn start(db: &impl ConnectionTrait, storage: &BackupStorage, account_id: &str) -> Result<backup_journal::Model, BackupError> {
    if let Some(head) = backup_journal::Entity::find_by_id(account_id.to_owned()).one(db).await? {
        return Ok(head);
    }
    let key = backup_key::Entity::find_by_id(account_id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| BackupError::Invalid(format!("account {account_id} has no backup key yet")))?;
    let stored = store_key(storage, key.clone()).await?;
    // A rotation writes the next key object: the newest must be the catalog's.
    if stored.wrapped_key != key.wrapped_key && stored_key(storage, account_id).await?.wrapped_key != key.wrapped_key {
        return Err(BackupError::Integrity(format!(
            "{} holds another data key than the service database for account {account_id}",
            key_object(account_id, 1)
        )));
    }
    let head = backup_journal::Model {
        account_id: account_id.to_owned(),
        last_n: 0,
        last_sha256: GENESIS.to_owned(),
        account_sha256: String::new(),
    };
    backup_journal::Entity::insert(backup_journal::ActiveModel::from(head.clone())).on_conflict_do_nothing().exec(db).await?;
    Ok(head)
}

/// Appends `record` to the account's journal (started with [`start`]) and returns the new head.
/// Two writers appending at once both succeed, one after the other: record numbers are
/// create-only objects, and one that finds its number taken moves past it.
///
/// # Errors
/// Storage and database errors; [`BackupError::Integrity`] if a record in the way is not one.
pub async fn append(
    db: &impl ConnectionTrait,
    storage: &BackupStorage,
    key: &DataKey,
    account_id: &str,
    record: &Record,
) -> Result<backup_journal::Model, BackupError> {
    let mut head = backup_journal::Entity::find_by_id(account_id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| BackupError::Invalid(format!("the journal of account {account_id} is not started")))?;
    let log_head = match backup_state::Entity::find_by_id(account_id.to_owned()).one(db).await? {
        Some(s) => LogHead { shipped_seq: s.shipped_seq, last_sha256: s.last_hash },
        None => LogHead { shipped_seq: 0, last_sha256: GENESIS.to_owned() },
    };
    loop {
        let n = head.last_n + 1;
        let entry =
            Entry { n, prev_sha256: head.last_sha256.clone(), written_at: Utc::now(), log_head: log_head.clone(), record: record.clone() };
        let plain = serde_json::to_vec(&entry).map_err(|e| BackupError::Invalid(format!("journal record does not serialise: {e}")))?;
        let sealed = segment::seal_plain(key, &aad(account_id, n), &plain)?;
        let name = record_object(account_id, n);
        let (check_key, check_account) = (key.clone(), account_id.to_owned());
        let stored = storage.put_sealed(&name, sealed, move |existing| open(&check_key, &check_account, n, existing).map(drop)).await?;
        advance(db, &head, n, &stored.sha256).await?;
        head = backup_journal::Model { last_n: n, last_sha256: stored.sha256, ..head };
        if !stored.found {
            return Ok(head);
        }
        // Another writer took this number: step past its record.
    }
}

/// Moves the head row from `head` to record `n` (if no one moved it first).
async fn advance(db: &impl ConnectionTrait, head: &backup_journal::Model, n: i64, sha: &str) -> Result<(), BackupError> {
    backup_journal::Entity::update_many()
        .col_expr(backup_journal::Column::LastN, Expr::value(n))
        .col_expr(backup_journal::Column::LastSha256, Expr::value(sha.to_owned()))
        .filter(backup_journal::Column::AccountId.eq(&head.account_id))
        .filter(backup_journal::Column::LastN.lt(n))
        .exec(db)
        .await?;
    Ok(())
}

/// Notes that the journal holds the account record whose hash is `sha`.
///
/// # Errors
/// Database errors.
pub async fn account_written(db: &impl ConnectionTrait, account_id: &str, sha: &str) -> Result<(), BackupError> {
    backup_journal::Entity::update_many()
        .col_expr(backup_journal::Column::AccountSha256, Expr::value(sha.to_owned()))
        .filter(backup_journal::Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Opens record `n` of an account.
///
/// # Errors
/// [`BackupError::Integrity`] when it was altered, moved, or is not record `n`.
pub fn open(key: &DataKey, account_id: &str, n: i64, bytes: Vec<u8>) -> Result<Entry, BackupError> {
    let name = record_object(account_id, n);
    let plain = segment::open_plain(key, &aad(account_id, n), &name, bytes)?;
    let entry: Entry = serde_json::from_slice(&plain).map_err(|e| BackupError::Integrity(format!("{name}: unreadable record: {e}")))?;
    if entry.n != n {
        return Err(BackupError::Integrity(format!("{name}: holds record {}", entry.n)));
    }
    Ok(entry)
}

/// The snapshots and restore points of an account that its journal does not hold yet, and
/// appends them (oldest first), marking each once it is written.
///
/// # Errors
/// Storage and database errors.
pub async fn append_pending(
    db: &impl ConnectionTrait,
    storage: &BackupStorage,
    key: &DataKey,
    account_id: &str,
) -> Result<usize, BackupError> {
    use sea_orm::QueryOrder;
    let mut written = 0;
    let snapshots = backup_snapshot::Entity::find()
        .filter(backup_snapshot::Column::AccountId.eq(account_id))
        .filter(backup_snapshot::Column::Journaled.eq(false))
        .order_by_asc(backup_snapshot::Column::Seq)
        .all(db)
        .await?;
    for snapshot in snapshots {
        let chunks = backup_snapshot_chunk::Entity::find()
            .filter(backup_snapshot_chunk::Column::AccountId.eq(account_id))
            .filter(backup_snapshot_chunk::Column::Seq.eq(snapshot.seq))
            .order_by_asc(backup_snapshot_chunk::Column::Idx)
            .all(db)
            .await?;
        let seq = snapshot.seq;
        append(db, storage, key, account_id, &Record::Snapshot { snapshot, chunks }).await?;
        backup_snapshot::Entity::update_many()
            .col_expr(backup_snapshot::Column::Journaled, Expr::value(true))
            .filter(backup_snapshot::Column::AccountId.eq(account_id))
            .filter(backup_snapshot::Column::Seq.eq(seq))
            .exec(db)
            .await?;
        written += 1;
    }
    let points = backup_point::Entity::find()
        .filter(backup_point::Column::AccountId.eq(account_id))
        .filter(backup_point::Column::Journaled.eq(false))
        .order_by_asc(backup_point::Column::TakenAt)
        .all(db)
        .await?;
    for point in points {
        let taken_at = point.taken_at;
        append(db, storage, key, account_id, &Record::Point { point }).await?;
        backup_point::Entity::update_many()
            .col_expr(backup_point::Column::Journaled, Expr::value(true))
            .filter(backup_point::Column::AccountId.eq(account_id))
            .filter(backup_point::Column::TakenAt.eq(taken_at))
            .exec(db)
            .await?;
        written += 1;
    }
    Ok(written)
}

/// Rows of a recovered snapshot or point: as journaled, and marked so.
pub(crate) fn journaled_snapshot(snapshot: backup_snapshot::Model) -> backup_snapshot::ActiveModel {
    let mut row = backup_snapshot::ActiveModel::from(snapshot);
    row.journaled = Set(true);
    row
}

pub(crate) fn journaled_point(point: backup_point::Model) -> backup_point::ActiveModel {
    let mut row = backup_point::ActiveModel::from(point);
    row.journaled = Set(true);
    row
}
