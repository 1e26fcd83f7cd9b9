//! Periodic-mode backups (SPEC §3b): a full copy of the account every interval, read from one
//! consistent snapshot of the live database (a read-only repeatable-read transaction on
//! PostgreSQL, a WAL read transaction on SQLite — neither blocks writers), sealed as a base
//! snapshot. Restoring one is by approved request and runs like any restore.

use chrono::Utc;
use sea_orm::{AccessMode, DatabaseBackend, DatabaseConnection, EntityTrait, IsolationLevel, Set, TransactionTrait};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::entities::backup_snapshot;
use crate::error::BackupError;
use crate::keys::KeyWrapKey;
use crate::replay::{AccountAt, ContainerAt, DatabaseAt};
use crate::segment;
use crate::storage::{BackupStorage, Put};

/// Takes a full backup of `account_id` now and returns its manifest row. An account unchanged
/// since its last full backup keeps that one (same change number, same object).
///
/// # Errors
/// Database, key and storage errors.
pub async fn take_full(
    db: &DatabaseConnection,
    storage: &BackupStorage,
    kek: &KeyWrapKey,
    account_id: &str,
) -> Result<backup_snapshot::Model, BackupError> {
    let txn = match db.get_database_backend() {
        DatabaseBackend::Postgres => db.begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly)).await?,
        _ => db.begin().await?,
    };
    let seq = engine::entities::sequence::Entity::find_by_id(account_id.to_owned()).one(&txn).await?.map_or(0, |s| s.last_seq);
    let mut account = AccountAt::default();
    for d in engine::store::list_databases(&txn, account_id).await? {
        let mut database = DatabaseAt { body: engine::store::database_log_body(&d), ..DatabaseAt::default() };
        let (_, colls) = engine::store::list_containers(&txn, account_id, &d.id).await?;
        for c in colls {
            let (dm, cm, items) = engine::store::list_items(&txn, account_id, &d.id, &c.id, None, u64::MAX >> 1, usize::MAX).await?;
            let items = items.items;
            let container = ContainerAt {
                body: engine::store::container_log_body(&dm, &cm),
                items: items
                    .iter()
                    .map(|i| Ok(((i.pk.clone(), i.id.clone()), Value::to_string(&engine::store::item_json(&dm, &cm, i)?))))
                    .collect::<Result<_, engine::EngineError>>()?,
            };
            database.containers.insert(c.id.clone(), container);
        }
        account.databases.insert(d.id.clone(), database);
    }
    txn.commit().await?;

    if let Some(existing) = backup_snapshot::Entity::find_by_id((account_id.to_owned(), seq)).one(db).await? {
        return Ok(existing);
    }
    let taken_at = Utc::now();
    let key = kek.data_key(db, account_id).await?;
    let name = segment::snapshot_key(account_id, seq);
    let sealed = segment::seal_snapshot(&key, account_id, seq, &account.to_entries(seq, taken_at))?;
    let stored = match storage.put_new(&name, sealed.clone()).await? {
        Put::Written => sealed,
        Put::AlreadyThere => {
            let existing = storage.get(&name).await?;
            segment::open_snapshot(&key, account_id, seq, &existing)?;
            existing
        }
    };
    let row = backup_snapshot::Model {
        account_id: account_id.to_owned(),
        seq,
        taken_at,
        object_key: name,
        bytes: i64::try_from(stored.len()).unwrap_or(i64::MAX),
        sha256: hex::encode(Sha256::digest(&stored)),
        items: i64::try_from(account.item_count()).unwrap_or(i64::MAX),
        created_at: taken_at,
    };
    backup_snapshot::Entity::insert(backup_snapshot::ActiveModel {
        account_id: Set(row.account_id.clone()),
        seq: Set(row.seq),
        taken_at: Set(row.taken_at),
        object_key: Set(row.object_key.clone()),
        bytes: Set(row.bytes),
        sha256: Set(row.sha256.clone()),
        items: Set(row.items),
        created_at: Set(row.created_at),
    })
    .on_conflict_do_nothing()
    .exec(db)
    .await?;
    Ok(backup_snapshot::Entity::find_by_id((account_id.to_owned(), seq)).one(db).await?.unwrap_or(row))
}
