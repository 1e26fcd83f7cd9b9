//! Retention: the one code that deletes backup objects (the stores' delete is this crate's
//! alone). What an account keeps is decided by its policy and the clock the caller passes in:
//!
//! - **continuous**: everything a restore to any second of the window needs — the snapshot the
//!   window's first second starts from (with the snapshots it is a delta on), every snapshot
//!   after it, and the log after it. Older snapshots and segments go; a chunk goes only once no
//!   kept snapshot lists it (merges carry chunks over from one snapshot to the next);
//! - **periodic**: the restore points within retention and always the newest `keep_newest`, and
//!   the last backup of a container deleted within the last 30 days; a snapshot goes once no
//!   kept point stands on it;
//! - an account **deleted** longer ago than its retention: everything, in every store;
//! - and the wrappings of a data key that a rotation superseded (a revoked key opens nothing).
//!
//! A sweep first writes what it removes to the account's journal (so a recovery from storage
//! never lists what is gone), then deletes the objects from every store, then the catalog rows:
//! a sweep that stops part-way is done again by the next, and until then no restore inside the
//! window reads what it removed.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, TransactionTrait};
use std::collections::{BTreeSet, HashSet};

use crate::entities::{
    backup_event, backup_journal, backup_key, backup_point, backup_segment, backup_snapshot, backup_snapshot_chunk, backup_state,
};
use crate::error::BackupError;
use crate::journal::{self, Record};
use crate::keys::KeyWrapKey;
use crate::storage::BackupStorage;

/// What an account keeps, as of the sweep's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Continuous: restores to any instant from `oldest` on.
    Window { oldest: DateTime<Utc> },
    /// Periodic: the points taken at or after `since`, the newest `newest` whatever their age,
    /// and the last backup of each container deleted at or after `deleted_since`.
    Points { since: DateTime<Utc>, newest: usize, deleted_since: DateTime<Utc> },
    /// Nothing: a deleted account past its retention.
    Nothing,
}

/// How long the last backup of a deleted container is kept, whatever the retention (SPEC §3b):
/// counted from that backup (the container went before the next one).
pub const DELETED_CONTAINERS_KEPT: chrono::Duration = chrono::Duration::days(30);

impl Keep {
    /// Which of a periodic account's points (newest first) stay.
    pub fn kept(&self, points: &[backup_point::Model]) -> Vec<bool> {
        match *self {
            Keep::Points { since, newest, deleted_since } => {
                let last_of_deleted = last_backups_of_deleted(points, deleted_since);
                points.iter().enumerate().map(|(i, p)| i < newest || p.taken_at >= since || last_of_deleted.contains(&p.taken_at)).collect()
            }
            Keep::Window { .. } => vec![true; points.len()],
            Keep::Nothing => vec![false; points.len()],
        }
    }
}

/// The containers (`database/container`) a periodic point holds; `None` for a point from before
/// they were recorded.
pub fn point_containers(p: &backup_point::Model) -> Option<BTreeSet<String>> {
    serde_json::from_str(p.containers.as_deref()?).ok()
}

/// Of a periodic account's points (newest first), the last backup of each container the newest
/// point no longer holds (deleted after that backup, by the next one), as long as it was taken at
/// or after `deleted_since`: kept about [`DELETED_CONTAINERS_KEPT`] after the deletion, whatever
/// the retention, so the container can still be restored by request. Which point that is does not
/// change as other points are swept. Points that recorded no containers tell nothing.
pub fn last_backups_of_deleted(points: &[backup_point::Model], deleted_since: DateTime<Utc>) -> HashSet<DateTime<Utc>> {
    let mut out = HashSet::new();
    let Some(live) = points.first().and_then(point_containers) else { return out };
    let mut seen = BTreeSet::new();
    for p in points.iter().skip(1).take_while(|p| p.taken_at >= deleted_since) {
        for c in point_containers(p).unwrap_or_default() {
            if !live.contains(&c) && seen.insert(c) {
                out.insert(p.taken_at);
            }
        }
    }
    out
}

/// What a sweep removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Swept {
    pub snapshots: usize,
    pub segments: usize,
    pub points: usize,
    /// Object copies deleted (or gone already), over every store.
    pub objects: u64,
    pub bytes: u64,
}

impl Swept {
    pub fn is_empty(&self) -> bool {
        self.snapshots == 0 && self.segments == 0 && self.points == 0 && self.objects == 0
    }
}

/// Removes from `account_id`'s backups everything `keep` does not need.
///
/// # Errors
/// Database, key and storage errors (a sweep that fails part-way is finished by the next).
pub async fn sweep(
    db: &DatabaseConnection,
    storage: &BackupStorage,
    kek: &KeyWrapKey,
    account_id: &str,
    keep: Keep,
) -> Result<Swept, BackupError> {
    if keep == Keep::Nothing {
        return purge(db, storage, account_id).await;
    }
    // A rotation leaves the data key's earlier wrappings behind: once the newest is stored, they
    // go, so a revoked key opens nothing.
    let superseded = storage.delete_all_but_newest(&format!("accounts/{account_id}/keys/")).await?;
    let mut swept = match keep {
        Keep::Nothing => Swept::default(),
        Keep::Window { oldest } => {
            let snapshots = all_snapshots(db, account_id).await?;
            // The snapshot a restore to `oldest` starts from, as replay chooses it: the newest
            // taken at or before it — of those the journal in backup storage holds, so that a
            // recovery never finds the older ones gone and the newer one not listed.
            let Some(base) = snapshots.iter().rev().find(|s| s.taken_at <= oldest && s.journaled) else {
                return Ok(Swept { objects: superseded, ..Swept::default() });
            };
            let mut kept = BTreeSet::new();
            for s in snapshots.iter().filter(|s| s.seq >= base.seq) {
                chain_into(&snapshots, s, &mut kept);
            }
            let gone: Vec<i64> = snapshots.iter().map(|s| s.seq).filter(|seq| !kept.contains(seq)).collect();
            // The log after the base goes on; its last segment always stays, so that the log
            // (and a recovery from storage) still says how far backups reach when the account
            // has been idle since the base.
            let shipped = backup_state::Entity::find_by_id(account_id.to_owned()).one(db).await?.map_or(0, |s| s.shipped_seq);
            let log_through = Ord::min(base.seq, shipped - 1);
            // Periodic backups from before a migration to continuous backup go with their snapshots.
            let points: Vec<DateTime<Utc>> = backup_point::Entity::find()
                .filter(backup_point::Column::AccountId.eq(account_id))
                .filter(backup_point::Column::Seq.is_in(gone.clone()))
                .all(db)
                .await?
                .into_iter()
                .map(|p| p.taken_at)
                .collect();
            remove(db, storage, kek, account_id, &gone, &points, Some((log_through, base.taken_at))).await?
        }
        Keep::Points { .. } => {
            let points = backup_point::Entity::find()
                .filter(backup_point::Column::AccountId.eq(account_id))
                .order_by_desc(backup_point::Column::TakenAt)
                .all(db)
                .await?;
            // Old copies go only once the newer ones are in the journal (a recovery must find the
            // copies that replace them).
            if points.iter().any(|p| !p.journaled) {
                return Ok(Swept { objects: superseded, ..Swept::default() });
            }
            let stays = keep.kept(&points);
            let (kept, gone): (Vec<_>, Vec<_>) = points.into_iter().enumerate().partition(|(i, _)| stays[*i]);
            let standing: HashSet<i64> = kept.iter().map(|(_, p)| p.seq).collect();
            let snapshots = all_snapshots(db, account_id).await?;
            // A snapshot newer than every point is a backup whose point is being recorded.
            let newest_point = kept.iter().map(|(_, p)| p.seq).max().unwrap_or(i64::MIN);
            let mut still = BTreeSet::new();
            for s in snapshots.iter().filter(|s| standing.contains(&s.seq) || s.seq > newest_point) {
                chain_into(&snapshots, s, &mut still);
            }
            let gone_snapshots: Vec<i64> = snapshots.iter().map(|s| s.seq).filter(|seq| !still.contains(seq)).collect();
            let gone_points: Vec<DateTime<Utc>> = gone.into_iter().map(|(_, p)| p.taken_at).collect();
            remove(db, storage, kek, account_id, &gone_snapshots, &gone_points, None).await?
        }
    };
    swept.objects += superseded;
    Ok(swept)
}

async fn all_snapshots(db: &DatabaseConnection, account_id: &str) -> Result<Vec<backup_snapshot::Model>, BackupError> {
    Ok(backup_snapshot::Entity::find()
        .filter(backup_snapshot::Column::AccountId.eq(account_id))
        .order_by_asc(backup_snapshot::Column::Seq)
        .all(db)
        .await?)
}

/// Adds `s` and the snapshots it is a delta on to `kept`.
fn chain_into(all: &[backup_snapshot::Model], s: &backup_snapshot::Model, kept: &mut BTreeSet<i64>) {
    let mut next = Some(s);
    while let Some(row) = next {
        if !kept.insert(row.seq) {
            return;
        }
        next = row.parent_seq.and_then(|p| all.iter().find(|x| x.seq == p));
    }
}

/// Removes the snapshots `gone`, the points `points` and, given where a window now starts (the
/// last change of the log it no longer needs, and the base snapshot's time), the segments up to
/// that change; and the key objects a rotation superseded. Journal first, then the objects,
/// then the catalog rows.
async fn remove(
    db: &DatabaseConnection,
    storage: &BackupStorage,
    kek: &KeyWrapKey,
    account_id: &str,
    gone: &[i64],
    points: &[DateTime<Utc>],
    base: Option<(i64, DateTime<Utc>)>,
) -> Result<Swept, BackupError> {
    let log_through = base.map_or(0, |(seq, _)| seq);
    let segments = backup_segment::Entity::find()
        .filter(backup_segment::Column::AccountId.eq(account_id))
        .filter(backup_segment::Column::LastSeq.lte(log_through))
        .all(db)
        .await?;
    if gone.is_empty() && points.is_empty() && segments.is_empty() {
        return Ok(Swept::default());
    }
    // The objects of the snapshots that go: their chunks that no kept snapshot lists.
    let mut objects: Vec<(String, i64)> = Vec::new();
    for s in backup_snapshot::Entity::find()
        .filter(backup_snapshot::Column::AccountId.eq(account_id))
        .filter(backup_snapshot::Column::Seq.is_in(gone.to_vec()))
        .all(db)
        .await?
    {
        if s.chunks == 0 {
            objects.push((s.object_key.clone(), s.bytes));
        }
    }
    let chunks = backup_snapshot_chunk::Entity::find()
        .filter(backup_snapshot_chunk::Column::AccountId.eq(account_id))
        .filter(backup_snapshot_chunk::Column::Seq.is_in(gone.to_vec()))
        .all(db)
        .await?;
    let mut seen = HashSet::new();
    for part in chunks.chunks(500) {
        let names: Vec<String> = part.iter().map(|c| c.object_key.clone()).collect();
        let listed_by_kept: HashSet<String> = backup_snapshot_chunk::Entity::find()
            .filter(backup_snapshot_chunk::Column::AccountId.eq(account_id))
            .filter(backup_snapshot_chunk::Column::ObjectKey.is_in(names))
            .filter(backup_snapshot_chunk::Column::Seq.is_not_in(gone.to_vec()))
            .all(db)
            .await?
            .into_iter()
            .map(|c| c.object_key)
            .collect();
        for c in part {
            if !listed_by_kept.contains(&c.object_key) && seen.insert(c.object_key.clone()) {
                objects.push((c.object_key.clone(), c.bytes));
            }
        }
    }
    objects.extend(segments.iter().map(|s| (s.object_key.clone(), s.bytes)));

    // 1. The journal says what goes, so a recovery never lists it.
    if backup_journal::Entity::find_by_id(account_id.to_owned()).one(db).await?.is_some() {
        let key = kek.data_key(db, storage, account_id).await?;
        let restorable_from = base.filter(|_| !segments.is_empty() || !gone.is_empty()).map(|(_, at)| at);
        let record = Record::Swept { snapshots: gone.to_vec(), points: points.to_vec(), log_through, restorable_from };
        journal::append(db, storage, &key, account_id, &record).await?;
    }
    // 2. The objects, from every store.
    let mut out = Swept { segments: segments.len(), ..Swept::default() };
    for (name, bytes) in &objects {
        storage.delete_everywhere(name).await?;
        out.objects += 1;
        out.bytes += bytes.unsigned_abs();
    }
    // 3. The catalog rows.
    let txn = db.begin().await?;
    let (snapshots, removed_points) = forget(&txn, account_id, gone, points).await?;
    out.snapshots = snapshots;
    out.points = removed_points;
    if let Some((_, from)) = base {
        backup_state::Entity::update_many()
            .col_expr(backup_state::Column::RestorableFrom, Expr::value(from))
            .filter(backup_state::Column::AccountId.eq(account_id))
            .exec(&txn)
            .await?;
    }
    if !segments.is_empty() {
        backup_segment::Entity::delete_many()
            .filter(backup_segment::Column::AccountId.eq(account_id))
            .filter(backup_segment::Column::LastSeq.lte(log_through))
            .exec(&txn)
            .await?;
        let bytes: i64 = segments.iter().map(|s| s.bytes).sum();
        backup_state::Entity::update_many()
            .col_expr(
                backup_state::Column::Segments,
                Expr::col(backup_state::Column::Segments).sub(i64::try_from(segments.len()).unwrap_or(0)),
            )
            .col_expr(backup_state::Column::Bytes, Expr::col(backup_state::Column::Bytes).sub(bytes))
            .filter(backup_state::Column::AccountId.eq(account_id))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(out)
}

/// Drops the catalog rows of the snapshots `snapshots` (with their chunk lists) and of the
/// points taken at `points`; returns how many of each there were. Used by the sweep and by a
/// recovery replaying one.
///
/// # Errors
/// Database errors.
pub(crate) async fn forget(
    db: &impl ConnectionTrait,
    account_id: &str,
    snapshots: &[i64],
    points: &[DateTime<Utc>],
) -> Result<(usize, usize), BackupError> {
    let mut removed = (0, 0);
    if !snapshots.is_empty() {
        backup_snapshot_chunk::Entity::delete_many()
            .filter(backup_snapshot_chunk::Column::AccountId.eq(account_id))
            .filter(backup_snapshot_chunk::Column::Seq.is_in(snapshots.to_vec()))
            .exec(db)
            .await?;
        removed.0 = usize::try_from(
            backup_snapshot::Entity::delete_many()
                .filter(backup_snapshot::Column::AccountId.eq(account_id))
                .filter(backup_snapshot::Column::Seq.is_in(snapshots.to_vec()))
                .exec(db)
                .await?
                .rows_affected,
        )
        .unwrap_or(0);
    }
    if !points.is_empty() {
        removed.1 = usize::try_from(
            backup_point::Entity::delete_many()
                .filter(backup_point::Column::AccountId.eq(account_id))
                .filter(backup_point::Column::TakenAt.is_in(points.to_vec()))
                .exec(db)
                .await?
                .rows_affected,
        )
        .unwrap_or(0);
    }
    Ok(removed)
}

/// Everything of an account, in every store and in the catalog.
async fn purge(db: &DatabaseConnection, storage: &BackupStorage, account_id: &str) -> Result<Swept, BackupError> {
    if backup_key::Entity::find_by_id(account_id.to_owned()).one(db).await?.is_none() {
        return Ok(Swept::default()); // nothing was ever backed up, or purged already
    }
    let mut out = Swept {
        snapshots: count(db, backup_snapshot::Entity::find().filter(backup_snapshot::Column::AccountId.eq(account_id))).await?,
        segments: count(db, backup_segment::Entity::find().filter(backup_segment::Column::AccountId.eq(account_id))).await?,
        points: count(db, backup_point::Entity::find().filter(backup_point::Column::AccountId.eq(account_id))).await?,
        ..Swept::default()
    };
    out.bytes = backup_state::Entity::find_by_id(account_id.to_owned()).one(db).await?.map_or(0, |s| s.bytes.unsigned_abs());
    out.objects = storage.delete_folder_everywhere(&format!("accounts/{account_id}/")).await?;
    let txn = db.begin().await?;
    backup_snapshot_chunk::Entity::delete_many().filter(backup_snapshot_chunk::Column::AccountId.eq(account_id)).exec(&txn).await?;
    backup_snapshot::Entity::delete_many().filter(backup_snapshot::Column::AccountId.eq(account_id)).exec(&txn).await?;
    backup_segment::Entity::delete_many().filter(backup_segment::Column::AccountId.eq(account_id)).exec(&txn).await?;
    backup_point::Entity::delete_many().filter(backup_point::Column::AccountId.eq(account_id)).exec(&txn).await?;
    backup_event::Entity::delete_many().filter(backup_event::Column::AccountId.eq(account_id)).exec(&txn).await?;
    backup_state::Entity::delete_many().filter(backup_state::Column::AccountId.eq(account_id)).exec(&txn).await?;
    backup_journal::Entity::delete_many().filter(backup_journal::Column::AccountId.eq(account_id)).exec(&txn).await?;
    backup_key::Entity::delete_many().filter(backup_key::Column::AccountId.eq(account_id)).exec(&txn).await?;
    crate::usage::forget(&txn, account_id).await?;
    txn.commit().await?;
    Ok(out)
}

async fn count<E>(db: &DatabaseConnection, q: sea_orm::Select<E>) -> Result<usize, BackupError>
where
    E: EntityTrait<Model: Sync>,
{
    use sea_orm::PaginatorTrait;
    Ok(usize::try_from(q.count(db).await?).unwrap_or(usize::MAX))
}
