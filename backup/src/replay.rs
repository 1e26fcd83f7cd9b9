//! Rebuilding an account as it was at an instant from its backup: fetch the manifest's segments
//! in order, check each object's hash against the chained manifest, decrypt, and replay every
//! change committed at or before the instant.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

use crate::entities::{backup_segment, backup_snapshot};
use crate::error::BackupError;
use crate::keys::KeyWrapKey;
use crate::restore::DatabaseSelection;
use crate::segment::{self, Entry};
use crate::ship::GENESIS;
use crate::storage::BackupStorage;

/// A container as it was: its settings (the change log's body) and, if asked for, its items
/// keyed by (partition key, id) as whole JSON documents.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContainerAt {
    pub body: Value,
    pub items: BTreeMap<(String, String), String>,
}

/// A database as it was.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DatabaseAt {
    pub body: Value,
    pub containers: BTreeMap<String, ContainerAt>,
}

impl DatabaseAt {
    /// Shared (database-level) throughput, if the database had it.
    pub fn shared_throughput(&self) -> Option<i64> {
        self.body.get("throughput").and_then(Value::as_i64)
    }
}

/// An account's databases as they were.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountAt {
    pub databases: BTreeMap<String, DatabaseAt>,
}

/// What a replay read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayStats {
    pub segments: usize,
    pub bytes: u64,
    pub entries: usize,
}

/// Which containers' items a rebuild keeps.
#[derive(Debug, Clone, Copy)]
pub enum Items<'a> {
    /// None: databases and containers only (a metadata view).
    None,
    /// Every container's.
    All,
    /// Those of the selected databases and containers (an empty selection is the whole
    /// account): a restore of one container holds that container, not the account.
    Of(&'a [DatabaseSelection]),
}

impl Items<'_> {
    fn wanted(self, database: &str, container: &str) -> bool {
        match self {
            Items::None => false,
            Items::All => true,
            Items::Of(selection) => {
                selection.is_empty()
                    || selection
                        .iter()
                        .any(|s| s.database == database && (s.containers.is_empty() || s.containers.iter().any(|c| c == container)))
            }
        }
    }
}

impl AccountAt {
    /// Applies one change; item changes only for the containers `items` wants.
    pub fn apply(&mut self, e: &Entry, items: Items<'_>) {
        let body = || e.body.as_deref().and_then(|b| serde_json::from_str::<Value>(b).ok()).unwrap_or(Value::Null);
        match e.resource_type.as_str() {
            "database" => match &e.body {
                Some(_) => self.databases.entry(e.database_id.clone()).or_default().body = body(),
                None => {
                    self.databases.remove(&e.database_id);
                }
            },
            "container" => {
                let Some(d) = self.databases.get_mut(&e.database_id) else { return };
                match &e.body {
                    Some(_) => d.containers.entry(e.container_id.clone()).or_default().body = body(),
                    None => {
                        d.containers.remove(&e.container_id);
                    }
                }
            }
            "item" if items.wanted(&e.database_id, &e.container_id) => {
                let Some(c) = self.databases.get_mut(&e.database_id).and_then(|d| d.containers.get_mut(&e.container_id)) else {
                    return;
                };
                let key = (e.pk.clone().unwrap_or_default(), e.item_id.clone().unwrap_or_default());
                match &e.body {
                    Some(b) => {
                        c.items.insert(key, b.clone());
                    }
                    None => {
                        c.items.remove(&key);
                    }
                }
            }
            _ => {}
        }
    }

    /// Drops items whose time to live had run out by `at` even if the purge had not logged
    /// their expiry yet: they were already invisible then.
    pub fn drop_expired(&mut self, at: DateTime<Utc>) {
        let now = at.timestamp();
        for d in self.databases.values_mut() {
            for c in d.containers.values_mut() {
                let Some(default_ttl) = c.body.get("defaultTtl").and_then(Value::as_i64) else { continue };
                c.items.retain(|_, doc| {
                    let Ok(v) = serde_json::from_str::<Value>(doc) else { return true };
                    let ttl = v.get("ttl").and_then(Value::as_i64).unwrap_or(default_ttl);
                    let ts = v.get("_ts").and_then(Value::as_i64).unwrap_or(now);
                    ttl <= 0 || ts + ttl > now
                });
            }
        }
    }

    /// The account as `create` entries, all numbered `seq` and dated `at`: a base snapshot.
    pub fn to_entries(&self, seq: i64, at: DateTime<Utc>) -> Vec<Entry> {
        let entry =
            |resource_type: &str, database: &str, container: &str, pk: Option<String>, item_id: Option<String>, body: String| Entry {
                seq,
                committed_at: at,
                op: "create".into(),
                resource_type: resource_type.into(),
                database_id: database.into(),
                container_id: container.into(),
                pk,
                item_id,
                body: Some(body),
            };
        let mut out = Vec::new();
        for (db_id, d) in &self.databases {
            out.push(entry("database", db_id, "", None, None, d.body.to_string()));
            for (coll_id, c) in &d.containers {
                out.push(entry("container", db_id, coll_id, None, None, c.body.to_string()));
                for ((pk, id), doc) in &c.items {
                    out.push(entry("item", db_id, coll_id, Some(pk.clone()), Some(id.clone()), doc.clone()));
                }
            }
        }
        out
    }

    /// Items in all containers.
    pub fn item_count(&self) -> u64 {
        self.databases.values().flat_map(|d| d.containers.values()).map(|c| c.items.len() as u64).sum()
    }
}

/// Fetches and opens one segment, checking its hash against the manifest.
///
/// # Errors
/// [`BackupError::Integrity`] if it is missing, altered or not what its name says.
pub async fn fetch(
    storage: &BackupStorage,
    key: &crate::keys::DataKey,
    s: &backup_segment::Model,
) -> Result<(Vec<Entry>, u64), BackupError> {
    let bytes = storage.get(&s.object_key).await?;
    if hex::encode(Sha256::digest(&bytes)) != s.sha256 {
        return Err(BackupError::Integrity(format!("{} does not match its manifest hash (altered or replaced)", s.object_key)));
    }
    let entries = segment::open(key, &s.account_id, s.first_seq, s.last_seq, &bytes)?;
    Ok((entries, bytes.len() as u64))
}

/// The account as it was at `at`, from backup storage alone: the newest base snapshot taken at
/// or before `at`, then the log after it.
///
/// # Errors
/// Integrity, key, storage and database errors.
pub async fn account_at(
    db: &DatabaseConnection,
    storage: &BackupStorage,
    kek: &KeyWrapKey,
    account_id: &str,
    at: DateTime<Utc>,
    items: Items<'_>,
) -> Result<(AccountAt, ReplayStats), BackupError> {
    let (mut state, stats) = rebuild(db, storage, kek, account_id, Bound::Time(at), items).await?;
    state.drop_expired(at);
    Ok((state, stats))
}

/// How far a rebuild goes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Bound {
    /// Every change committed at or before this instant.
    Time(DateTime<Utc>),
    /// Every change up to and including this sequence number.
    Seq(i64),
}

impl Bound {
    fn includes(self, e: &Entry) -> bool {
        match self {
            Bound::Time(t) => e.committed_at <= t,
            Bound::Seq(s) => e.seq <= s,
        }
    }
}

/// Rebuilds the account up to `bound`: base snapshot, then the chained log segments after it.
pub(crate) async fn rebuild(
    db: &DatabaseConnection,
    storage: &BackupStorage,
    kek: &KeyWrapKey,
    account_id: &str,
    bound: Bound,
    items: Items<'_>,
) -> Result<(AccountAt, ReplayStats), BackupError> {
    let mut q = backup_snapshot::Entity::find()
        .filter(backup_snapshot::Column::AccountId.eq(account_id))
        .order_by_desc(backup_snapshot::Column::Seq);
    q = match bound {
        Bound::Time(t) => q.filter(backup_snapshot::Column::TakenAt.lte(t)),
        Bound::Seq(s) => q.filter(backup_snapshot::Column::Seq.lte(s)),
    };
    let base = q.one(db).await?;
    let after = base.as_ref().map_or(0, |b| b.seq);

    let mut segs = backup_segment::Entity::find()
        .filter(backup_segment::Column::AccountId.eq(account_id))
        .filter(backup_segment::Column::LastSeq.gt(after));
    segs = match bound {
        Bound::Time(t) => segs.filter(backup_segment::Column::FirstAt.lte(t)),
        Bound::Seq(s) => segs.filter(backup_segment::Column::FirstSeq.lte(s)),
    };
    let segs = segs.order_by_asc(backup_segment::Column::FirstSeq).all(db).await?;
    check_chain(db, account_id, after, &segs).await?;

    let mut state = AccountAt::default();
    let mut stats = ReplayStats::default();
    if base.is_none() && segs.is_empty() {
        return Ok((state, stats));
    }
    let key = kek.data_key(db, account_id).await?;
    if let Some(b) = &base {
        let bytes = storage.get(&b.object_key).await?;
        if hex::encode(Sha256::digest(&bytes)) != b.sha256 {
            return Err(BackupError::Integrity(format!("{} does not match its manifest hash (altered or replaced)", b.object_key)));
        }
        for e in segment::open_snapshot(&key, account_id, b.seq, &bytes)? {
            state.apply(&e, items);
        }
        stats.segments += 1;
        stats.bytes += bytes.len() as u64;
    }
    'segments: for s in &segs {
        let (entries, bytes) = fetch(storage, &key, s).await?;
        stats.segments += 1;
        stats.bytes += bytes;
        for e in entries.iter().filter(|e| e.seq > after) {
            if !bound.includes(e) {
                break 'segments;
            }
            state.apply(e, items);
            stats.entries += 1;
        }
    }
    Ok((state, stats))
}

/// Checks that `segs` continue the log right after change `after` without a gap, each linked to
/// the one before by its hash (the first to the segment ending at `after`, or to genesis).
async fn check_chain(db: &DatabaseConnection, account_id: &str, after: i64, segs: &[backup_segment::Model]) -> Result<(), BackupError> {
    let Some(first) = segs.first() else { return Ok(()) };
    let mut prev = if first.first_seq == 1 {
        GENESIS.to_owned()
    } else {
        backup_segment::Entity::find()
            .filter(backup_segment::Column::AccountId.eq(account_id))
            .filter(backup_segment::Column::LastSeq.eq(first.first_seq - 1))
            .one(db)
            .await?
            .map_or_else(|| first.prev_sha256.clone(), |p| p.sha256)
    };
    let mut next_seq = first.first_seq;
    if next_seq > after + 1 {
        return Err(BackupError::Integrity(format!(
            "the log of account {account_id} is missing changes {} to {}",
            after + 1,
            next_seq - 1
        )));
    }
    for s in segs {
        if s.prev_sha256 != prev || s.first_seq != next_seq {
            return Err(BackupError::Integrity(format!(
                "the manifest of account {account_id} is broken at segment {} (expected to start at {next_seq} after {prev})",
                s.object_key
            )));
        }
        prev.clone_from(&s.sha256);
        next_seq = s.last_seq + 1;
    }
    Ok(())
}
