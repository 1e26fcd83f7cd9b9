//! Periodic-mode backups (SPEC §3b): a full copy of the account every interval, read from one
//! consistent snapshot of the live database (a read-only repeatable-read transaction on
//! PostgreSQL, a WAL read transaction on SQLite — neither blocks writers) in bounded batches,
//! and stored as chunks like a base snapshot ([`crate::chunk`]). Restoring one is by approved
//! request and runs like any restore.

use chrono::{DateTime, Utc};
use sea_orm::{
    AccessMode, ActiveModelTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, IsolationLevel, Set, TransactionTrait,
};

use crate::chunk::{ChunkBounds, Item, SnapshotWriter};
use crate::entities::{backup_point, backup_snapshot};
use crate::error::BackupError;
use crate::keys::KeyWrapKey;
use crate::replay::{AccountAt, ContainerAt, DatabaseAt};
use crate::storage::BackupStorage;

/// Items read from the live database per batch.
const READ_ROWS: u64 = 1_000;
const READ_BYTES: usize = 8 * 1024 * 1024;

/// An account's databases and containers as their change-log entries describe them, and the
/// containers as (database, container) pairs in order.
///
/// # Errors
/// Database errors.
pub async fn live_resources(c: &impl ConnectionTrait, account_id: &str) -> Result<(AccountAt, Vec<(String, String)>), BackupError> {
    let mut meta = AccountAt::default();
    let mut containers = Vec::new();
    for d in engine::store::list_databases(c, account_id).await? {
        let mut database = DatabaseAt { body: engine::store::database_log_body(&d), ..DatabaseAt::default() };
        let (_, colls) = engine::store::list_containers(c, account_id, &d.id).await?;
        for coll in colls {
            database
                .containers
                .insert(coll.id.clone(), ContainerAt { body: engine::store::container_log_body(&d, &coll), ..ContainerAt::default() });
            containers.push((d.id.clone(), coll.id));
        }
        meta.databases.insert(d.id.clone(), database);
    }
    Ok((meta, containers))
}

/// Takes a full backup of `account_id` now and returns its restore point. An account unchanged
/// since its last full backup gets a new point on the same snapshot (same change number, same
/// chunks): nothing is written but the point, and the account keeps a copy for every interval.
///
/// # Errors
/// Database, key and storage errors.
pub async fn take_full(
    db: &DatabaseConnection,
    storage: &BackupStorage,
    kek: &KeyWrapKey,
    account_id: &str,
    bounds: ChunkBounds,
) -> Result<backup_point::Model, BackupError> {
    // Everything the read needs from the database comes first or through the read itself: the
    // read holds a connection (SQLite may have only the one).
    let key = kek.data_key(db, storage, account_id).await?;
    let taken_at = Utc::now();
    let txn = match db.get_database_backend() {
        DatabaseBackend::Postgres => db.begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly)).await?,
        _ => db.begin().await?,
    };
    let seq = engine::changelog::last_seq(&txn, account_id).await?;
    let (meta, containers) = live_resources(&txn, account_id).await?;
    let held: Vec<String> = containers.iter().map(|(d, c)| format!("{d}/{c}")).collect();
    if let Some(existing) = backup_snapshot::Entity::find_by_id((account_id.to_owned(), seq)).one(&txn).await? {
        txn.commit().await?;
        return point(db, taken_at, &existing, &held).await;
    }
    let mut writer = SnapshotWriter::start(storage, key, account_id, seq, bounds, &meta).await?;
    for (db_id, coll_id) in &containers {
        let mut after = None;
        loop {
            let (dm, cm, batch) = engine::store::list_items(&txn, account_id, db_id, coll_id, after, READ_ROWS, READ_BYTES).await?;
            for i in &batch.items {
                let body = engine::store::item_json(&dm, &cm, i)?.to_string();
                writer.push(db_id, coll_id, &Item { pk: i.pk.clone(), id: i.id.clone(), body }).await?;
            }
            after = batch.items.last().map(|l| engine::scan::Position { pk: l.pk.clone(), id: l.id.clone() });
            if !batch.more {
                break;
            }
        }
    }
    txn.commit().await?;
    let snapshot = writer.finish(db, taken_at).await?;
    point(db, taken_at, &snapshot, &held).await
}

/// Records a restore point at `taken_at` on `snapshot`, holding the containers `held`.
async fn point(
    db: &DatabaseConnection,
    taken_at: DateTime<Utc>,
    snapshot: &backup_snapshot::Model,
    held: &[String],
) -> Result<backup_point::Model, BackupError> {
    Ok(backup_point::ActiveModel {
        account_id: Set(snapshot.account_id.clone()),
        taken_at: Set(taken_at),
        seq: Set(snapshot.seq),
        items: Set(snapshot.items),
        bytes: Set(snapshot.bytes),
        containers: Set(Some(serde_json::to_string(held).unwrap_or_default())),
        journaled: Set(false),
    }
    .insert(db)
    .await?)
}
