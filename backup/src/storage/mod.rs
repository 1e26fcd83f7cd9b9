//! Backup storage: the stores that hold backups and the account's redundancy over them. `Local`
//! keeps one copy (the primary store), `Zone` a second in another store of the same region,
//! `Geo` a second in a store of another region (SPEC §3).
//!
//! A write goes to every store of the account's redundancy ([`BackupStorage::writing_for`]) and
//! succeeds only when every one holds the object, so what the manifest records as backed up —
//! and so the latest restore point — is held by all of them. A read takes the first copy whose
//! hash is right, in the order primary, zone, geo, and falls back past a copy that is missing,
//! altered or unreachable — saying so in the log and to whoever asked ([`BackupStorage::reporting`]).
//! Redundancy is read per write, so a change applies to future backups; reads look in every
//! store, wherever an object was written.

mod store;

pub use store::Store;

use bytes::Bytes;
use domain::Redundancy;
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};

use crate::cpu;
use crate::error::BackupError;

/// What a create-only write found.
#[derive(Debug, PartialEq, Eq)]
pub enum Put {
    Written,
    /// An object of that name already exists (a replica or an earlier, interrupted attempt
    /// wrote it); it was left as it is.
    AlreadyThere,
}

/// What a name holds after [`BackupStorage::put_sealed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// SHA-256 of the stored bytes, hex.
    pub sha256: String,
    pub len: usize,
    /// Whether the object was there already (and passed the caller's check).
    pub found: bool,
}

/// Where backups are kept, and which of those stores a write goes to.
#[derive(Debug, Clone)]
pub struct BackupStorage {
    stores: Arc<Stores>,
    /// The redundancy writes keep ([`Self::writing_for`]).
    writes: Redundancy,
    /// Objects read from another copy than the first, for whoever asked ([`Self::reporting`]).
    fell_back: Option<Arc<Mutex<Vec<String>>>>,
}

#[derive(Debug)]
struct Stores {
    primary: Store,
    zone: Option<Store>,
    geo: Option<Store>,
}

impl BackupStorage {
    /// The primary store and, where configured, a second store in the same region (`zone`) and
    /// one in another region (`geo`). Writes keep one copy until [`Self::writing_for`] says more.
    #[must_use]
    pub fn new(primary: Store, zone: Option<Store>, geo: Option<Store>) -> Self {
        Self { stores: Arc::new(Stores { primary, zone, geo }), writes: Redundancy::Local, fell_back: None }
    }

    /// Local folders: `dir` and, beside it, `<dir>-zone` and `<dir>-geo` — what a server on one
    /// machine uses unless other stores are configured.
    ///
    /// # Errors
    /// A folder cannot be created or opened.
    pub fn local(dir: &std::path::Path) -> Result<Self, BackupError> {
        Ok(Self::new(Store::local(dir)?, Some(Store::local(&beside(dir, "zone"))?), Some(Store::local(&beside(dir, "geo"))?)))
    }

    /// The primary store's name, for messages.
    pub fn label(&self) -> &str {
        self.stores.primary.label()
    }

    /// Every configured store, primary first.
    fn all(&self) -> impl Iterator<Item = &Store> {
        std::iter::once(&self.stores.primary).chain(self.stores.zone.as_ref()).chain(self.stores.geo.as_ref())
    }

    /// Checks that every configured store answers (see [`Store::check`]).
    ///
    /// # Errors
    /// The first store that does not, named.
    pub async fn check(&self) -> Result<(), BackupError> {
        for store in self.all() {
            store.check().await?;
        }
        Ok(())
    }

    /// Whether this server has the stores `redundancy` needs.
    ///
    /// # Errors
    /// [`BackupError::Invalid`] naming the setting that would provide the missing store.
    pub fn keeps(&self, redundancy: Redundancy) -> Result<(), BackupError> {
        let missing = match redundancy {
            Redundancy::Local => None,
            Redundancy::Zone => self.stores.zone.is_none().then_some(("a second store in the same region", "backup_zone_url")),
            Redundancy::Geo => self.stores.geo.is_none().then_some(("a store in another region", "backup_geo_url")),
        };
        match missing {
            None => Ok(()),
            Some((what, setting)) => Err(BackupError::Invalid(format!(
                "{redundancy:?} redundancy needs {what}, and this server has none: its operator sets {setting} \
                 (or choose another redundancy)"
            ))),
        }
    }

    /// This storage, writing the copies `redundancy` keeps.
    ///
    /// # Errors
    /// [`Self::keeps`]'s.
    pub fn writing_for(&self, redundancy: Redundancy) -> Result<Self, BackupError> {
        self.keeps(redundancy)?;
        Ok(Self { writes: redundancy, ..self.clone() })
    }

    /// This storage, noting every object that had to be read from another copy than the first
    /// (see [`Self::fallbacks`]) — a restore reports them.
    #[must_use]
    pub fn reporting(&self) -> Self {
        Self { fell_back: Some(Arc::default()), ..self.clone() }
    }

    /// What [`Self::reporting`] noted, one line per object.
    #[must_use]
    pub fn fallbacks(&self) -> Vec<String> {
        self.fell_back.as_ref().map(|f| f.lock().map(|v| v.clone()).unwrap_or_default()).unwrap_or_default()
    }

    /// The stores that hold the copies of objects written for `redundancy`, primary first.
    ///
    /// # Errors
    /// [`Self::keeps`]'s.
    pub fn copies(&self, redundancy: Redundancy) -> Result<Vec<Store>, BackupError> {
        let writing = self.writing_for(redundancy)?;
        Ok(std::iter::once(writing.stores.primary.clone()).chain(writing.second().cloned()).collect())
    }

    /// The store a write keeps its second copy in, if the redundancy has one.
    fn second(&self) -> Option<&Store> {
        match self.writes {
            Redundancy::Local => None,
            Redundancy::Zone => self.stores.zone.as_ref(),
            Redundancy::Geo => self.stores.geo.as_ref(),
        }
    }

    /// Writes `bytes` under `key` in every store of the redundancy, unless the primary store
    /// holds it already: then the copies get what the primary holds (so that every copy has
    /// one hash) and the caller, told [`Put::AlreadyThere`], checks that it is what it meant to
    /// write ([`Self::get`]).
    ///
    /// # Errors
    /// Storage errors other than "already exists", naming the store; [`BackupError::Integrity`]
    /// if a second store holds other bytes under that name.
    pub async fn put_new(&self, key: &str, bytes: Vec<u8>) -> Result<Put, BackupError> {
        Ok(self.put_or_find(key, Bytes::from(bytes)).await?.0)
    }

    /// [`Self::put_new`], answering also the bytes the primary store now holds under `key`.
    async fn put_or_find(&self, key: &str, bytes: Bytes) -> Result<(Put, Bytes), BackupError> {
        let primary = &self.stores.primary;
        let put = primary.put_new(key, bytes.clone()).await?;
        let held = match put {
            Put::Written => bytes,
            Put::AlreadyThere => primary.get(key).await?,
        };
        if let Some(copy) = self.second()
            && copy.put_new(key, held.clone()).await? == Put::AlreadyThere
            && copy.get(key).await? != held
        {
            return Err(BackupError::Integrity(format!(
                "{key} is held with other contents in {} than in {}",
                copy.label(),
                primary.label()
            )));
        }
        Ok((put, held))
    }

    /// Stores a sealed object under `name` — the one way sealed objects (segments, chunks,
    /// journal records) are written. If the name is taken already (by a replica, or an earlier
    /// run that did not get to record it), what is there is kept only once `check` accepts it,
    /// and is not fetched twice. Either way the answer is what the name holds, by hash and size,
    /// as the catalog records it. Hashing and the check run on the backup thread.
    ///
    /// # Errors
    /// As [`Self::put_new`], and whatever `check` finds wrong with an object already there.
    pub async fn put_sealed(
        &self,
        name: &str,
        sealed: Vec<u8>,
        check: impl FnOnce(Vec<u8>) -> Result<(), BackupError> + Send + 'static,
    ) -> Result<Stored, BackupError> {
        let (put, held) = self.put_or_find(name, Bytes::from(sealed)).await?;
        cpu::run(move || {
            let stored = Stored { sha256: hex::encode(Sha256::digest(&held)), len: held.len(), found: put == Put::AlreadyThere };
            if stored.found {
                check(Vec::from(held))?;
            }
            Ok(stored)
        })
        .await
    }

    /// Reads an object from the primary store, as it is (the writers' "already there" check).
    ///
    /// # Errors
    /// [`BackupError::Integrity`] if it is missing; other storage errors naming the store.
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, BackupError> {
        Ok(Vec::from(self.stores.primary.get(key).await?))
    }

    /// Removes an object from every configured store, wherever it was written. For
    /// [`crate::retention`] only: nothing else deletes a backup object.
    ///
    /// # Errors
    /// Storage errors naming the store.
    pub(crate) async fn delete_everywhere(&self, key: &str) -> Result<(), BackupError> {
        for store in self.all() {
            store.delete(key).await?;
        }
        Ok(())
    }

    /// Removes every object under the folder `prefix` from every configured store; returns how
    /// many copies there were. For [`crate::retention`] only.
    ///
    /// # Errors
    /// Storage errors naming the store.
    pub(crate) async fn delete_folder_everywhere(&self, prefix: &str) -> Result<u64, BackupError> {
        let mut removed = 0;
        for store in self.all() {
            for name in store.list(prefix).await? {
                store.delete(&name).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Removes, in every configured store, every object under the folder `prefix` but the last
    /// by name (the newest of a numbered series); returns how many. For [`crate::retention`]
    /// only.
    ///
    /// # Errors
    /// Storage errors naming the store.
    pub(crate) async fn delete_all_but_newest(&self, prefix: &str) -> Result<u64, BackupError> {
        let mut removed = 0;
        for store in self.all() {
            let mut names = store.list(prefix).await?;
            names.sort_unstable();
            names.pop();
            for name in names {
                store.delete(&name).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// The objects under the folder `prefix` in the primary store, sorted by name.
    ///
    /// # Errors
    /// Storage errors naming the store.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, BackupError> {
        let mut names = self.stores.primary.list(prefix).await?;
        names.sort_unstable();
        Ok(names)
    }

    /// The folders directly under `prefix` in the primary store, sorted.
    ///
    /// # Errors
    /// Storage errors naming the store.
    pub async fn folders(&self, prefix: &str) -> Result<Vec<String>, BackupError> {
        let mut names = self.stores.primary.folders(prefix).await?;
        names.sort_unstable();
        Ok(names)
    }

    /// Reads the first copy of an object whose SHA-256 is `sha256_hex`, store by store.
    ///
    /// # Errors
    /// [`BackupError::Integrity`] when no store holds a right copy, naming what each had.
    pub async fn get_checked(&self, key: &str, sha256_hex: &str) -> Result<Vec<u8>, BackupError> {
        let mut problems = Vec::new();
        for store in self.all() {
            let problem = match store.get(key).await {
                Ok(bytes) => {
                    let sha = sha256_hex.to_owned();
                    let checked = cpu::run(move || {
                        let bytes = Vec::from(bytes);
                        let right = hex::encode(Sha256::digest(&bytes)) == sha;
                        Ok(right.then_some(bytes))
                    })
                    .await?;
                    match checked {
                        Some(bytes) => {
                            self.note_fallback(key, store, &problems);
                            return Ok(bytes);
                        }
                        None => "does not match its manifest hash (altered or replaced)".to_owned(),
                    }
                }
                // Missing: the store's own message names the object and the store.
                Err(BackupError::Integrity(_)) => "missing".to_owned(),
                Err(e) => e.to_string(),
            };
            problems.push(format!("in {}: {problem}", store.label()));
        }
        Err(BackupError::Integrity(format!("{key}: no good copy — {}", problems.join("; "))))
    }

    /// Says that `key` was read from `store` after the copies before it failed.
    fn note_fallback(&self, key: &str, store: &Store, problems: &[String]) {
        if problems.is_empty() {
            return;
        }
        let note = format!("{key} read from {} ({})", store.label(), problems.join("; "));
        tracing::warn!(object = key, "backup object read from another copy: {note}");
        if let Some(f) = &self.fell_back
            && let Ok(mut v) = f.lock()
        {
            v.push(note);
        }
    }
}

/// `<dir>-<what>`: a folder beside `dir`, where a server on one machine keeps its second copies.
#[must_use]
pub fn beside(dir: &std::path::Path, what: &str) -> std::path::PathBuf {
    let mut name = dir.file_name().map(std::ffi::OsStr::to_os_string).unwrap_or_else(|| "backups".into());
    name.push(format!("-{what}"));
    dir.with_file_name(name)
}
