//! What can go wrong backing up or restoring.

/// A backup or restore failure. Messages name the account, object or resource concerned.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("service database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Engine(#[from] engine::EngineError),
    /// The store failed a request (after retries); names the store, never its credentials.
    #[error("backup storage {store}: {source}")]
    Storage { store: String, source: object_store::Error },
    /// The data key does not unwrap: the wrapping key is missing, revoked or different.
    #[error("backups of account {account} cannot be decrypted: {why}")]
    KeyUnavailable { account: String, why: String },
    /// An object is missing, altered, or not the one the manifest names.
    #[error("backup integrity: {0}")]
    Integrity(String),
    /// A restore asked for something the backup cannot give (names what).
    #[error("{0}")]
    Invalid(String),
}
