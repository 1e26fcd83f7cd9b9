//! Backup storage: an object store (a local folder by default) written create-only. There is no
//! overwrite or delete here for anyone; within retention an object, once written, stays as it is.

use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use std::sync::Arc;

use crate::error::BackupError;

/// Where backups are kept.
#[derive(Debug, Clone)]
pub struct BackupStorage {
    store: Arc<dyn ObjectStore>,
    /// For messages: `file:///var/lib/rewind/backups`, say.
    label: String,
}

/// What a create-only write found.
#[derive(Debug, PartialEq, Eq)]
pub enum Put {
    Written,
    /// An object of that name already exists (a replica or an earlier, interrupted attempt
    /// wrote it); it was left as it is.
    AlreadyThere,
}

impl BackupStorage {
    /// A local folder, created if missing.
    ///
    /// # Errors
    /// The folder cannot be created or opened.
    pub fn local(dir: &std::path::Path) -> Result<Self, BackupError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| BackupError::Invalid(format!("backup folder {} cannot be created: {e}", dir.display())))?;
        let fs = LocalFileSystem::new_with_prefix(dir)?;
        Ok(Self { store: Arc::new(fs), label: format!("file://{}", dir.display()) })
    }

    /// Any object store (S3, Azure Blob, …).
    pub fn new(store: Arc<dyn ObjectStore>, label: impl Into<String>) -> Self {
        Self { store, label: label.into() }
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    /// Writes `bytes` under `key` unless something is already there.
    ///
    /// # Errors
    /// Storage errors other than "already exists".
    pub async fn put_new(&self, key: &str, bytes: Vec<u8>) -> Result<Put, BackupError> {
        let opts = PutOptions { mode: PutMode::Create, ..PutOptions::default() };
        match self.store.put_opts(&Path::from(key), PutPayload::from(bytes), opts).await {
            Ok(_) => Ok(Put::Written),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(Put::AlreadyThere),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads a whole object.
    ///
    /// # Errors
    /// [`BackupError::Integrity`] if it is missing; other storage errors as they are.
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, BackupError> {
        match self.store.get(&Path::from(key)).await {
            Ok(r) => Ok(Vec::from(r.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => {
                Err(BackupError::Integrity(format!("{key} is missing from backup storage {}", self.label)))
            }
            Err(e) => Err(e.into()),
        }
    }
}
