//! Snapshots as chunks: a base snapshot or periodic full backup is written and read as a run
//! of size-bounded objects, so neither holds an account in memory.
//!
//! A snapshot is *full* (every item as of its change) or a *delta* on a parent snapshot (the
//! last change of each item changed since the parent, deletions included, and which containers
//! were deleted or made again since). Deltas keep frequent snapshots cheap on a large account;
//! a full one is written again once the deltas grow (see [`crate::snapshot`]).
//!
//! Chunk 0 holds the snapshot's databases and containers (change-log entries, JSON lines; a
//! delta also lists its reset containers). Every later chunk holds rows of one container, in
//! (partition key, id) order, one per line: the partition key and the id as JSON strings, then
//! the item as stored — empty for a deletion — tab-separated (compact JSON holds no raw tab or
//! newline, so the line splits without parsing the item). Each chunk
//! is sealed like a segment, under an identity naming the account, snapshot, index and
//! container, and is listed with its hash and item count in `backup_snapshot_chunks`; the
//! snapshot's row goes in with its chunk list in one transaction, after every chunk is stored.
//!
//! Chunk boundaries are content-defined: a chunk ends after an item whose key hashes below a
//! threshold (once the chunk holds half the bound; always at twice it), so a change to one item
//! moves the boundaries of its own chunk only. That lets a full merge list a previous chunk that
//! no change touched as it is — same object, sealed identity recorded in its row — instead of
//! rewriting it (see [`crate::replay::Merge`]): a merge costs what changed, not the account.
//!
//! Chunk names are fixed by the snapshot and index, and a run's chunk boundaries are fixed by
//! its input, so a run that died part-way is simply run again: a chunk that is already stored
//! is kept if it holds exactly what this run would write.

use chrono::{DateTime, Utc};
use domain::resource::ResourceType;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, TransactionTrait};
use sha2::{Digest, Sha256};

use crate::cpu;
use crate::entities::{backup_snapshot, backup_snapshot_chunk};
use crate::error::BackupError;
use crate::keys::DataKey;
use crate::replay::AccountAt;
use crate::segment::{self, Entry};
use crate::storage::BackupStorage;

/// How large chunks grow (plain bytes): `bytes` on average, between half and twice that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkBounds {
    pub bytes: usize,
}

impl ChunkBounds {
    /// What the service uses: tens of MiB keep the chunk count small and a chunk's memory modest.
    pub const DEFAULT: Self = Self { bytes: 16 * 1024 * 1024 };

    /// Whether a chunk holding `len` bytes ends after its last row (`row` bytes, keyed
    /// `pk`/`id`). Past half the bound, each row ends it with a chance of its size over the
    /// other half, decided by its key's hash: the same rows cut in the same places whatever
    /// came before them, and a chunk averages `bytes` whatever the item size.
    fn ends_after(self, len: usize, row: usize, pk: &str, id: &str) -> bool {
        let min = self.bytes / 2;
        if len >= self.bytes.saturating_mul(2) {
            return true;
        }
        if len < min {
            return false;
        }
        let span = (self.bytes - min).max(1) as u128;
        ((u128::from(key_hash(pk, id)) * span) >> 64) < row as u128
    }
}

/// A fixed, well-mixed 64-bit hash of an item's key (FNV-1a, then SplitMix64's finaliser):
/// where chunks end must not change between versions or processes.
fn key_hash(pk: &str, id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in pk.bytes().chain([0xff]).chain(id.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// One item of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The partition key as the engine stores it (a JSON array, as text).
    pub pk: String,
    pub id: String,
    /// The whole item as JSON, system properties included.
    pub body: String,
}

/// One row of a chunk: an item, or (in a delta) its deletion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub pk: String,
    pub id: String,
    /// `None`: deleted since the parent snapshot.
    pub body: Option<String>,
}

impl Row {
    /// The item, unless the row is a deletion.
    pub fn into_item(self) -> Option<Item> {
        Some(Item { pk: self.pk, id: self.id, body: self.body? })
    }
}

/// The prefix every chunk of a snapshot is stored under.
pub fn prefix(account_id: &str, seq: i64) -> String {
    format!("accounts/{account_id}/snapshots/{seq:020}/")
}

fn chunk_key(account_id: &str, seq: i64, idx: i32) -> String {
    format!("{}{idx:06}.chunk", prefix(account_id, seq))
}

fn chunk_aad(account_id: &str, seq: i64, idx: i32, database: &str, container: &str) -> Vec<u8> {
    format!("rewind/backup/v2/{account_id}/snapshot/{seq}/chunk/{idx}\n{database}\n{container}").into_bytes()
}

/// A task that stops when its handle is dropped, so a writer or reader dropped part-way leaves
/// nothing running behind it.
pub(crate) struct AbortOnDrop<T>(pub(crate) tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> AbortOnDrop<T> {
    pub(crate) async fn join(mut self) -> Result<T, BackupError> {
        (&mut self.0).await.map_err(|e| BackupError::Invalid(format!("a backup task failed: {e}")))
    }
}

/// A chunk stored: its manifest row, and the buffer it was written from (for the next).
type Stored = (backup_snapshot_chunk::Model, Vec<u8>);

/// Writes one snapshot, chunk by chunk: the databases and containers first, then each
/// container's items in (partition key, id) order. One chunk is sealed and stored while the
/// next one fills.
pub struct SnapshotWriter {
    storage: BackupStorage,
    key: DataKey,
    account_id: String,
    seq: i64,
    bounds: ChunkBounds,
    parent_seq: Option<i64>,
    chunks: Vec<backup_snapshot_chunk::Model>,
    /// The container the open chunk belongs to.
    open: Option<(String, String)>,
    /// The key of the open chunk's first row.
    first: Option<(String, String)>,
    buf: Vec<u8>,
    buf_items: i64,
    /// The chunk being sealed and stored (at most one); it hands its buffer back for the next.
    in_flight: Option<AbortOnDrop<Result<Stored, BackupError>>>,
    /// A buffer to fill next, so that chunk after chunk reuses the same two allocations.
    spare: Option<Vec<u8>>,
    next_idx: i32,
}

impl SnapshotWriter {
    /// Starts full snapshot `seq` of `account_id` and stores its chunk 0: `meta`'s databases
    /// and containers (its items, if any, are not written; push them).
    ///
    /// # Errors
    /// Storage errors; [`BackupError::Integrity`] if a different chunk 0 is stored already.
    pub async fn start(
        storage: &BackupStorage,
        key: DataKey,
        account_id: &str,
        seq: i64,
        bounds: ChunkBounds,
        meta: &AccountAt,
    ) -> Result<Self, BackupError> {
        Self::start_layer(storage, key, account_id, seq, bounds, meta, None, &[]).await
    }

    /// Starts delta snapshot `seq` on the snapshot at `parent_seq`: `meta` as of `seq`, and the
    /// containers reset since the parent.
    ///
    /// # Errors
    /// As [`SnapshotWriter::start`].
    #[allow(clippy::too_many_arguments)]
    pub async fn start_layer(
        storage: &BackupStorage,
        key: DataKey,
        account_id: &str,
        seq: i64,
        bounds: ChunkBounds,
        meta: &AccountAt,
        parent_seq: Option<i64>,
        resets: &[(String, String)],
    ) -> Result<Self, BackupError> {
        let mut w = Self {
            storage: storage.clone(),
            key,
            account_id: account_id.to_owned(),
            seq,
            bounds,
            parent_seq,
            chunks: Vec::new(),
            open: None,
            first: None,
            buf: Vec::new(),
            buf_items: 0,
            in_flight: None,
            spare: None,
            next_idx: 0,
        };
        let mut entries = meta.to_entries(seq, DateTime::<Utc>::UNIX_EPOCH);
        entries.extend(resets.iter().map(|(database, container)| Entry {
            seq,
            committed_at: DateTime::<Utc>::UNIX_EPOCH,
            op: domain::resource::ChangeOp::Reset,
            resource_type: ResourceType::Reset,
            database_id: database.clone(),
            container_id: container.clone(),
            pk: None,
            item_id: None,
            body: None,
        }));
        for e in entries {
            serde_json::to_writer(&mut w.buf, &e).map_err(|e| BackupError::Invalid(format!("entry does not serialise: {e}")))?;
            w.buf.push(b'\n');
        }
        w.open = Some((String::new(), String::new()));
        w.seal().await?;
        Ok(w)
    }

    /// Adds an item of `database`/`container`; items of one container come together and in
    /// (partition key, id) order.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn push(&mut self, database: &str, container: &str, item: &Item) -> Result<(), BackupError> {
        self.push_row(database, container, &item.pk, &item.id, Some(&item.body)).await
    }

    /// Adds a row (`body` `None`: a deletion, in a delta), in the order of [`Self::push`].
    ///
    /// # Errors
    /// Storage errors; [`BackupError::Invalid`] for a body that is not compact JSON.
    pub async fn push_row(&mut self, database: &str, container: &str, pk: &str, id: &str, body: Option<&str>) -> Result<(), BackupError> {
        // Rows come from memory and rarely make the task wait, so without this a snapshot would
        // hold its runtime thread for a whole chunk, and a data-plane request woken on that
        // thread would wait behind it. A unit of the task's budget per row lets it run its
        // share and then step aside.
        tokio::task::coop::consume_budget().await;
        if self.open.as_ref().is_some_and(|(d, c)| d != database || c != container) {
            self.seal().await?;
        }
        if self.open.is_none() {
            self.open = Some((database.to_owned(), container.to_owned()));
        }
        let body = body.unwrap_or_default();
        if memchr::memchr2(b'\n', b'\t', body.as_bytes()).is_some() || (self.parent_seq.is_none() && body.is_empty()) {
            return Err(BackupError::Invalid(format!("item {id:?} is not compact JSON")));
        }
        if self.first.is_none() {
            self.first = Some((pk.to_owned(), id.to_owned()));
        }
        let start = self.buf.len();
        push_json_string(&mut self.buf, pk)?;
        self.buf.push(b'\t');
        push_json_string(&mut self.buf, id)?;
        self.buf.push(b'\t');
        self.buf.extend_from_slice(body.as_bytes());
        self.buf.push(b'\n');
        self.buf_items += 1;
        if self.bounds.ends_after(self.buf.len(), self.buf.len() - start, pk, id) {
            self.seal().await?;
        }
        Ok(())
    }

    /// Whether the next row of `database`/`container` would start a chunk.
    pub fn at_boundary(&self, database: &str, container: &str) -> bool {
        self.open.as_ref().is_none_or(|(d, c)| d != database || c != container)
    }

    /// Lists `chunk` of an earlier snapshot (of the same account and container, holding exactly
    /// the rows that come next) as this snapshot's next chunk, without rewriting it. Only at a
    /// boundary.
    ///
    /// # Errors
    /// Those of storing the chunk before; [`BackupError::Invalid`] when a chunk is open.
    pub async fn reuse(&mut self, chunk: &backup_snapshot_chunk::Model) -> Result<(), BackupError> {
        if !self.at_boundary(&chunk.database_id, &chunk.container_id) || chunk.account_id != self.account_id || chunk.idx == 0 {
            return Err(BackupError::Invalid(format!("{} cannot be carried over here", chunk.object_key)));
        }
        // Another container's open chunk ends here.
        self.seal().await?;
        let idx = self.next_idx;
        self.next_idx = idx.checked_add(1).ok_or_else(|| BackupError::Invalid("too many chunks in one snapshot".into()))?;
        // The list stays in order: the chunk being stored goes first.
        self.wait().await?;
        let (sealed_seq, sealed_idx) = chunk.sealed_as();
        self.chunks.push(backup_snapshot_chunk::Model {
            seq: self.seq,
            idx,
            sealed_seq: Some(sealed_seq),
            sealed_idx: Some(sealed_idx),
            ..chunk.clone()
        });
        Ok(())
    }

    /// Hands the open chunk to a task that seals and stores it, once the one before is stored.
    async fn seal(&mut self) -> Result<(), BackupError> {
        let Some((database, container)) = self.open.take() else { return Ok(()) };
        let idx = self.next_idx;
        self.next_idx = idx.checked_add(1).ok_or_else(|| BackupError::Invalid("too many chunks in one snapshot".into()))?;
        let next = self.spare.take().unwrap_or_else(|| Vec::with_capacity(self.bounds.bytes.min(64 << 20)));
        let plain = std::mem::replace(&mut self.buf, next);
        let items = std::mem::take(&mut self.buf_items);
        let (first_pk, first_id) = self.first.take().unzip();
        self.wait().await?;
        let (storage, key, account_id, seq) = (self.storage.clone(), self.key.clone(), self.account_id.clone(), self.seq);
        self.in_flight = Some(AbortOnDrop(tokio::spawn(async move {
            let name = chunk_key(&account_id, seq, idx);
            let aad = chunk_aad(&account_id, seq, idx, &database, &container);
            let chunk_aad_again = aad.clone();
            let plain = std::sync::Arc::new(plain);
            let (to_seal, sealing_key) = (plain.clone(), key.clone());
            let sealed = cpu::run(move || segment::seal_plain(&sealing_key, &aad, &to_seal)).await?;
            // One an earlier run of this snapshot stored is kept if it holds the same.
            let expected = plain.clone();
            let check_name = name.clone();
            let stored = storage
                .put_sealed(&name, sealed, move |existing| {
                    if segment::open_plain(&key, &chunk_aad_again, &check_name, existing)? != *expected {
                        return Err(BackupError::Integrity(format!("{check_name} is stored already with other contents")));
                    }
                    Ok(())
                })
                .await?;
            // The check is done with its copy: the buffer comes back for the next chunk.
            let plain = std::sync::Arc::try_unwrap(plain).unwrap_or_else(|shared| (*shared).clone());
            let (sha, len) = (stored.sha256, stored.len);
            let row = backup_snapshot_chunk::Model {
                account_id,
                seq,
                idx,
                database_id: database,
                container_id: container,
                items,
                bytes: i64::try_from(len).unwrap_or(i64::MAX),
                sha256: sha,
                object_key: name,
                first_pk,
                first_id,
                sealed_seq: None,
                sealed_idx: None,
            };
            Ok((row, plain))
        })));
        Ok(())
    }

    /// Waits for the chunk being stored, and lists it.
    async fn wait(&mut self) -> Result<(), BackupError> {
        if let Some(task) = self.in_flight.take() {
            let (row, mut buf) = task.join().await??;
            self.chunks.push(row);
            buf.clear();
            self.spare = Some(buf);
        }
        Ok(())
    }

    /// Stores the last chunk and records the snapshot (dated `taken_at`) with its chunk list, in
    /// one transaction. A snapshot recorded already at this change (by another run) stands.
    ///
    /// # Errors
    /// Storage and database errors.
    pub async fn finish(mut self, db: &DatabaseConnection, taken_at: DateTime<Utc>) -> Result<backup_snapshot::Model, BackupError> {
        self.seal().await?;
        self.wait().await?;
        let row = backup_snapshot::Model {
            account_id: self.account_id.clone(),
            seq: self.seq,
            taken_at,
            object_key: prefix(&self.account_id, self.seq),
            bytes: self.chunks.iter().map(|c| c.bytes).sum(),
            sha256: list_hash(&self.chunks),
            items: self.chunks.iter().skip(1).map(|c| c.items).sum(),
            created_at: Utc::now(),
            chunks: i32::try_from(self.chunks.len()).unwrap_or(i32::MAX),
            parent_seq: self.parent_seq,
            journaled: false,
        };
        // The transaction writes first: on SQLite one that reads first cannot become a writer
        // once another connection has written.
        let txn = db.begin().await?;
        let inserted = backup_snapshot::Entity::insert(backup_snapshot::ActiveModel::from(row.clone()))
            .on_conflict_do_nothing()
            .exec_without_returning(&txn)
            .await?;
        if !matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0) {
            txn.rollback().await?;
            let existing = backup_snapshot::Entity::find_by_id((row.account_id.clone(), row.seq)).one(db).await?;
            return existing.ok_or_else(|| BackupError::Integrity(format!("snapshot {} vanished as it was recorded", row.object_key)));
        }
        for part in self.chunks.chunks(500) {
            let rows = part.iter().cloned().map(backup_snapshot_chunk::ActiveModel::from);
            backup_snapshot_chunk::Entity::insert_many(rows).exec(&txn).await?;
        }
        txn.commit().await?;
        Ok(row)
    }
}

/// The hash a snapshot's row holds of its chunk list (`index hash` lines, in order, with the
/// sealed identity of a chunk carried over), so that a chunk list cut short, reordered or
/// pointed at other objects is noticed.
fn list_hash(chunks: &[backup_snapshot_chunk::Model]) -> String {
    let mut list = String::new();
    for c in chunks {
        match (c.sealed_seq, c.sealed_idx) {
            (Some(seq), Some(idx)) => list.push_str(&format!("{} {} {seq}/{idx}\n", c.idx, c.sha256)),
            _ => list.push_str(&format!("{} {}\n", c.idx, c.sha256)),
        }
    }
    hex::encode(Sha256::digest(list.as_bytes()))
}

/// A snapshot as a restore reads it: its chunk list (or, from before chunking, its one object).
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub row: backup_snapshot::Model,
    chunks: Vec<backup_snapshot_chunk::Model>,
}

impl Snapshot {
    /// Loads the chunk list of `row`, checking it against the snapshot's hash.
    ///
    /// # Errors
    /// [`BackupError::Integrity`] when the list is incomplete or altered.
    pub async fn load(db: &DatabaseConnection, row: backup_snapshot::Model) -> Result<Self, BackupError> {
        let chunks = backup_snapshot_chunk::Entity::find()
            .filter(backup_snapshot_chunk::Column::AccountId.eq(&row.account_id))
            .filter(backup_snapshot_chunk::Column::Seq.eq(row.seq))
            .order_by_asc(backup_snapshot_chunk::Column::Idx)
            .all(db)
            .await?;
        if row.chunks > 0 {
            let in_order = chunks.iter().enumerate().all(|(i, c)| usize::try_from(c.idx).is_ok_and(|x| x == i));
            if chunks.len() != usize::try_from(row.chunks).unwrap_or(0) || !in_order || list_hash(&chunks) != row.sha256 {
                return Err(BackupError::Integrity(format!("the chunk list of snapshot {} does not match its manifest", row.object_key)));
            }
        }
        Ok(Self { row, chunks })
    }

    /// The chunk list, in order (empty for a snapshot from before chunking).
    pub fn chunks(&self) -> &[backup_snapshot_chunk::Model] {
        &self.chunks
    }

    /// Rows of `database`/`container` in the snapshot, per its chunk list.
    pub fn items_of(&self, database: &str, container: &str) -> u64 {
        self.chunks.iter().filter(|c| c.database_id == database && c.container_id == container).map(|c| c.items.unsigned_abs()).sum()
    }

    /// How many chunks hold `database`/`container`'s items, and their stored bytes.
    pub fn chunks_of(&self, database: &str, container: &str) -> (u64, u64) {
        self.chunks
            .iter()
            .filter(|c| c.database_id == database && c.container_id == container)
            .fold((0, 0), |(n, b), c| (n + 1, b + c.bytes.unsigned_abs()))
    }

    /// Whether every chunk of `database`/`container` records where it starts, so a merge can
    /// carry untouched ones over (not so for chunks written before that was recorded).
    pub(crate) fn can_carry_over(&self, database: &str, container: &str) -> bool {
        self.row.chunks > 0
            && self.chunks.iter().filter(|c| c.database_id == database && c.container_id == container).all(|c| c.first_key().is_some())
    }

    /// The snapshot's databases and containers, and (for a delta) the containers reset since its
    /// parent.
    ///
    /// # Errors
    /// Integrity, storage errors.
    pub async fn meta(&self, storage: &BackupStorage, key: &DataKey) -> Result<(AccountAt, Vec<(String, String)>), BackupError> {
        let entries = if self.row.chunks == 0 {
            self.legacy(storage, key).await?
        } else {
            let c = self.chunks.first().ok_or_else(|| BackupError::Integrity(format!("{} has no chunk 0", self.row.object_key)))?;
            segment::parse_entries(&c.object_key, &fetch(storage, key, c).await?)?
        };
        let mut meta = AccountAt::default();
        let mut resets = Vec::new();
        for e in entries.into_iter().filter(|e| e.resource_type != ResourceType::Item) {
            if e.resource_type == ResourceType::Reset {
                resets.push((e.database_id, e.container_id));
            } else {
                meta.apply(&e);
            }
        }
        Ok((meta, resets))
    }

    async fn legacy(&self, storage: &BackupStorage, key: &DataKey) -> Result<Vec<Entry>, BackupError> {
        let bytes = storage.get_checked(&self.row.object_key, &self.row.sha256).await?;
        segment::open_snapshot(key, &self.row.account_id, self.row.seq, bytes)
    }

    /// A cursor over the rows of `database`/`container`, chunk by chunk.
    ///
    /// # Errors
    /// For a snapshot from before chunking, those of reading its object.
    pub async fn items(&self, storage: &BackupStorage, key: &DataKey, database: &str, container: &str) -> Result<ChunkCursor, BackupError> {
        let mut cursor = ChunkCursor {
            storage: storage.clone(),
            key: key.clone(),
            pending: Vec::new(),
            read_ahead: true,
            prefetch: None,
            plain: Vec::new(),
            pos: 0,
            current: None,
            seen: 0,
        };
        if self.row.chunks == 0 {
            // One object from before chunking: its items of this container, as one chunk.
            let mut items: Vec<Item> = self
                .legacy(storage, key)
                .await?
                .into_iter()
                .filter(|e| e.resource_type == ResourceType::Item && e.database_id == database && e.container_id == container)
                .map(|e| Item { pk: e.pk.unwrap_or_default(), id: e.item_id.unwrap_or_default(), body: e.body.unwrap_or_default() })
                .collect();
            items.sort_by(|a, b| (&a.pk, &a.id).cmp(&(&b.pk, &b.id)));
            for i in items {
                cursor.plain.extend_from_slice(line(&i).as_bytes());
            }
        } else {
            cursor.pending = self
                .chunks
                .iter()
                .filter(|c| c.idx > 0 && c.database_id == database && c.container_id == container)
                .rev()
                .cloned()
                .collect();
        }
        Ok(cursor)
    }
}

/// Appends `s` as a JSON string: quoted as is when nothing in it needs escaping (the usual
/// key), through serde_json otherwise.
fn push_json_string(buf: &mut Vec<u8>, s: &str) -> Result<(), BackupError> {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        buf.push(b'"');
        buf.extend_from_slice(s.as_bytes());
        buf.push(b'"');
        return Ok(());
    }
    serde_json::to_writer(&mut *buf, s).map_err(|e| BackupError::Invalid(format!("item key does not serialise: {e}")))
}

fn line(i: &Item) -> String {
    format!("{}\t{}\t{}\n", serde_json::Value::from(i.pk.as_str()), serde_json::Value::from(i.id.as_str()), i.body)
}

async fn fetch(storage: &BackupStorage, key: &DataKey, c: &backup_snapshot_chunk::Model) -> Result<Vec<u8>, BackupError> {
    let bytes = storage.get_checked(&c.object_key, &c.sha256).await?;
    let (key, c) = (key.clone(), c.clone());
    cpu::run(move || open_chunk(&key, &c, bytes)).await
}

/// Opens a stored chunk under the identity its row says it was sealed with.
///
/// # Errors
/// [`BackupError::Integrity`] when it was altered, moved or is another chunk.
pub fn open_chunk(key: &DataKey, c: &backup_snapshot_chunk::Model, bytes: Vec<u8>) -> Result<Vec<u8>, BackupError> {
    let (seq, idx) = c.sealed_as();
    segment::open_plain(key, &chunk_aad(&c.account_id, seq, idx, &c.database_id, &c.container_id), &c.object_key, bytes)
}

/// Reads one container's items out of a snapshot's chunks, holding one chunk at a time.
pub struct ChunkCursor {
    storage: BackupStorage,
    key: DataKey,
    /// Chunks still to read, last first.
    pending: Vec<backup_snapshot_chunk::Model>,
    /// Whether the next chunk is fetched while this one is read (see [`ChunkCursor::one_at_a_time`]).
    read_ahead: bool,
    /// The next chunk (the last of `pending`), being fetched and opened while this one is read.
    prefetch: Option<AbortOnDrop<Result<Vec<u8>, BackupError>>>,
    plain: Vec<u8>,
    pos: usize,
    /// The chunk being read (checked against its item count when it ends).
    current: Option<backup_snapshot_chunk::Model>,
    seen: i64,
}

impl ChunkCursor {
    /// Holds one chunk at a time instead of reading the next one ahead: for the deltas of a
    /// merge, so that a stack of them costs one chunk each.
    #[must_use]
    pub fn one_at_a_time(mut self) -> Self {
        self.read_ahead = false;
        self
    }

    /// The next item, or `None` after the last.
    ///
    /// # Errors
    /// [`BackupError::Integrity`] for a chunk that is missing, altered, unreadable or holds
    /// another number of items than its manifest line says.
    pub async fn next(&mut self) -> Result<Option<Row>, BackupError> {
        loop {
            if let Some(row) = self.next_in_chunk()? {
                return Ok(Some(row));
            }
            if !self.open_next().await? {
                return Ok(None);
            }
        }
    }

    /// The chunk that [`Self::open_next`] would open, and the one after it.
    pub(crate) fn upcoming(&self) -> (Option<&backup_snapshot_chunk::Model>, Option<&backup_snapshot_chunk::Model>) {
        let n = self.pending.len();
        (self.pending.last(), n.checked_sub(2).and_then(|i| self.pending.get(i)))
    }

    /// Passes over the upcoming chunk without reading it.
    pub(crate) fn skip(&mut self) -> Option<backup_snapshot_chunk::Model> {
        self.prefetch = None;
        self.pending.pop()
    }

    /// Whether opening a chunk starts fetching the one after it.
    pub(crate) fn set_read_ahead(&mut self, on: bool) {
        self.read_ahead = on;
    }

    /// Opens the upcoming chunk (the current one must be read to its end); `false` when none
    /// is left.
    ///
    /// # Errors
    /// As [`Self::next`].
    pub(crate) async fn open_next(&mut self) -> Result<bool, BackupError> {
        self.close()?;
        let Some(c) = self.pending.pop() else { return Ok(false) };
        self.plain = match self.prefetch.take() {
            Some(task) => task.join().await??,
            None => fetch(&self.storage, &self.key, &c).await?,
        };
        if let Some(next) = self.pending.last().cloned().filter(|_| self.read_ahead) {
            let (storage, key) = (self.storage.clone(), self.key.clone());
            self.prefetch = Some(AbortOnDrop(tokio::spawn(async move { fetch(&storage, &key, &next).await })));
        }
        self.pos = 0;
        self.seen = 0;
        self.current = Some(c);
        Ok(true)
    }

    /// Ends the open chunk (read to its end), checking it held as many items as its manifest
    /// line says.
    ///
    /// # Errors
    /// [`BackupError::Integrity`] when it did not.
    pub(crate) fn close(&mut self) -> Result<(), BackupError> {
        if let Some(c) = self.current.take()
            && c.items != self.seen
        {
            return Err(BackupError::Integrity(format!("{} holds {} items, its manifest says {}", c.object_key, self.seen, c.items)));
        }
        Ok(())
    }

    /// The next row of the open chunk, or `None` at its end.
    ///
    /// # Errors
    /// [`BackupError::Integrity`] for a row that does not parse.
    pub(crate) fn next_in_chunk(&mut self) -> Result<Option<Row>, BackupError> {
        if self.pos >= self.plain.len() {
            return Ok(None);
        }
        let rest = &self.plain[self.pos..];
        let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        let line = &rest[..end];
        self.pos += end + 1;
        self.seen += 1;
        let name = || self.current.as_ref().map_or("a snapshot", |c| c.object_key.as_str()).to_owned();
        let bad = || BackupError::Integrity(format!("{}: holds an unreadable item", name()));
        // The key fields are JSON strings, which hold no tab: the first two tabs end them.
        let mut tabs = memchr::memchr_iter(b'\t', line);
        let (Some(t1), Some(t2)) = (tabs.next(), tabs.next()) else { return Err(bad()) };
        let (pk, id, body) = (&line[..t1], &line[t1 + 1..t2], &line[t2 + 1..]);
        Ok(Some(Row {
            pk: serde_json::from_slice(pk).map_err(|_| bad())?,
            id: serde_json::from_slice(id).map_err(|_| bad())?,
            body: if body.is_empty() { None } else { Some(String::from_utf8(body.to_vec()).map_err(|_| bad())?) },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_written_as_serde_json_writes_them() {
        for key in ["plain", "", "with \"quotes\"", "back\\slash", "tab\there", "line\nbreak", "\u{1}ctl", "ünï €", "[\"a\",1]"] {
            let mut buf = Vec::new();
            push_json_string(&mut buf, key).unwrap();
            assert_eq!(String::from_utf8(buf).unwrap(), serde_json::to_string(key).unwrap(), "{key:?}");
        }
    }

    fn entry(resource_type: ResourceType, container: &str, id: Option<&str>) -> Entry {
        Entry {
            seq: 9,
            committed_at: Utc::now(),
            op: domain::resource::ChangeOp::Create,
            resource_type,
            database_id: "db".into(),
            container_id: container.into(),
            pk: id.map(|_| "[\"p\"]".into()),
            item_id: id.map(Into::into),
            body: Some(id.map_or_else(|| format!("{{\"id\":\"{container}\"}}"), |i| format!("{{\"id\":\"{i}\"}}"))),
        }
    }

    #[tokio::test]
    async fn a_snapshot_from_before_chunking_still_reads() {
        let dir = tempfile::tempdir().unwrap();
        let storage = BackupStorage::local(dir.path()).unwrap();
        let key = DataKey::generate();
        let entries = vec![
            entry(ResourceType::Database, "", None),
            entry(ResourceType::Container, "c", None),
            entry(ResourceType::Item, "c", Some("b")),
            entry(ResourceType::Item, "c", Some("a")),
        ];
        let sealed = segment::seal_snapshot(&key, "acct", 9, &entries).unwrap();
        let name = segment::snapshot_key("acct", 9);
        storage.put_new(&name, sealed.clone()).await.unwrap();
        let row = backup_snapshot::Model {
            account_id: "acct".into(),
            seq: 9,
            taken_at: Utc::now(),
            object_key: name,
            bytes: 0,
            sha256: hex::encode(Sha256::digest(&sealed)),
            items: 2,
            created_at: Utc::now(),
            chunks: 0,
            parent_seq: None,
            journaled: false,
        };
        let snapshot = Snapshot { row, chunks: Vec::new() };
        let (meta, _) = snapshot.meta(&storage, &key).await.unwrap();
        assert_eq!(meta.databases["db"].containers.keys().collect::<Vec<_>>(), ["c"]);
        let mut items = snapshot.items(&storage, &key, "db", "c").await.unwrap();
        let mut ids = Vec::new();
        while let Some(i) = items.next().await.unwrap() {
            ids.push(i.id);
        }
        assert_eq!(ids, ["a", "b"], "items come sorted");
    }

    /// Where a run of (key, row size) is cut by `bounds`: the byte offsets after each chunk.
    fn cuts(bounds: ChunkBounds, rows: &[(String, usize)]) -> Vec<usize> {
        let (mut out, mut len, mut at) = (Vec::new(), 0, 0);
        for (id, size) in rows {
            len += size;
            at += size;
            if bounds.ends_after(len, *size, "[\"p\"]", id) {
                out.push(at);
                len = 0;
            }
        }
        out
    }

    #[test]
    fn chunks_average_their_bound_whatever_the_item_size_and_stay_within_half_and_twice_it() {
        let bounds = ChunkBounds { bytes: 64 * 1024 };
        for size in [100, 1_000, 10_000] {
            let rows: Vec<(String, usize)> = (0..(20_000_000 / size)).map(|i| (format!("item-{i:09}"), size)).collect();
            let ends = cuts(bounds, &rows);
            let lens: Vec<usize> = ends.iter().scan(0, |prev, &e| Some(e - std::mem::replace(prev, e))).collect();
            let mean = lens.iter().sum::<usize>() as f64 / lens.len() as f64;
            assert!((0.8..1.25).contains(&(mean / bounds.bytes as f64)), "{size}-byte items: mean chunk {mean}");
            assert!(lens.iter().all(|&l| l >= bounds.bytes / 2 && l < bounds.bytes * 2 + size), "{size}-byte items");
        }
    }

    #[test]
    fn a_changed_item_moves_the_boundaries_near_it_only() {
        let bounds = ChunkBounds { bytes: 16 * 1024 };
        let mut rows: Vec<(String, usize)> = (0..50_000).map(|i| (format!("item-{i:09}"), 200)).collect();
        let before = cuts(bounds, &rows);
        rows[20_000].1 = 3_000; // one item grows
        rows.insert(30_000, ("item-000030000a".into(), 200)); // one is added
        let after = cuts(bounds, &rows);
        let shifted: std::collections::BTreeSet<usize> = after
            .iter()
            .map(|&e| {
                if e > 30_000 * 200 + 2_800 {
                    e - 3_000
                } else if e > 20_000 * 200 {
                    e - 2_800
                } else {
                    e
                }
            })
            .collect();
        let same = before.iter().filter(|e| shifted.contains(e)).count();
        assert!(same + 6 >= before.len(), "{same} of {} boundaries stay where they were", before.len());
    }

    #[test]
    fn an_item_line_splits_back_into_its_parts() {
        let i = Item { pk: "[\"a\\tb\"]".into(), id: "x\ty\"z".into(), body: "{\"id\":\"x\\ty\\\"z\"}".into() };
        let l = line(&i);
        assert_eq!(l.matches('\t').count(), 2);
        assert_eq!(l.matches('\n').count(), 1);
    }
}
