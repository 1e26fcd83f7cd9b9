//! Backup verification (SPEC §3): walks an account's catalog and checks, in every store of its
//! redundancy, that each object it names is there — and, deep, that its hash and authentication
//! tag are right and it holds what its manifest says (a segment its range of changes, a chunk
//! its count of items). The chains are checked too: segments follow one another without a gap,
//! each naming the hash of the one before; journal records likewise; a snapshot's chunk list
//! matches its hash. Every problem names the object and the store; nothing stops at the first.

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::fmt;

use crate::chunk::{Snapshot, open_chunk};
use crate::entities::{backup_journal, backup_key, backup_segment, backup_snapshot};
use crate::error::BackupError;
use crate::journal;
use crate::keys::{DataKey, KeyWrapKey};
use crate::segment;
use crate::ship::GENESIS;
use crate::storage::{BackupStorage, Store};
use crate::{cpu, entities::backup_snapshot_chunk};

/// How much a verification reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// Every object present, at its recorded size, in every store; the chains and lists checked.
    Presence,
    /// Also every copy read: its hash, its authentication tag and its contents checked.
    Deep,
}

/// One thing wrong, named by object and store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub object: String,
    /// The store the copy is in; empty for a problem of the catalog itself.
    pub store: String,
    pub what: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.store.is_empty() {
            write!(f, "{}: {}", self.object, self.what)
        } else {
            write!(f, "{} in {}: {}", self.object, self.store, self.what)
        }
    }
}

/// What a verification found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Object copies checked.
    pub objects: u64,
    /// Their size as stored.
    pub bytes: u64,
    pub problems: Vec<Problem>,
}

impl Report {
    fn problem(&mut self, object: &str, store: &str, what: impl Into<String>) {
        self.problems.push(Problem { object: object.to_owned(), store: store.to_owned(), what: what.into() });
    }
}

/// Segment rows read at a time: the log of a busy account has millions.
const PAGE: u64 = 500;

/// Verifies the backups of `account_id`, whose redundancy is `redundancy`.
///
/// # Errors
/// Database errors and a redundancy this server keeps no store for; everything wrong with the
/// backups themselves is in the report.
pub async fn account(
    db: &DatabaseConnection,
    storage: &BackupStorage,
    kek: &KeyWrapKey,
    account_id: &str,
    redundancy: domain::Redundancy,
    depth: Depth,
) -> Result<Report, BackupError> {
    let mut report = Report::default();
    let Some(key_row) = backup_key::Entity::find_by_id(account_id.to_owned()).one(db).await? else {
        return Ok(report); // nothing backed up yet
    };
    let stores = storage.copies(redundancy)?;
    let key = match kek.unwrap(account_id, &key_row.wrapped_key, &key_row.wrapped_by) {
        Ok(key) => key,
        Err(e) => {
            report.problem(&format!("the data key of account {account_id}"), "", e.to_string());
            return Ok(report);
        }
    };
    for store in &stores {
        key_copy(store, &key_row, &mut report).await;
    }
    if let Some(head) = backup_journal::Entity::find_by_id(account_id.to_owned()).one(db).await? {
        for store in &stores {
            journal_copy(store, &key, &head, &mut report).await;
        }
    }
    segments(db, &stores, &key, account_id, depth, &mut report).await?;
    snapshots(db, &stores, &key, account_id, depth, &mut report).await?;
    Ok(report)
}

/// The store's newest key object must hold the catalog's wrapping of the data key.
async fn key_copy(store: &Store, row: &backup_key::Model, report: &mut Report) {
    let newest = store.list(&format!("accounts/{}/keys/", row.account_id)).await.map(|mut names| {
        names.sort_unstable();
        names.pop()
    });
    let name = match newest {
        Ok(Some(name)) => name,
        Ok(None) => return report.problem(&journal::key_object(&row.account_id, 1), store.label(), "missing"),
        Err(e) => return report.problem(&journal::key_object(&row.account_id, 1), store.label(), e.to_string()),
    };
    report.objects += 1;
    match store.get(&name).await {
        Ok(bytes) => {
            report.bytes += bytes.len() as u64;
            match serde_json::from_slice::<backup_key::Model>(&bytes) {
                Ok(stored) if stored.wrapped_key == row.wrapped_key => {}
                Ok(_) => report.problem(&name, store.label(), "holds another data key than the catalog"),
                Err(e) => report.problem(&name, store.label(), format!("not a key record ({e})")),
            }
        }
        Err(e) => report.problem(&name, store.label(), unreadable(&e)),
    }
}

async fn journal_copy(store: &Store, key: &DataKey, head: &backup_journal::Model, report: &mut Report) {
    let account_id = &head.account_id;
    let mut names = match store.list(&format!("accounts/{account_id}/journal/")).await {
        Ok(names) => names,
        Err(e) => return report.problem(&format!("the journal of account {account_id}"), store.label(), e.to_string()),
    };
    names.sort_unstable();
    let mut prev = GENESIS.to_owned();
    for n in 1..=head.last_n.max(i64::try_from(names.len()).unwrap_or(i64::MAX)) {
        let name = journal::record_object(account_id, n);
        report.objects += 1;
        let bytes = match store.get(&name).await {
            Ok(bytes) => bytes,
            Err(e) => {
                report.problem(&name, store.label(), unreadable(&e));
                prev = String::new();
                continue;
            }
        };
        report.bytes += bytes.len() as u64;
        let sha = hex::encode(Sha256::digest(&bytes));
        match journal::open(key, account_id, n, Vec::from(bytes)) {
            Ok(entry) if !prev.is_empty() && entry.prev_sha256 != prev => {
                report.problem(&name, store.label(), format!("does not follow record {} (the chain is broken)", n - 1));
            }
            Ok(_) => {}
            Err(e) => report.problem(&name, store.label(), e.to_string()),
        }
        prev = sha;
    }
}

async fn segments(
    db: &DatabaseConnection,
    stores: &[Store],
    key: &DataKey,
    account_id: &str,
    depth: Depth,
    report: &mut Report,
) -> Result<(), BackupError> {
    let mut prev: Option<backup_segment::Model> = None;
    loop {
        let after = prev.as_ref().map_or(i64::MIN, |p| p.first_seq);
        let page = backup_segment::Entity::find()
            .filter(backup_segment::Column::AccountId.eq(account_id))
            .filter(backup_segment::Column::FirstSeq.gt(after))
            .order_by_asc(backup_segment::Column::FirstSeq)
            .limit(PAGE)
            .all(db)
            .await?;
        if page.is_empty() {
            return Ok(());
        }
        for s in page {
            if let Some(p) = &prev {
                if s.first_seq != p.last_seq + 1 {
                    report.problem(
                        &s.object_key,
                        "",
                        format!("the log has a gap: changes {} to {} are in no segment", p.last_seq + 1, s.first_seq - 1),
                    );
                } else if s.prev_sha256 != p.sha256 {
                    report.problem(&s.object_key, "", "does not name the segment before it (the chain is broken)");
                }
            }
            for store in stores {
                let (first, last_seq) = (s.first_seq, s.last_seq);
                let open =
                    move |key: DataKey, account: String, bytes: Vec<u8>| segment::open(&key, &account, first, last_seq, bytes).map(|_| ());
                copy(store, key, account_id, &s.object_key, s.bytes, &s.sha256, depth, open, report).await;
            }
            prev = Some(s);
        }
    }
}

async fn snapshots(
    db: &DatabaseConnection,
    stores: &[Store],
    key: &DataKey,
    account_id: &str,
    depth: Depth,
    report: &mut Report,
) -> Result<(), BackupError> {
    let rows = backup_snapshot::Entity::find()
        .filter(backup_snapshot::Column::AccountId.eq(account_id))
        .order_by_asc(backup_snapshot::Column::Seq)
        .all(db)
        .await?;
    // A chunk carried over is listed by every snapshot after it: check each object once.
    let mut seen = HashSet::new();
    for row in rows {
        let snapshot = match Snapshot::load(db, row.clone()).await {
            Ok(s) => s,
            Err(e) => {
                report.problem(&row.object_key, "", e.to_string());
                continue;
            }
        };
        if row.chunks == 0 {
            let seq = row.seq;
            for store in stores {
                let open =
                    move |key: DataKey, account: String, bytes: Vec<u8>| segment::open_snapshot(&key, &account, seq, bytes).map(|_| ());
                copy(store, key, account_id, &row.object_key, row.bytes, &row.sha256, depth, open, report).await;
            }
            continue;
        }
        for c in snapshot.chunks() {
            if !seen.insert(c.object_key.clone()) {
                continue;
            }
            for store in stores {
                let chunk = c.clone();
                let open = move |key: DataKey, _: String, bytes: Vec<u8>| holds_its_items(&key, &chunk, bytes);
                copy(store, key, account_id, &c.object_key, c.bytes, &c.sha256, depth, open, report).await;
            }
        }
    }
    Ok(())
}

/// Opens a chunk and, for one of items (chunk 0 holds the databases and containers), counts
/// them against its manifest line.
fn holds_its_items(key: &DataKey, c: &backup_snapshot_chunk::Model, bytes: Vec<u8>) -> Result<(), BackupError> {
    let plain = open_chunk(key, c, bytes)?;
    if c.idx == 0 {
        return Ok(());
    }
    let rows = plain.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count();
    if i64::try_from(rows).ok() != Some(c.items) {
        return Err(BackupError::Integrity(format!("holds {rows} items, its manifest says {}", c.items)));
    }
    Ok(())
}

/// Checks one copy of an object: present at its size; deep, also its hash and what `open`
/// finds inside.
#[allow(clippy::too_many_arguments)]
async fn copy<F>(
    store: &Store,
    key: &DataKey,
    account_id: &str,
    name: &str,
    bytes: i64,
    sha256: &str,
    depth: Depth,
    open: F,
    report: &mut Report,
) where
    F: FnOnce(DataKey, String, Vec<u8>) -> Result<(), BackupError> + Send + 'static,
{
    report.objects += 1;
    match depth {
        Depth::Presence => match store.size(name).await {
            Ok(Some(size)) => {
                report.bytes += size;
                if i64::try_from(size).ok() != Some(bytes) {
                    report.problem(name, store.label(), format!("is {size} bytes, its manifest says {bytes} (truncated or replaced)"));
                }
            }
            Ok(None) => report.problem(name, store.label(), "missing"),
            Err(e) => report.problem(name, store.label(), e.to_string()),
        },
        Depth::Deep => {
            let stored = match store.get(name).await {
                Ok(stored) => stored,
                Err(e) => return report.problem(name, store.label(), unreadable(&e)),
            };
            report.bytes += stored.len() as u64;
            let (want, key, account) = (sha256.to_owned(), key.clone(), account_id.to_owned());
            let checked = cpu::run(move || {
                let stored = Vec::from(stored);
                if hex::encode(Sha256::digest(&stored)) != want {
                    return Ok(Err("does not match its manifest hash (altered, truncated or replaced)".to_owned()));
                }
                Ok(open(key, account, stored).map_err(|e| e.to_string()))
            })
            .await;
            match checked {
                Ok(Ok(())) => {}
                Ok(Err(what)) => report.problem(name, store.label(), what),
                Err(e) => report.problem(name, store.label(), e.to_string()),
            }
        }
    }
}

/// A read's failure as a problem: "missing" when it is not there.
fn unreadable(e: &BackupError) -> String {
    match e {
        BackupError::Integrity(_) => "missing".to_owned(),
        other => format!("could not be read: {other}"),
    }
}
