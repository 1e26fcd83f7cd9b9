//! Rebuilding an account's backup catalog from backup storage alone ([`crate::journal`]): its
//! key, snapshots and restore points from the journal, its log from the segments themselves
//! (their names give the ranges, their sealed entries the times and resource events). After
//! it, restores read the catalog as if it had never been lost.

use sea_orm::{ConnectionTrait, EntityTrait, Set};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

use crate::catalog;
use crate::entities::{backup_journal, backup_key, backup_segment, backup_snapshot, backup_snapshot_chunk, backup_state};
use crate::error::BackupError;
use crate::journal::{self, LogHead, Record};
use crate::keys::KeyWrapKey;
use crate::segment;
use crate::ship::GENESIS;
use crate::storage::BackupStorage;

/// What was recovered of one account.
#[derive(Debug, Default)]
pub struct Recovered {
    /// The newest account record (the control plane's JSON), if the journal holds one.
    pub account: Option<serde_json::Value>,
    pub records: i64,
    pub snapshots: usize,
    pub points: usize,
    pub segments: usize,
    /// The log's last change and its time, if any segment was found.
    pub through: Option<(i64, chrono::DateTime<chrono::Utc>)>,
    /// What is missing or wrong but did not stop the rest (one line each).
    pub problems: Vec<String>,
}

/// The accounts that backup storage holds backups of.
///
/// # Errors
/// Storage errors.
pub async fn accounts(storage: &BackupStorage) -> Result<Vec<String>, BackupError> {
    storage.folders("accounts/").await
}

/// Rebuilds the backup catalog of `account_id` in `db` (which must not hold it) from `storage`.
/// The account's own row is the caller's: see [`Recovered::account`].
///
/// # Errors
/// [`BackupError::KeyUnavailable`] when the data key does not unwrap under `kek`;
/// [`BackupError::Integrity`] when the journal is broken (a record altered, missing or out of
/// its chain); storage and database errors.
pub async fn account(
    db: &impl ConnectionTrait,
    storage: &BackupStorage,
    kek: &KeyWrapKey,
    account_id: &str,
) -> Result<Recovered, BackupError> {
    let key_row = journal::stored_key(storage, account_id).await?;
    let key = kek.unwrap(account_id, &key_row.wrapped_key, &key_row.wrapped_by)?;
    backup_key::Entity::insert(backup_key::ActiveModel::from(key_row)).exec(db).await?;

    let mut out = Recovered::default();
    let mut prev = GENESIS.to_owned();
    let mut newest_head = LogHead { shipped_seq: 0, last_sha256: GENESIS.to_owned() };
    let mut account_sha = String::new();
    let mut swept_through = 0;
    let (mut swept_snapshots, mut swept_points) = (std::collections::HashSet::new(), std::collections::HashSet::new());
    let mut restorable_from = None;
    let mut migrated = None;
    let names = storage.list(&format!("accounts/{account_id}/journal/")).await?;
    for (i, name) in names.iter().enumerate() {
        let n = i64::try_from(i).unwrap_or(i64::MAX) + 1;
        if *name != journal::record_object(account_id, n) {
            return Err(BackupError::Integrity(format!("the journal of account {account_id} has {name} where record {n} belongs")));
        }
        let bytes = storage.get(name).await?;
        let sha = hex::encode(Sha256::digest(&bytes));
        let entry = journal::open(&key, account_id, n, bytes)?;
        if entry.prev_sha256 != prev {
            return Err(BackupError::Integrity(format!("{name}: does not follow record {} (its chain is broken)", n - 1)));
        }
        if entry.log_head.shipped_seq >= newest_head.shipped_seq {
            newest_head = entry.log_head.clone();
        }
        match entry.record {
            Record::Account { account } => {
                account_sha = hex::encode(Sha256::digest(account.to_string().as_bytes()));
                out.account = Some(account);
            }
            // A record written while a sweep ran may name what that sweep removed: it stays gone.
            Record::Snapshot { snapshot, .. } if swept_snapshots.contains(&snapshot.seq) => {}
            Record::Point { point } if swept_points.contains(&point.taken_at) => {}
            Record::Snapshot { snapshot, chunks } => {
                // Two runs of one snapshot may both have written it: the first stands.
                let inserted = backup_snapshot::Entity::insert(journal::journaled_snapshot(snapshot))
                    .on_conflict_do_nothing()
                    .exec_without_returning(db)
                    .await?;
                if matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0) {
                    for part in chunks.chunks(500) {
                        backup_snapshot_chunk::Entity::insert_many(part.iter().cloned().map(backup_snapshot_chunk::ActiveModel::from))
                            .exec(db)
                            .await?;
                    }
                    out.snapshots += 1;
                }
            }
            Record::Point { point } => {
                let inserted = crate::entities::backup_point::Entity::insert(journal::journaled_point(point))
                    .on_conflict_do_nothing()
                    .exec_without_returning(db)
                    .await?;
                if matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0) {
                    out.points += 1;
                }
            }
            // Written before the migration committed: the newest is the one that did (an
            // attempt that failed after writing it was followed by another, or left an account
            // with no continuous log, for which nothing here is read).
            Record::Migrated { log_after, at, events } => migrated = Some((log_after, at, events)),
            Record::Swept { snapshots, points, log_through, restorable_from: from } => {
                restorable_from = restorable_from.max(from);
                let (forgotten, forgotten_points) = crate::retention::forget(db, account_id, &snapshots, &points).await?;
                out.snapshots = out.snapshots.saturating_sub(forgotten);
                out.points = out.points.saturating_sub(forgotten_points);
                swept_through = swept_through.max(log_through);
                swept_snapshots.extend(snapshots);
                swept_points.extend(points);
            }
        }
        prev = sha;
        out.records = n;
    }
    backup_journal::Entity::insert(backup_journal::ActiveModel {
        account_id: Set(account_id.to_owned()),
        last_n: Set(out.records),
        last_sha256: Set(prev),
        account_sha256: Set(account_sha),
    })
    .exec(db)
    .await?;

    if let Some((log_after, at, events)) = migrated {
        swept_through = swept_through.max(log_after);
        restorable_from = restorable_from.max(Some(at));
        catalog::record(db, account_id, &events).await?;
    }
    log(db, storage, &key, account_id, &newest_head, (swept_through, restorable_from), &mut out).await?;
    Ok(out)
}

/// Rebuilds the log's manifest (`backup_segments`, `backup_state`) and the resource events from
/// the segments in storage: the longest chain of consecutive ranges from the oldest segment.
async fn log(
    db: &impl ConnectionTrait,
    storage: &BackupStorage,
    key: &crate::keys::DataKey,
    account_id: &str,
    head: &LogHead,
    (swept_through, restorable_from): (i64, Option<chrono::DateTime<chrono::Utc>>),
    out: &mut Recovered,
) -> Result<(), BackupError> {
    let prefix = format!("accounts/{account_id}/log/");
    let mut ranges: Vec<(i64, i64)> = Vec::new();
    for name in storage.list(&prefix).await? {
        match name.strip_prefix(&prefix).and_then(parse_range) {
            // Left behind by a sweep that stopped part-way: swept all the same.
            Some((_, last)) if last <= swept_through => {}
            Some(range) => ranges.push(range),
            None => out.problems.push(format!("{name}: not a segment name; left out")),
        }
    }
    let chain = longest_chain(&ranges);
    if let Some(&(first, _)) = chain.first()
        && first > swept_through + 1
    {
        out.problems.push(format!(
            "the log of account {account_id} starts at change {first}, but nothing removed changes {} to {}: its first segments are missing",
            swept_through + 1,
            first - 1
        ));
    }
    let (mut prev, mut bytes_total, mut through) = (GENESIS.to_owned(), 0i64, None);
    let mut reached_head = head.shipped_seq == 0;
    for &(first, last) in &chain {
        let name = segment::object_key(account_id, first, last);
        let stored = storage.get(&name).await?;
        let sha = hex::encode(Sha256::digest(&stored));
        let size = i64::try_from(stored.len()).unwrap_or(i64::MAX);
        let entries = segment::open(key, account_id, first, last, stored)?;
        let (Some(first_entry), Some(last_entry)) = (entries.first(), entries.last()) else { continue };
        let entry_bytes: usize = entries
            .iter()
            .map(|e| {
                e.body.as_ref().map_or(0, String::len) + e.item_id.as_ref().map_or(0, String::len) + e.pk.as_ref().map_or(0, String::len)
            })
            .sum();
        backup_segment::Entity::insert(backup_segment::ActiveModel {
            account_id: Set(account_id.to_owned()),
            first_seq: Set(first),
            last_seq: Set(last),
            first_at: Set(first_entry.committed_at),
            last_at: Set(last_entry.committed_at),
            object_key: Set(name.clone()),
            bytes: Set(size),
            sha256: Set(sha.clone()),
            prev_sha256: Set(prev.clone()),
            created_at: Set(chrono::Utc::now()),
            entry_bytes: Set(i64::try_from(entry_bytes).unwrap_or(i64::MAX)),
        })
        .exec(db)
        .await?;
        catalog::record(db, account_id, &entries).await?;
        if last == head.shipped_seq {
            if sha == head.last_sha256 {
                reached_head = true;
            } else {
                out.problems.push(format!("{name}: is not the segment the journal names as the log's head"));
            }
        }
        through = Some((last, last_entry.committed_at));
        bytes_total += size;
        prev = sha;
    }
    if !reached_head {
        out.problems.push(format!(
            "the log of account {account_id} ends at change {} but its journal saw it shipped through change {}: segments are missing",
            through.map_or(0, |(seq, _)| seq),
            head.shipped_seq
        ));
    }
    out.segments = chain.len();
    out.through = through;
    if let Some((seq, at)) = through {
        backup_state::Entity::insert(backup_state::ActiveModel {
            account_id: Set(account_id.to_owned()),
            shipped_seq: Set(seq),
            // The last change shipped: what came after it is lost with the database.
            backed_up_through: Set(at),
            segments: Set(i64::try_from(chain.len()).unwrap_or(i64::MAX)),
            bytes: Set(bytes_total),
            last_hash: Set(prev),
            cataloged_seq: Set(seq),
            restorable_from: Set(restorable_from),
        })
        .exec(db)
        .await?;
    }
    Ok(())
}

/// `<first>-<last>.seg` → `(first, last)`.
fn parse_range(file: &str) -> Option<(i64, i64)> {
    let (first, last) = file.strip_suffix(".seg")?.split_once('-')?;
    let (first, last) = (first.parse().ok()?, last.parse().ok()?);
    (first <= last).then_some((first, last))
}

/// The chain of consecutive ranges from the lowest first change that reaches furthest. A pass
/// that stored a segment and died before recording it can leave a shorter range beside the one
/// that replaced it; either holds the same changes.
fn longest_chain(ranges: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let Some(start) = ranges.iter().map(|r| r.0).min() else { return Vec::new() };
    let mut by_first: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for &(first, last) in ranges {
        by_first.entry(first).or_default().push(last);
    }
    // Furthest change reachable from each first change, computed from the highest down.
    let mut reach: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for (&first, lasts) in by_first.iter().rev() {
        let best = lasts.iter().map(|&last| (reach.get(&(last + 1)).map_or(last, |r| r.0), last)).max();
        if let Some(best) = best {
            reach.insert(first, best);
        }
    }
    let mut chain = Vec::new();
    let mut at = start;
    while let Some(&(_, last)) = reach.get(&at) {
        chain.push((at, last));
        at = last + 1;
    }
    chain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_that_reaches_furthest_is_taken_past_a_shorter_leftover() {
        // 1-100 was stored by a pass that died; 1-150 replaced it.
        assert_eq!(longest_chain(&[(1, 100), (1, 150), (151, 200), (101, 120)]), vec![(1, 150), (151, 200)]);
        // A leftover that leads further wins.
        assert_eq!(longest_chain(&[(1, 100), (1, 50), (51, 300)]), vec![(1, 50), (51, 300)]);
        assert_eq!(longest_chain(&[(5, 9), (12, 20)]), vec![(5, 9)]);
        assert!(longest_chain(&[]).is_empty());
    }

    #[test]
    fn segment_names_parse() {
        assert_eq!(parse_range("00000000000000000001-00000000000000000042.seg"), Some((1, 42)));
        assert_eq!(parse_range("notes.txt"), None);
        assert_eq!(parse_range("9-3.seg"), None);
    }
}
