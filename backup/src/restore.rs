//! Applying an account at a point in time to a target: choosing what to restore, and streaming
//! it through the engine into the target, recorded in the target's own backup (see
//! [`Recording`]).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::watch;

use crate::chunk::{AbortOnDrop, ChunkBounds, SnapshotWriter};
use crate::error::BackupError;
use crate::keys::KeyWrapKey;
use crate::replay::{AccountAt, DatabaseAt, PointInTime};
use crate::storage::BackupStorage;
use chrono::Utc;
use engine::store::ImportLog;

/// Bytes of items written per transaction (the item that reaches the bound ends the batch); the
/// engine says how many items at most (`engine::store::import_batch_items`).
const APPLY_BYTES: u64 = 8 * 1024 * 1024;

/// One database to restore, with some of its containers (empty = all of them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseSelection {
    pub database: String,
    #[serde(default)]
    pub containers: Vec<String>,
}

/// The most databases and containers one restore names (whichever front it comes from).
pub const MAX_RESOURCES: usize = 1_000;

/// Reads a selection written as `db` or `db/container` entries separated by commas or new lines
/// (the portal's form); empty means the whole account.
///
/// # Errors
/// [`BackupError::Invalid`] for more than [`MAX_RESOURCES`] entries, or an entry with an empty
/// part or more than one `/`.
pub fn parse_selection(text: &str) -> Result<Vec<DatabaseSelection>, BackupError> {
    let entries = text.split([',', '\n']).filter(|s| !s.trim().is_empty()).count();
    if entries > MAX_RESOURCES {
        return Err(BackupError::Invalid(format!("a restore names at most {MAX_RESOURCES} resources (got {entries})")));
    }
    let mut out: Vec<DatabaseSelection> = Vec::new();
    for raw in text.split([',', '\n']).map(str::trim).filter(|s| !s.is_empty()) {
        let parts: Vec<&str> = raw.split('/').collect();
        let (db, coll) = match parts.as_slice() {
            [d] if !d.is_empty() => (*d, None),
            [d, c] if !d.is_empty() && !c.is_empty() => (*d, Some(*c)),
            _ => return Err(BackupError::Invalid(format!("{raw:?} is not a database or database/container to restore"))),
        };
        let i = match out.iter().position(|s| s.database == db) {
            Some(i) => i,
            None => {
                out.push(DatabaseSelection { database: db.to_owned(), containers: Vec::new() });
                out.len() - 1
            }
        };
        match coll {
            // Naming the database alone means all of it, whatever else names its containers.
            None => out[i].containers.clear(),
            Some(c) if !out[i].containers.is_empty() || !text_names_whole(text, db) => {
                if !out[i].containers.iter().any(|x| x == c) {
                    out[i].containers.push(c.to_owned());
                }
            }
            Some(_) => {}
        }
    }
    Ok(out)
}

fn text_names_whole(text: &str, db: &str) -> bool {
    text.split([',', '\n']).map(str::trim).any(|s| s == db)
}

/// Keeps what `wanted` names (everything when empty), checking each name existed at the time.
///
/// # Errors
/// [`BackupError::Invalid`] naming a database or container that did not exist then, or a
/// shared-throughput database asked for in part.
pub fn select(mut state: AccountAt, wanted: &[DatabaseSelection], at: &str) -> Result<AccountAt, BackupError> {
    if wanted.is_empty() {
        return Ok(state);
    }
    let mut out = AccountAt::default();
    for w in wanted {
        let Some(mut d) = state.databases.remove(&w.database) else {
            return Err(BackupError::Invalid(format!("database {:?} did not exist at {at}", w.database)));
        };
        if !w.containers.is_empty() {
            if let Some(t) = d.shared_throughput() {
                return Err(BackupError::Invalid(format!(
                    "database {:?} has shared throughput ({t} RU/s) and is restored whole; name the database alone",
                    w.database
                )));
            }
            let mut kept = DatabaseAt { body: d.body.clone(), ..DatabaseAt::default() };
            for c in &w.containers {
                let Some(coll) = d.containers.remove(c) else {
                    return Err(BackupError::Invalid(format!("container {c:?} did not exist in database {:?} at {at}", w.database)));
                };
                kept.containers.insert(c.clone(), coll);
            }
            d = kept;
        }
        out.databases.insert(w.database.clone(), d);
    }
    Ok(out)
}

/// The resource id a restore job gives a database (`container` = `None`) or container it
/// creates: derived from the job, so that the job — resumed, or cleaning up after a failure —
/// can tell what it wrote from a resource of the same name somebody made since.
pub fn owned_rid(job_id: &str, database: &str, container: Option<&str>) -> String {
    let digest = Sha256::digest(format!("rewind/restore/{job_id}\n{database}\n{}", container.unwrap_or("")));
    // Cosmos DB rids are base64 with '/' replaced, so they are safe inside links.
    B64.encode(&digest[..8]).replace('/', "-")
}

/// How far an apply has got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub items_total: u64,
    pub items_done: u64,
    pub bytes_done: u64,
}

/// How restored items reach the target's own backup.
#[derive(Debug, Clone, Copy)]
pub enum Recording<'a> {
    /// Each item gets a change-log entry, shipped like any write: for an in-place restore,
    /// whose account takes other writes meanwhile.
    Logged,
    /// Items are written without log entries, and the same stream is written as the target's
    /// base snapshot as of its last change (its databases and containers): for a restore into a
    /// new account, which takes no writes until it is `Online`. The write path of a bare insert.
    Seeded { storage: &'a BackupStorage, kek: &'a KeyWrapKey, chunks: ChunkBounds },
}

/// Creates the databases and containers of `chosen` (what [`select`] kept of `pit`'s
/// resources) in `target` with their throughput and settings, then streams each container's
/// items from `pit` in batches, recording them as `recording` says and reporting progress on
/// `progress`. With `ttl_disabled` the containers come back with time-to-live off, so nothing
/// restored is purged.
///
/// Verification goes along: every chunk read is checked against its manifest hash and item
/// count, every batch must insert every row, and each container must end holding exactly the
/// items streamed into it.
///
/// A database that exists already is reused only where `selection` names some of its
/// containers (an in-place container restore); a database asked for whole must be created, so a
/// second restore of the same database fails before writing anything. `stop` is checked
/// between batches: a runner that lost its job stops writing. What it creates carries
/// [`owned_rid`]s of `job_id`, which [`remove`] relies on.
///
/// # Errors
/// The error, with whether anything was written before it (the caller's cleanup needs to know).
#[allow(clippy::too_many_arguments)]
pub async fn apply(
    db: &DatabaseConnection,
    job_id: &str,
    target: &str,
    pit: &PointInTime,
    chosen: &AccountAt,
    selection: &[DatabaseSelection],
    ttl_disabled: bool,
    recording: Recording<'_>,
    progress: &watch::Sender<Progress>,
    stop: &AtomicBool,
) -> Result<Progress, (BackupError, bool)> {
    let mut wrote = false;
    let items_total =
        chosen.databases.iter().flat_map(|(d, x)| x.containers.keys().map(move |c| (d, c))).map(|(d, c)| pit.estimated_items(d, c)).sum();
    let mut p = Progress { items_total, ..Progress::default() };
    progress.send_replace(p);

    // The databases and containers first, so that a seeded snapshot starts after them.
    for (db_id, d) in &chosen.databases {
        if stop.load(Ordering::Relaxed) {
            return Err((lease_lost(), wrote));
        }
        let partial = selection.iter().any(|s| &s.database == db_id && !s.containers.is_empty());
        let exists = engine::store::get_database(db, target, db_id).await.is_ok();
        if !(partial && exists) {
            let throughput = d.shared_throughput().and_then(|t| i32::try_from(t).ok());
            engine::store::create_database_as(db, target, db_id, throughput, Some(owned_rid(job_id, db_id, None)))
                .await
                .map_err(|e| (e.into(), wrote))?;
            wrote = true;
        }
        for (coll_id, c) in &d.containers {
            let mut spec = engine::store::ContainerSpec::from_body(&c.body).map_err(|e| (e.into(), wrote))?;
            spec.throughput = c.body.get("throughput").and_then(Value::as_i64).and_then(|t| i32::try_from(t).ok());
            spec.autoscale_max = c.body.get("autoscaleMax").and_then(Value::as_i64).and_then(|t| i32::try_from(t).ok());
            if ttl_disabled {
                spec.default_ttl = None;
            }
            spec.rid = Some(owned_rid(job_id, db_id, Some(coll_id)));
            engine::store::create_container(db, target, db_id, spec).await.map_err(|e| (e.into(), wrote))?;
            wrote = true;
        }
    }
    let (mut seed, log) = match recording {
        Recording::Logged => (None, ImportLog::Logged),
        Recording::Seeded { storage, kek, chunks } => {
            (Some(seed_writer(db, storage, kek, target, chunks).await.map_err(|e| (e, wrote))?), ImportLog::Unlogged)
        }
    };

    for (db_id, d) in &chosen.databases {
        for coll_id in d.containers.keys() {
            let written = copy_container(db, target, pit, (db_id, coll_id), seed.as_mut(), log, &mut p, progress, stop)
                .await
                .map_err(|e| (e, wrote))?;
            let held = engine::store::count_items(db, target, db_id, coll_id).await.map_err(|e| (e.into(), wrote))?;
            if held != written {
                return Err((
                    BackupError::Integrity(format!(
                        "verification failed for {db_id}/{coll_id}: it holds {held} items, {written} were restored"
                    )),
                    wrote,
                ));
            }
        }
    }
    if let Some(w) = seed {
        w.finish(db, Utc::now()).await.map_err(|e| (e, wrote))?;
    }
    Ok(p)
}

/// What a restore answers once `stop` is raised: its runner no longer holds the job.
fn lease_lost() -> BackupError {
    BackupError::Invalid("this runner lost the job's lease; another runner carries on".into())
}

/// Streams one container's items from `pit` into `target`; returns how many were written.
///
/// Two halves run side by side: this task reads, checks and prepares the next batch (and adds
/// it to the seeded snapshot), while a writer task writes the batch before it, so the database
/// is rarely kept waiting. At most two prepared batches wait between them.
#[allow(clippy::too_many_arguments)]
async fn copy_container(
    db: &DatabaseConnection,
    target: &str,
    pit: &PointInTime,
    (db_id, coll_id): (&str, &str),
    mut seed: Option<&mut SnapshotWriter>,
    log: ImportLog,
    p: &mut Progress,
    progress: &watch::Sender<Progress>,
    stop: &AtomicBool,
) -> Result<u64, BackupError> {
    let (dm, cm) = engine::store::get_container(db, target, db_id, coll_id).await?;
    let per_batch = engine::store::import_batch_items(db, log);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(engine::store::PreparedImport, u64)>(2);
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<(u64, u64)>();
    let writer = AbortOnDrop(tokio::spawn({
        let db = db.clone();
        let place = format!("{db_id}/{coll_id}");
        async move {
            let mut written = 0u64;
            while let Some((prepared, bytes)) = rx.recv().await {
                let n = prepared.items.len();
                let stored = engine::store::write_import(&db, prepared, log).await?;
                if stored != n {
                    return Err(BackupError::Integrity(format!("{place}: {stored} of a batch of {n} items were written")));
                }
                written += n as u64;
                let _ = done_tx.send((n as u64, bytes));
            }
            Ok(written)
        }
    }));
    let note = |p: &mut Progress, (n, bytes): (u64, u64)| {
        p.items_done += n;
        p.bytes_done += bytes;
        progress.send_replace(*p);
    };
    let prepared = async {
        let mut items = pit.items(db_id, coll_id).await?;
        loop {
            if stop.load(Ordering::Relaxed) {
                return Err(lease_lost());
            }
            let (mut batch, mut bytes) = (Vec::with_capacity(per_batch), 0u64);
            while batch.len() < per_batch && bytes < APPLY_BYTES {
                let Some(item) = items.next().await? else { break };
                bytes += item.body.len() as u64;
                let value = serde_json::from_str::<Value>(&item.body)
                    .map_err(|e| BackupError::Integrity(format!("backed-up item {:?} is not JSON: {e}", item.id)))?;
                batch.push(value);
            }
            if batch.is_empty() {
                return Ok(());
            }
            let prepared = engine::store::prepare_import(&dm, &cm, batch)?;
            if let Some(w) = seed.as_deref_mut() {
                for i in &prepared.items {
                    w.push_row(db_id, coll_id, &i.pk, &i.id, Some(&i.json)).await?;
                }
            }
            while let Ok(done) = done_rx.try_recv() {
                note(p, done);
            }
            if tx.send((prepared, bytes)).await.is_err() {
                // The writer stopped on an error, which it reports.
                return Ok(());
            }
        }
    }
    .await;
    drop(tx);
    if let Err(e) = prepared {
        // Stop writing before the caller cleans up what was written.
        writer.0.abort();
        let _ = writer.join().await;
        return Err(e);
    }
    let written = writer.join().await??;
    while let Ok(done) = done_rx.try_recv() {
        note(p, done);
    }
    Ok(written)
}

/// Starts the target's seeded base snapshot: as of its last change (the databases and
/// containers just created), which its shipped log continues.
async fn seed_writer(
    db: &DatabaseConnection,
    storage: &BackupStorage,
    kek: &KeyWrapKey,
    target: &str,
    chunks: ChunkBounds,
) -> Result<SnapshotWriter, BackupError> {
    let seq = engine::changelog::last_seq(db, target).await?;
    let (meta, _) = crate::periodic::live_resources(db, target).await?;
    let key = kek.data_key(db, storage, target).await?;
    SnapshotWriter::start(storage, key, target, seq, chunks, &meta).await
}

/// Refuses an in-place restore (into the live `account`) unless every named database is free,
/// and every named container is free inside a database that exists.
///
/// # Errors
/// [`BackupError::Invalid`] naming the resource and what to do.
pub async fn check_free_in_place(db: &DatabaseConnection, account: &str, selection: &[DatabaseSelection]) -> Result<(), BackupError> {
    for s in selection {
        if s.containers.is_empty() {
            if engine::store::get_database(db, account, &s.database).await.is_ok() {
                return Err(BackupError::Invalid(format!(
                    "database {:?} exists; only deleted databases and containers can be restored in place (restore a live one into a new account)",
                    s.database
                )));
            }
        } else {
            if engine::store::get_database(db, account, &s.database).await.is_err() {
                return Err(BackupError::Invalid(format!("database {:?} does not exist; restore it before its containers", s.database)));
            }
            for c in &s.containers {
                if engine::store::get_container(db, account, &s.database, c).await.is_ok() {
                    return Err(BackupError::Invalid(format!(
                        "container {c:?} exists in database {:?}; only deleted databases and containers can be restored in place (restore a live one into a new account)",
                        s.database
                    )));
                }
            }
        }
    }
    Ok(())
}

/// The selection as `db` / `db/container` names (the wire form).
pub fn selection_names(selection: &[DatabaseSelection]) -> Vec<String> {
    selection
        .iter()
        .flat_map(|s| {
            if s.containers.is_empty() {
                vec![s.database.clone()]
            } else {
                s.containers.iter().map(|c| format!("{}/{c}", s.database)).collect()
            }
        })
        .collect()
}

/// Removes what restore job `job_id` wrote into `target` for `selection` (all of the account
/// when the selection is empty): used when a restore fails or is resumed from the start. Only
/// databases and containers carrying the job's [`owned_rid`]s are removed: one of the same name
/// that somebody else made meanwhile is left alone.
///
/// # Errors
/// Engine errors.
pub async fn remove(db: &DatabaseConnection, job_id: &str, target: &str, selection: &[DatabaseSelection]) -> Result<(), BackupError> {
    let whole: Vec<DatabaseSelection> = if selection.is_empty() {
        engine::store::list_databases(db, target)
            .await?
            .into_iter()
            .map(|d| DatabaseSelection { database: d.id, containers: Vec::new() })
            .collect()
    } else {
        selection.to_vec()
    };
    for s in &whole {
        let ours = owned_rid(job_id, &s.database, None);
        if engine::store::delete_database_if(db, target, &s.database, Some(&ours)).await? {
            continue;
        }
        // The database is not the job's (it existed, or was made since): only the job's
        // containers inside it are removed.
        let containers = match (&s.containers, engine::store::list_containers(db, target, &s.database).await) {
            (named, _) if !named.is_empty() => named.clone(),
            (_, Ok((_, all))) => all.into_iter().map(|c| c.id).collect(),
            (_, Err(_)) => Vec::new(),
        };
        for c in &containers {
            engine::store::delete_container_if(db, target, &s.database, c, Some(&owned_rid(job_id, &s.database, Some(c)))).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selections_read_databases_and_containers() {
        assert_eq!(parse_selection("").unwrap(), vec![]);
        assert_eq!(
            parse_selection("shop/orders, shop/carts\nlogs").unwrap(),
            vec![
                DatabaseSelection { database: "shop".into(), containers: vec!["orders".into(), "carts".into()] },
                DatabaseSelection { database: "logs".into(), containers: vec![] },
            ]
        );
        // The whole database wins over some of its containers, in either order.
        assert_eq!(parse_selection("shop/orders, shop").unwrap()[0].containers, Vec::<String>::new());
        assert_eq!(parse_selection("shop, shop/orders").unwrap()[0].containers, Vec::<String>::new());
        assert!(parse_selection("a/b/c").is_err());
        assert!(parse_selection("/c").is_err());
    }
}
