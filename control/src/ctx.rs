//! What every control-plane operation works with: the service database, backup storage and the
//! master key. Borrowed from the server's state for one call.

use backup::keys::KeyWrapKey;
use backup::storage::BackupStorage;
use sea_orm::DatabaseConnection;

use crate::crypto::MasterKey;

#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub db: &'a DatabaseConnection,
    pub backup_storage: &'a BackupStorage,
    pub master_key: &'a MasterKey,
}

impl Ctx<'_> {
    /// The key that wraps each account's backup data key.
    pub fn backup_kek(&self) -> KeyWrapKey {
        self.master_key.backup_key_wrap_key()
    }
}
