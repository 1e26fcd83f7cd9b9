//! One store of backup storage: an object store named by a URL — a local folder (`file:///…`),
//! an S3 bucket (`s3://bucket/prefix`) or an Azure Blob container (`az://container/prefix`) —
//! written create-only. There is no overwrite for anyone, and the one delete is the crate's,
//! for the retention sweeper ([`crate::retention`]) alone: within retention an object, once
//! written, stays as it is.
//!
//! Every object Rewind writes is bounded in size (segments and chunks are cut by bytes, tens of
//! MiB at most), so each is one conditional PUT (`If-None-Match: *`): that is what makes a write
//! create-only on S3 and Azure, and multipart uploads cannot carry the condition. Transient
//! errors (5xx, timeouts, refused connections) are retried with exponential backoff; every
//! error names the store.

use bytes::Bytes;
use futures::StreamExt;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{BackoffConfig, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, RetryConfig};
use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use super::Put;
use crate::error::BackupError;

/// One object store.
#[derive(Debug, Clone)]
pub struct Store {
    store: Arc<dyn ObjectStore>,
    /// For messages: `file:///var/lib/rewind/backups` or `s3://bucket/prefix`, never credentials.
    label: String,
}

/// How long a request keeps being retried. The workers retry on their next pass anyway, so a
/// store that stays away fails a pass within a minute instead of holding it for object_store's
/// default three.
fn retry() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig { init_backoff: Duration::from_millis(100), max_backoff: Duration::from_secs(8), base: 2.0 },
        max_retries: 6,
        retry_timeout: Duration::from_secs(60),
    }
}

impl Store {
    /// Opens the store a URL names. `options` are object_store's configuration keys for that
    /// kind of store (`aws_endpoint`, `aws_region`, `aws_access_key_id`, `allow_http`,
    /// `azure_storage_account_name`, `azure_storage_use_emulator`, …); S3 also reads the usual
    /// `AWS_*` environment variables and Azure `AZURE_*`, which options override. Nothing is
    /// contacted here: see [`Self::check`].
    ///
    /// # Errors
    /// [`BackupError::Invalid`] naming what is wrong: not a URL, a scheme other than `file`,
    /// `s3` or `az`, an option that kind of store does not know, or one it rejects.
    pub fn open(url: &str, options: &BTreeMap<String, String>) -> Result<Self, BackupError> {
        let invalid = |why: String| BackupError::Invalid(format!("backup storage {url:?}: {why}"));
        let parsed = url::Url::parse(url).map_err(|e| invalid(format!("not a URL ({e})")))?;
        let label = match parsed.host_str() {
            Some(host) => format!("{}://{host}{}", parsed.scheme(), parsed.path().trim_end_matches('/')),
            None => format!("{}://{}", parsed.scheme(), parsed.path().trim_end_matches('/')),
        };
        let store: Arc<dyn ObjectStore> = match parsed.scheme() {
            "file" => {
                if let Some(key) = options.keys().next() {
                    return Err(invalid(format!("a local folder takes no options (got {key:?})")));
                }
                let dir = parsed.to_file_path().map_err(|()| invalid("not an absolute local path".into()))?;
                return Self::local(&dir);
            }
            "s3" => {
                let builder = AmazonS3Builder::from_env().with_url(url).with_retry(retry());
                let builder = configured(builder, options, |b, k: AmazonS3ConfigKey, v| b.with_config(k, v), &invalid)?;
                Arc::new(builder.build().map_err(|e| invalid(e.to_string()))?)
            }
            "az" | "azure" => {
                let builder = MicrosoftAzureBuilder::from_env().with_url(url).with_retry(retry());
                let builder = configured(builder, options, |b, k: AzureConfigKey, v| b.with_config(k, v), &invalid)?;
                Arc::new(builder.build().map_err(|e| invalid(e.to_string()))?)
            }
            other => return Err(invalid(format!("unknown scheme {other:?}; use file://, s3:// or az://"))),
        };
        let prefix = Path::from_url_path(parsed.path()).map_err(|e| invalid(e.to_string()))?;
        let store: Arc<dyn ObjectStore> = if prefix.as_ref().is_empty() { store } else { Arc::new(PrefixStore::new(store, prefix)) };
        Ok(Self { store, label })
    }

    /// A local folder, created if missing.
    ///
    /// # Errors
    /// The folder cannot be created or opened.
    pub fn local(dir: &std::path::Path) -> Result<Self, BackupError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| BackupError::Invalid(format!("backup folder {} cannot be created: {e}", dir.display())))?;
        let label = format!("file://{}", dir.display());
        let fs = LocalFileSystem::new_with_prefix(dir).map_err(|source| BackupError::Storage { store: label.clone(), source })?;
        Ok(Self { store: Arc::new(fs), label })
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    /// Lists a prefix that holds nothing: proves that the store answers and that the bucket or
    /// container exists and the credentials are accepted — so a wrong one fails at start. (A
    /// HEAD of a missing object cannot tell a missing bucket from a missing object on S3.)
    ///
    /// # Errors
    /// [`BackupError::Storage`] naming the store.
    pub async fn check(&self) -> Result<(), BackupError> {
        let probe = Path::from("rewind-storage-check");
        match self.store.list(Some(&probe)).next().await {
            None | Some(Ok(_)) => Ok(()),
            Some(Err(e)) => Err(self.failed(e)),
        }
    }

    /// Writes `bytes` under `key` unless something is already there.
    ///
    /// # Errors
    /// Storage errors other than "already exists".
    pub async fn put_new(&self, key: &str, bytes: Bytes) -> Result<Put, BackupError> {
        let opts = PutOptions { mode: PutMode::Create, ..PutOptions::default() };
        match self.store.put_opts(&Path::from(key), PutPayload::from(bytes), opts).await {
            Ok(_) => Ok(Put::Written),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(Put::AlreadyThere),
            Err(e) => Err(self.failed(e)),
        }
    }

    /// Reads a whole object.
    ///
    /// # Errors
    /// [`BackupError::Integrity`] if it is missing; other storage errors as they are.
    pub async fn get(&self, key: &str) -> Result<Bytes, BackupError> {
        let read = async { self.store.get(&Path::from(key)).await?.bytes().await };
        match read.await {
            Ok(bytes) => Ok(bytes),
            Err(object_store::Error::NotFound { .. }) => {
                Err(BackupError::Integrity(format!("{key} is missing from backup storage {}", self.label)))
            }
            Err(e) => Err(self.failed(e)),
        }
    }

    /// The size of an object, or `None` if it is missing.
    ///
    /// # Errors
    /// Storage errors other than "not found", naming the store.
    pub async fn size(&self, key: &str) -> Result<Option<u64>, BackupError> {
        match self.store.head(&Path::from(key)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.failed(e)),
        }
    }

    /// Removes an object (gone already is fine). For [`crate::retention`] only.
    ///
    /// # Errors
    /// Storage errors other than "not found", naming the store.
    pub(crate) async fn delete(&self, key: &str) -> Result<(), BackupError> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.failed(e)),
        }
    }

    /// The names of the objects under `prefix` (a folder, ending in `/`), in no set order.
    ///
    /// # Errors
    /// Storage errors naming the store.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, BackupError> {
        let mut listing = self.store.list(Some(&Path::from(prefix)));
        let mut names = Vec::new();
        while let Some(meta) = listing.next().await {
            names.push(meta.map_err(|e| self.failed(e))?.location.to_string());
        }
        Ok(names)
    }

    /// The folders directly under `prefix` (their last segment only).
    ///
    /// # Errors
    /// Storage errors naming the store.
    pub async fn folders(&self, prefix: &str) -> Result<Vec<String>, BackupError> {
        let listing = self.store.list_with_delimiter(Some(&Path::from(prefix))).await.map_err(|e| self.failed(e))?;
        Ok(listing.common_prefixes.iter().filter_map(|p| p.filename().map(str::to_owned)).collect())
    }

    fn failed(&self, source: object_store::Error) -> BackupError {
        BackupError::Storage { store: self.label.clone(), source }
    }
}

/// Applies `options` to a builder, refusing keys the store does not know (object_store's own
/// URL parser skips them silently, which hides a typo in a credential's name).
fn configured<B, K: FromStr>(
    mut builder: B,
    options: &BTreeMap<String, String>,
    set: fn(B, K, String) -> B,
    invalid: &dyn Fn(String) -> BackupError,
) -> Result<B, BackupError> {
    for (key, value) in options {
        let k = key.to_ascii_lowercase().parse::<K>().map_err(|_| invalid(format!("unknown option {key:?}")))?;
        builder = set(builder, k, value.clone());
    }
    Ok(builder)
}
