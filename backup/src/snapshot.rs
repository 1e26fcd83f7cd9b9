//! Base snapshots: once enough log has been shipped since the last snapshot, a new one is built
//! *from backup storage* and stored as chunks ([`crate::chunk`]), so that a restore reads a
//! short tail of log. Built from the backup itself, a snapshot costs the live database nothing
//! and is consistent by construction.
//!
//! Most snapshots are *deltas*: the log since the last snapshot, sorted, with each item's last
//! change — a cost that follows the log, not the account. Once the deltas on the last full
//! snapshot add up to a share of it (or stack too deep), a *full* one is written: the previous
//! snapshots' chunks merged, container by container, with the log since, streamed, holding a
//! chunk per snapshot and the log since the last one. A chunk of the previous full snapshot that
//! no change falls in is listed again, not rewritten, so a full snapshot costs the chunks that
//! changed. A restore reads at most a few snapshots.
//!
//! The server runs it in its own leased worker, never inside the shipping pass, and it yields to
//! the data plane while that is busy ([`crate::pace`]).

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::chunk::{ChunkBounds, SnapshotWriter};
use crate::entities::{backup_segment, backup_snapshot};
use crate::error::BackupError;
use crate::keys::KeyWrapKey;
use crate::pace::{Pace, PacePolicy};
use crate::replay::{Bound, Items, PointInTime, Step};
use crate::storage::BackupStorage;

/// When a base snapshot is due, and how it is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotPolicy {
    /// A snapshot once this many changes are shipped since the last one…
    pub every: i64,
    /// …or once the changes since the last one hold this many bytes (before compression).
    /// Bounding bytes too keeps the log a merge or a restore holds small when items are large.
    pub log_bytes: i64,
    pub chunks: ChunkBounds,
    /// A full snapshot replaces the deltas once they stack this deep…
    pub max_deltas: usize,
    /// …or hold this share (per cent) of the full snapshot's size.
    pub full_after_percent: i64,
    /// How a snapshot yields to the data plane while it is busy.
    pub pace: PacePolicy,
}

impl SnapshotPolicy {
    /// What the service uses.
    pub const DEFAULT: Self = Self {
        every: 20_000,
        log_bytes: 32 * 1024 * 1024,
        chunks: ChunkBounds::DEFAULT,
        max_deltas: 8,
        full_after_percent: 25,
        pace: PacePolicy::DEFAULT,
    };
}

/// The change a snapshot of `account_id` is due at, if one is: the end of the first shipped
/// segment at which the log since the last snapshot reaches the policy's bounds. A snapshot
/// that fell behind catches up in several steps, each within the bounds.
///
/// # Errors
/// Database errors.
pub async fn due(db: &DatabaseConnection, account_id: &str, policy: SnapshotPolicy) -> Result<Option<i64>, BackupError> {
    let last = backup_snapshot::Entity::find()
        .filter(backup_snapshot::Column::AccountId.eq(account_id))
        .order_by_desc(backup_snapshot::Column::Seq)
        .one(db)
        .await?
        .map_or(0, |s| s.seq);
    // A page of segment rows at a time: a worker that fell behind has many, and the first that
    // reaches a bound ends the search.
    const PAGE: u64 = 256;
    let (mut bytes, mut after) = (0, last);
    loop {
        let segs = backup_segment::Entity::find()
            .filter(backup_segment::Column::AccountId.eq(account_id))
            .filter(backup_segment::Column::LastSeq.gt(after))
            .order_by_asc(backup_segment::Column::FirstSeq)
            .limit(PAGE)
            .all(db)
            .await?;
        let full = segs.len() as u64 == PAGE;
        for s in segs {
            // Segments shipped before sizes were recorded count as stored.
            bytes += if s.entry_bytes > 0 { s.entry_bytes } else { s.bytes };
            if s.last_seq - last >= policy.every.max(1) || bytes >= policy.log_bytes {
                return Ok(Some(s.last_seq));
            }
            after = s.last_seq;
        }
        if !full {
            return Ok(None);
        }
    }
}

/// Takes the base snapshot of `account_id` that is [`due`], if any; returns its change.
///
/// # Errors
/// Integrity, key, storage and database errors.
pub async fn take_if_due(
    db: &DatabaseConnection,
    storage: &BackupStorage,
    kek: &KeyWrapKey,
    account_id: &str,
    policy: SnapshotPolicy,
) -> Result<Option<i64>, BackupError> {
    let Some(seq) = due(db, account_id, policy).await? else { return Ok(None) };
    take(db, storage, kek, account_id, seq, policy).await?;
    Ok(Some(seq))
}

/// Takes a base snapshot of `account_id` as of change `seq`, which must end a shipped segment:
/// a delta on the last snapshot, or a full one as `policy` says. Nothing to do if one was taken
/// at `seq` already.
///
/// # Errors
/// Integrity, key, storage and database errors.
pub async fn take(
    db: &DatabaseConnection,
    storage: &BackupStorage,
    kek: &KeyWrapKey,
    account_id: &str,
    seq: i64,
    policy: SnapshotPolicy,
) -> Result<(), BackupError> {
    if backup_snapshot::Entity::find_by_id((account_id.to_owned(), seq)).one(db).await?.is_some() {
        // Taken already (by another replica, or a run that finished as this one started).
        return Ok(());
    }
    // Shipping ends segments at shipped positions, so change `seq` closes a segment.
    let closing = backup_segment::Entity::find()
        .filter(backup_segment::Column::AccountId.eq(account_id))
        .filter(backup_segment::Column::LastSeq.eq(seq))
        .one(db)
        .await?
        .ok_or_else(|| BackupError::Integrity(format!("no segment of account {account_id} ends at change {seq}")))?;
    // Paced from the start: under steady writes, reading the tail since the last snapshot
    // (opening and parsing every segment) is a good part of a merge's work.
    let mut pace = Pace::data_plane(policy.pace);
    let pit = PointInTime::open_paced(db, storage, kek, account_id, Bound::Seq(seq), Items::All, &mut pace).await?;
    let key = kek.data_key(db, storage, account_id).await?;
    let parent = pit.snapshots().filter(|s| s.deltas < policy.max_deltas && s.delta_bytes * 100 < s.full_bytes * policy.full_after_percent);
    let writer = match parent {
        Some(parent) => {
            // A delta: the tail, sorted, with the containers it resets.
            let resets: Vec<(String, String)> = pit.tail().iter().filter(|(_, d)| d.reset).map(|(k, _)| k.clone()).collect();
            let mut writer = SnapshotWriter::start_layer(
                storage,
                key,
                account_id,
                seq,
                policy.chunks,
                pit.resources(),
                Some(parent.newest_seq),
                &resets,
            )
            .await?;
            for ((db_id, coll_id), delta) in pit.tail() {
                for ((pk, id), body) in &delta.items {
                    writer.push_row(db_id, coll_id, pk, id, body.as_deref()).await?;
                    pace.step().await;
                }
            }
            writer
        }
        None => {
            // A full one: every container's items, merged.
            let mut writer = SnapshotWriter::start(storage, key, account_id, seq, policy.chunks, pit.resources()).await?;
            for (db_id, d) in &pit.resources().databases {
                for coll_id in d.containers.keys() {
                    let mut merge = pit.merge(db_id, coll_id).await?;
                    while let Some(step) = merge.next(writer.at_boundary(db_id, coll_id)).await? {
                        match step {
                            Step::CarryOver(chunk) => writer.reuse(&chunk).await?,
                            Step::Item(item) => writer.push(db_id, coll_id, &item).await?,
                        }
                        pace.step().await;
                    }
                }
            }
            writer
        }
    };
    writer.finish(db, closing.last_at).await?;
    Ok(())
}
