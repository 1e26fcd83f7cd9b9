//! Reading an account as it was at an instant from its backup alone.
//!
//! A [`PointInTime`] is the newest snapshot at or before the instant (a full one and the deltas
//! on it) plus the log after it: the log *tail* is read once (each segment checked against the
//! chained manifest, decrypted) into the databases and containers then and, for the containers
//! asked for, the last change of each item. A container's items are then streamed: the
//! snapshots' chunks merged, in (partition key, id) order, with the tail's changes, the newest
//! version winning. Memory holds a chunk per snapshot and the tail (which the snapshot policy
//! keeps short), never a container.

use chrono::{DateTime, Utc};
use domain::resource::ResourceType;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

use crate::chunk::{ChunkCursor, Item, Row, Snapshot};
use crate::cpu;
use crate::entities::{backup_segment, backup_snapshot, backup_snapshot_chunk};
use crate::error::BackupError;
use crate::keys::{DataKey, KeyWrapKey};
use crate::pace::Pace;
use crate::restore::DatabaseSelection;
use crate::segment::{self, Entry};
use crate::ship::GENESIS;
use crate::storage::BackupStorage;

/// A container as it was: its settings (the change log's body) and, if asked for, its items
/// keyed by (partition key, id) as whole JSON documents.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContainerAt {
    pub body: Value,
    /// Never written out: a restore plan names containers, it does not carry their items.
    #[serde(skip)]
    pub items: BTreeMap<(String, String), String>,
}

/// A database as it was.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
    /// Whether the items of `database`/`container` are kept.
    pub fn wanted(self, database: &str, container: &str) -> bool {
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
    /// Applies one database or container change (item changes are not kept here).
    pub fn apply(&mut self, e: &Entry) {
        let body = || e.body.as_deref().and_then(|b| serde_json::from_str::<Value>(b).ok()).unwrap_or(Value::Null);
        match e.resource_type {
            ResourceType::Database => match &e.body {
                Some(_) => self.databases.entry(e.database_id.clone()).or_default().body = body(),
                None => {
                    self.databases.remove(&e.database_id);
                }
            },
            ResourceType::Container => {
                let Some(d) = self.databases.get_mut(&e.database_id) else { return };
                match &e.body {
                    Some(_) => d.containers.entry(e.container_id.clone()).or_default().body = body(),
                    None => {
                        d.containers.remove(&e.container_id);
                    }
                }
            }
            _ => {}
        }
    }

    /// The databases and containers as `create` entries, all numbered `seq` and dated `at`.
    pub fn to_entries(&self, seq: i64, at: DateTime<Utc>) -> Vec<Entry> {
        let entry = |resource_type: ResourceType, database: &str, container: &str, body: String| Entry {
            seq,
            committed_at: at,
            op: domain::resource::ChangeOp::Create,
            resource_type,
            database_id: database.into(),
            container_id: container.into(),
            pk: None,
            item_id: None,
            body: Some(body),
        };
        let mut out = Vec::new();
        for (db_id, d) in &self.databases {
            out.push(entry(ResourceType::Database, db_id, "", d.body.to_string()));
            for (coll_id, c) in &d.containers {
                out.push(entry(ResourceType::Container, db_id, coll_id, c.body.to_string()));
            }
        }
        out
    }

    /// Items in all containers (those collected into it).
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
    let bytes = storage.get_checked(&s.object_key, &s.sha256).await?;
    let len = bytes.len() as u64;
    let (key, row) = (key.clone(), s.clone());
    let entries = cpu::run(move || segment::open(&key, &row.account_id, row.first_seq, row.last_seq, bytes)).await?;
    Ok((entries, len))
}

/// The account as it was at `at` with the items `items` asks for, collected in memory: for
/// views and tests of small accounts. A restore streams instead ([`PointInTime`]).
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
    let pit = PointInTime::open(db, storage, kek, account_id, Bound::Time(at), items).await?;
    let mut state = pit.resources().clone();
    for (db_id, d) in &mut state.databases {
        for (coll_id, c) in &mut d.containers {
            if !items.wanted(db_id, coll_id) {
                continue;
            }
            let mut cursor = pit.items(db_id, coll_id).await?;
            while let Some(i) = cursor.next().await? {
                c.items.insert((i.pk, i.id), i.body);
            }
        }
    }
    Ok((state, pit.stats()))
}

/// How far a rebuild goes.
#[derive(Debug, Clone, Copy)]
pub enum Bound {
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

/// What the log tail changed in one container.
#[derive(Debug, Default)]
pub(crate) struct Delta {
    /// The container was deleted (or its database) after the snapshot: the snapshot's items
    /// of that name do not carry over.
    pub(crate) reset: bool,
    /// The last change of each item: its body, or `None` for a deletion.
    pub(crate) items: BTreeMap<(String, String), Option<String>>,
}

/// The newest snapshot within `bound` and the snapshots it is a delta on, the full one first.
async fn snapshot_chain(db: &DatabaseConnection, account_id: &str, bound: Bound) -> Result<Vec<Snapshot>, BackupError> {
    let mut q = backup_snapshot::Entity::find()
        .filter(backup_snapshot::Column::AccountId.eq(account_id))
        .order_by_desc(backup_snapshot::Column::Seq);
    q = match bound {
        Bound::Time(t) => q.filter(backup_snapshot::Column::TakenAt.lte(t)),
        Bound::Seq(s) => q.filter(backup_snapshot::Column::Seq.lte(s)),
    };
    let mut chain = Vec::new();
    let mut next = q.one(db).await?;
    while let Some(row) = next {
        next = match row.parent_seq {
            Some(p) => Some(backup_snapshot::Entity::find_by_id((account_id.to_owned(), p)).one(db).await?.ok_or_else(|| {
                BackupError::Integrity(format!("snapshot {} is a delta on snapshot {p}, which is missing", row.object_key))
            })?),
            None => None,
        };
        chain.push(Snapshot::load(db, row).await?);
    }
    chain.reverse();
    Ok(chain)
}

/// What restoring some containers as of an instant reads, from the catalog alone (no object is
/// fetched or opened): a restore plan's statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Estimate {
    /// About how many items: the full snapshot's count for those containers (the changes
    /// since come on top, deletions off).
    pub items: u64,
    /// Snapshot chunks of those containers, and log segments after the snapshot.
    pub chunks: u64,
    pub segments: u64,
    /// Their stored bytes.
    pub bytes: u64,
}

/// [`Estimate`] of restoring `containers` (database, container) of `account_id` as of `at`.
///
/// # Errors
/// Database errors, and [`BackupError::Integrity`] for a snapshot chain that does not hold.
pub async fn estimate(
    db: &DatabaseConnection,
    account_id: &str,
    at: DateTime<Utc>,
    containers: &[(String, String)],
) -> Result<Estimate, BackupError> {
    let chain = snapshot_chain(db, account_id, Bound::Time(at)).await?;
    let mut out = Estimate::default();
    for (i, snapshot) in chain.iter().enumerate() {
        for (d, c) in containers {
            if i == 0 {
                out.items += snapshot.items_of(d, c);
            }
            let (chunks, bytes) = snapshot.chunks_of(d, c);
            out.chunks += chunks;
            out.bytes += bytes;
        }
    }
    let after = chain.last().map_or(0, |b| b.row.seq);
    let segments = backup_segment::Entity::find()
        .filter(backup_segment::Column::AccountId.eq(account_id))
        .filter(backup_segment::Column::LastSeq.gt(after))
        .filter(backup_segment::Column::FirstAt.lte(at))
        .all(db)
        .await?;
    out.segments = segments.len() as u64;
    out.bytes += segments.iter().map(|s| s.bytes.unsigned_abs()).sum::<u64>();
    Ok(out)
}

/// What [`PointInTime::snapshots`] tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotStack {
    pub newest_seq: i64,
    pub full_bytes: i64,
    pub delta_bytes: i64,
    pub deltas: usize,
}

/// A snapshot a point in time starts from, with the containers it resets.
struct Layer {
    snapshot: Snapshot,
    resets: BTreeSet<(String, String)>,
}

/// An account at an instant, ready to stream: see the module header.
pub struct PointInTime {
    storage: BackupStorage,
    key: Option<DataKey>,
    /// The newest snapshot at or before the instant and the snapshots it is a delta on, the
    /// full one first.
    layers: Vec<Layer>,
    meta: AccountAt,
    deltas: BTreeMap<(String, String), Delta>,
    stats: ReplayStats,
    /// For a restore to an instant: items whose time to live had run out by then are left out
    /// even if the purge had not logged their expiry yet (they were invisible then).
    expire_at: Option<DateTime<Utc>>,
}

impl PointInTime {
    /// Reads the snapshots' databases and containers and the log tail up to `bound`, keeping
    /// item changes of the containers `items` wants. Flat out: a restore's pace.
    ///
    /// # Errors
    /// Integrity, key, storage and database errors.
    pub async fn open(
        db: &DatabaseConnection,
        storage: &BackupStorage,
        kek: &KeyWrapKey,
        account_id: &str,
        bound: Bound,
        items: Items<'_>,
    ) -> Result<Self, BackupError> {
        Self::open_paced(db, storage, kek, account_id, bound, items, &mut Pace::unpaced()).await
    }

    /// [`Self::open`], stepping `pace` after each segment of the tail: reading a long tail
    /// (opening and parsing every segment since the last snapshot) is background work too.
    ///
    /// # Errors
    /// As [`Self::open`].
    pub async fn open_paced(
        db: &DatabaseConnection,
        storage: &BackupStorage,
        kek: &KeyWrapKey,
        account_id: &str,
        bound: Bound,
        items: Items<'_>,
        pace: &mut Pace,
    ) -> Result<Self, BackupError> {
        let chain = snapshot_chain(db, account_id, bound).await?;
        let after = chain.last().map_or(0, |b| b.row.seq);

        let mut segs = backup_segment::Entity::find()
            .filter(backup_segment::Column::AccountId.eq(account_id))
            .filter(backup_segment::Column::LastSeq.gt(after));
        segs = match bound {
            Bound::Time(t) => segs.filter(backup_segment::Column::FirstAt.lte(t)),
            Bound::Seq(s) => segs.filter(backup_segment::Column::FirstSeq.lte(s)),
        };
        let segs = segs.order_by_asc(backup_segment::Column::FirstSeq).all(db).await?;
        check_chain(db, account_id, after, &segs).await?;

        let mut pit = Self {
            storage: storage.clone(),
            key: None,
            layers: Vec::new(),
            meta: AccountAt::default(),
            deltas: BTreeMap::new(),
            stats: ReplayStats::default(),
            expire_at: match bound {
                Bound::Time(t) => Some(t),
                Bound::Seq(_) => None,
            },
        };
        if chain.is_empty() && segs.is_empty() {
            return Ok(pit);
        }
        let key = kek.data_key(db, storage, account_id).await?;
        for snapshot in chain {
            let (meta, resets) = snapshot.meta(storage, &key).await?;
            pit.meta = meta;
            pit.stats.segments += 1;
            pit.stats.bytes += snapshot.row.bytes.unsigned_abs();
            pit.layers.push(Layer { snapshot, resets: resets.into_iter().collect() });
        }
        'segments: for s in &segs {
            let (entries, bytes) = fetch(storage, &key, s).await?;
            pit.stats.segments += 1;
            pit.stats.bytes += bytes;
            for e in entries.into_iter().filter(|e| e.seq > after) {
                if !bound.includes(&e) {
                    break 'segments;
                }
                pit.stats.entries += 1;
                pit.apply(e, items);
            }
            pace.step().await;
        }
        pit.key = Some(key);
        Ok(pit)
    }

    fn apply(&mut self, e: Entry, items: Items<'_>) {
        match e.resource_type {
            ResourceType::Database if e.body.is_none() => {
                let containers: Vec<String> =
                    self.meta.databases.get(&e.database_id).map(|d| d.containers.keys().cloned().collect()).unwrap_or_default();
                for c in &containers {
                    self.reset(&e.database_id, c);
                }
            }
            ResourceType::Container if e.body.is_none() => self.reset(&e.database_id, &e.container_id),
            ResourceType::Item if items.wanted(&e.database_id, &e.container_id) => {
                let exists = self.meta.databases.get(&e.database_id).is_some_and(|d| d.containers.contains_key(&e.container_id));
                if exists {
                    let key = (e.pk.unwrap_or_default(), e.item_id.unwrap_or_default());
                    self.deltas.entry((e.database_id, e.container_id)).or_default().items.insert(key, e.body);
                }
                return;
            }
            _ => {}
        }
        self.meta.apply(&e);
    }

    fn reset(&mut self, database: &str, container: &str) {
        let d = self.deltas.entry((database.to_owned(), container.to_owned())).or_default();
        d.reset = true;
        d.items.clear();
    }

    /// The databases and containers then (without items).
    pub fn resources(&self) -> &AccountAt {
        &self.meta
    }

    /// What opening read.
    pub fn stats(&self) -> ReplayStats {
        self.stats
    }

    /// The snapshots it starts from: the newest one's change, and the stored sizes of the full
    /// one and of the deltas on it, with how many deltas there are.
    pub fn snapshots(&self) -> Option<SnapshotStack> {
        let (full, deltas) = self.layers.split_first()?;
        Some(SnapshotStack {
            newest_seq: self.layers.last().map_or(full.snapshot.row.seq, |l| l.snapshot.row.seq),
            full_bytes: full.snapshot.row.bytes,
            delta_bytes: deltas.iter().map(|l| l.snapshot.row.bytes).sum(),
            deltas: deltas.len(),
        })
    }

    /// The log tail's changes, per container: what a delta snapshot holds.
    pub(crate) fn tail(&self) -> &BTreeMap<(String, String), Delta> {
        &self.deltas
    }

    /// The snapshots whose rows `database`/`container` is built from (after the newest one that
    /// reset it; none if the tail resets it).
    fn layers_of(&self, database: &str, container: &str) -> &[Layer] {
        let key = (database.to_owned(), container.to_owned());
        if self.deltas.get(&key).is_some_and(|d| d.reset) {
            return &[];
        }
        let start = self.layers.iter().rposition(|l| l.resets.contains(&key)).unwrap_or(0);
        &self.layers[start..]
    }

    /// About how many items `database`/`container` holds: the snapshots' rows plus the tail's
    /// changes (for progress; the restore counts exactly as it writes).
    pub fn estimated_items(&self, database: &str, container: &str) -> u64 {
        let delta = self.deltas.get(&(database.to_owned(), container.to_owned()));
        let layers: u64 = self.layers_of(database, container).iter().map(|l| l.snapshot.items_of(database, container)).sum();
        layers + delta.map_or(0, |d| d.items.values().filter(|v| v.is_some()).count() as u64)
    }

    /// The items of `database`/`container` then, in (partition key, id) order. Only containers
    /// that [`PointInTime::open`] was asked to keep items of are complete.
    ///
    /// # Errors
    /// Reading the snapshots (a container that did not exist then streams nothing).
    pub async fn items(&self, database: &str, container: &str) -> Result<ItemStream<'_>, BackupError> {
        let default_ttl = self.container_body(database, container).and_then(|b| b.get("defaultTtl")).and_then(Value::as_i64);
        Ok(ItemStream {
            merge: self.merge_of(database, container, false).await?,
            expire_at: self.expire_at.filter(|_| default_ttl.is_some()).map(|t| (t.timestamp(), default_ttl.unwrap_or(-1))),
        })
    }

    /// The items of `database`/`container` for a full snapshot: as [`Self::items`] (no expiry
    /// applied), except that chunks of the full snapshot it starts from that no change touches
    /// come as they are, when the writer is at a chunk boundary.
    ///
    /// # Errors
    /// As [`Self::items`].
    pub(crate) async fn merge(&self, database: &str, container: &str) -> Result<Merge<'_>, BackupError> {
        self.merge_of(database, container, true).await
    }

    fn container_body(&self, database: &str, container: &str) -> Option<&Value> {
        self.meta.databases.get(database).and_then(|d| d.containers.get(container)).map(|c| &c.body)
    }

    async fn merge_of(&self, database: &str, container: &str, carry_over: bool) -> Result<Merge<'_>, BackupError> {
        let exists = self.container_body(database, container).is_some();
        let mut base = None;
        let mut carry = false;
        let mut sources = Vec::new();
        if let (Some(key), true) = (&self.key, exists) {
            let layers = self.layers_of(database, container);
            for (i, l) in layers.iter().enumerate() {
                let cursor = l.snapshot.items(&self.storage, key, database, container).await?;
                if i == 0 {
                    // The first (largest) snapshot reads ahead; the deltas on it hold a chunk each.
                    // Only a full snapshot's chunks (no deletions in them) carry over.
                    carry = carry_over
                        && std::ptr::eq(l, &self.layers[0])
                        && l.snapshot.row.parent_seq.is_none()
                        && l.snapshot.can_carry_over(database, container);
                    base = Some(cursor);
                } else {
                    sources.push(Source { cursor: cursor.one_at_a_time(), head: None });
                }
            }
        }
        let delta = self.deltas.get(&(database.to_owned(), container.to_owned()));
        Ok(Merge {
            base,
            carry,
            // Without carrying over, the base is read through as one run of rows.
            in_chunk: !carry,
            head: None,
            opened_last: false,
            changes: Changes { sources, started: false, tail: delta.filter(|_| exists).map(|d| d.items.iter().peekable()), head: None },
        })
    }
}

/// One snapshot's rows of a container, with the next one read.
struct Source {
    cursor: ChunkCursor,
    head: Option<Row>,
}

type TailIter<'a> = std::iter::Peekable<std::collections::btree_map::Iter<'a, (String, String), Option<String>>>;

/// What changed in a container since the snapshot it starts from: the rows of the deltas on
/// it merged with the tail's changes by (partition key, id), the newest version of each key
/// only, deletions kept (a `None` body).
struct Changes<'a> {
    /// The deltas, oldest first.
    sources: Vec<Source>,
    started: bool,
    tail: Option<TailIter<'a>>,
    /// The next change, once peeked.
    head: Option<Row>,
}

impl Changes<'_> {
    async fn peek(&mut self) -> Result<Option<&Row>, BackupError> {
        if self.head.is_none() {
            self.head = self.advance().await?;
        }
        Ok(self.head.as_ref())
    }

    async fn pop(&mut self) -> Result<Option<Row>, BackupError> {
        self.peek().await?;
        Ok(self.head.take())
    }

    async fn advance(&mut self) -> Result<Option<Row>, BackupError> {
        if !self.started {
            self.started = true;
            for s in &mut self.sources {
                s.head = s.cursor.next().await?;
            }
        }
        // The smallest key anywhere.
        let mut min: Option<(String, String)> = None;
        let heads = self.sources.iter().filter_map(|s| s.head.as_ref().map(|r| (&r.pk, &r.id)));
        let tail = self.tail.as_mut().and_then(|t| t.peek().map(|((pk, id), _)| (pk, id)));
        for (pk, id) in heads.chain(tail) {
            if min.as_ref().is_none_or(|(mp, mi)| (pk, id) < (mp, mi)) {
                min = Some((pk.clone(), id.clone()));
            }
        }
        let Some((pk, id)) = min else { return Ok(None) };
        // The newest version wins: the tail's, else the newest delta's; every source holding
        // the key moves past it.
        let mut newest = None;
        for s in &mut self.sources {
            if s.head.as_ref().is_some_and(|r| r.pk == pk && r.id == id) {
                newest = s.head.take().map(|r| r.body);
                s.head = s.cursor.next().await?;
            }
        }
        if let Some(t) = self.tail.as_mut()
            && t.peek().is_some_and(|((p, i), _)| *p == pk && *i == id)
        {
            newest = t.next().map(|(_, body)| body.clone());
        }
        Ok(Some(Row { pk, id, body: newest.flatten() }))
    }
}

/// What a [`Merge`] gives next.
pub(crate) enum Step {
    /// A chunk of the base snapshot that no change touches, to be listed as it is.
    CarryOver(backup_snapshot_chunk::Model),
    Item(Item),
}

/// Where the next row comes from.
enum Next {
    Base,
    Change,
    /// Both hold the key: the change wins, the base row goes.
    Both,
    /// Neither, within the open chunk.
    None,
}

/// One container's rows at an instant: the base snapshot's rows merged with the [`Changes`]
/// on it. Used to carry chunks over ([`PointInTime::merge`]), the base is read a chunk at a
/// time, and each change goes with the chunk whose range holds it (up to the next chunk's
/// first key); a chunk no change falls in is passed on whole.
pub(crate) struct Merge<'a> {
    base: Option<ChunkCursor>,
    carry: bool,
    /// Whether a base chunk (without carrying over: the whole base) is being read.
    in_chunk: bool,
    /// Its next row, once read.
    head: Option<Row>,
    /// Whether the last base chunk was opened rather than carried over: then the next one is
    /// read ahead as this one opens (changes that touch one chunk tend to touch the next).
    opened_last: bool,
    changes: Changes<'a>,
}

fn key_of(r: &Row) -> (&str, &str) {
    (&r.pk, &r.id)
}

impl Merge<'_> {
    /// The next chunk to carry over (only if `at_boundary`: the writer would start a chunk with
    /// the next row) or the next item; `None` after the last.
    ///
    /// # Errors
    /// As [`ChunkCursor::next`].
    pub(crate) async fn next(&mut self, at_boundary: bool) -> Result<Option<Step>, BackupError> {
        // As in `SnapshotWriter::push_row`: a run of rows from memory steps aside now and then.
        tokio::task::coop::consume_budget().await;
        loop {
            if self.in_chunk {
                if self.head.is_none()
                    && let Some(base) = self.base.as_mut()
                {
                    self.head = if self.carry { base.next_in_chunk()? } else { base.next().await? };
                }
                let upper = if self.carry { self.base.as_ref().and_then(|b| b.upcoming().0).and_then(|c| c.first_key()) } else { None };
                let change = self.changes.peek().await?.filter(|c| upper.is_none_or(|u| key_of(c) < u));
                let next = match (self.head.as_ref(), change) {
                    (None, None) => Next::None,
                    (Some(_), None) => Next::Base,
                    (None, Some(_)) => Next::Change,
                    (Some(b), Some(c)) => match key_of(b).cmp(&key_of(c)) {
                        std::cmp::Ordering::Less => Next::Base,
                        std::cmp::Ordering::Greater => Next::Change,
                        std::cmp::Ordering::Equal => Next::Both,
                    },
                };
                let row = match next {
                    Next::None => {
                        // The chunk is read: check it now, for a merge may carry the next one
                        // over or end without opening another.
                        if let Some(base) = self.base.as_mut().filter(|_| self.carry) {
                            base.close()?;
                        }
                        self.in_chunk = false;
                        continue;
                    }
                    Next::Base => self.head.take(),
                    Next::Change => self.changes.pop().await?,
                    Next::Both => {
                        self.head = None;
                        self.changes.pop().await?
                    }
                };
                if let Some(item) = row.and_then(Row::into_item) {
                    return Ok(Some(Step::Item(item)));
                }
                continue;
            }
            let (next, after) = self.base.as_ref().map_or((None, None), |b| b.upcoming());
            let Some(next) = next else {
                // No base chunk left: the changes after the last.
                match self.changes.pop().await? {
                    None => return Ok(None),
                    Some(row) => match row.into_item() {
                        Some(item) => return Ok(Some(Step::Item(item))),
                        None => continue,
                    },
                }
            };
            // Carrying over, every chunk records its first key (see `merge_of`).
            let first =
                next.first_key().ok_or_else(|| BackupError::Integrity(format!("{} does not record where it starts", next.object_key)))?;
            let (first, after) =
                ((first.0.to_owned(), first.1.to_owned()), after.and_then(|c| c.first_key()).map(|(p, i)| (p.to_owned(), i.to_owned())));
            let change = self.changes.peek().await?.map(|c| (c.pk.clone(), c.id.clone()));
            if change.as_ref().is_some_and(|c| *c < first) {
                // A change before the chunk's range (between the previous chunk and this one).
                if let Some(item) = self.changes.pop().await?.and_then(Row::into_item) {
                    return Ok(Some(Step::Item(item)));
                }
                continue;
            }
            let untouched = change.is_none_or(|c| after.is_some_and(|a| c >= a));
            let Some(base) = self.base.as_mut() else { continue };
            if at_boundary && untouched {
                self.opened_last = false;
                if let Some(chunk) = base.skip() {
                    return Ok(Some(Step::CarryOver(chunk)));
                }
                continue;
            }
            base.set_read_ahead(self.opened_last);
            base.open_next().await?;
            self.opened_last = true;
            self.in_chunk = true;
        }
    }
}

/// One container's items at an instant, streamed: the snapshots' rows merged by (partition
/// key, id) with the tail's changes, the newest version of each item winning and deletions
/// dropping it. See [`PointInTime::items`].
pub struct ItemStream<'a> {
    merge: Merge<'a>,
    /// (instant, container default TTL) when items that had expired by then are left out.
    expire_at: Option<(i64, i64)>,
}

impl ItemStream<'_> {
    /// The next item, or `None` after the last.
    ///
    /// # Errors
    /// As [`ChunkCursor::next`].
    pub async fn next(&mut self) -> Result<Option<Item>, BackupError> {
        loop {
            let item = match self.merge.next(false).await? {
                None => return Ok(None),
                Some(Step::Item(item)) => item,
                // Only offered at a boundary, which this never claims.
                Some(Step::CarryOver(_)) => continue,
            };
            if let Some((now, default_ttl)) = self.expire_at
                && expired(&item.body, now, default_ttl)
            {
                continue;
            }
            return Ok(Some(item));
        }
    }
}

fn expired(doc: &str, now: i64, default_ttl: i64) -> bool {
    let Ok(v) = serde_json::from_str::<Value>(doc) else { return false };
    let ttl = v.get("ttl").and_then(Value::as_i64).unwrap_or(default_ttl);
    let ts = v.get("_ts").and_then(Value::as_i64).unwrap_or(now);
    ttl > 0 && ts + ttl <= now
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
