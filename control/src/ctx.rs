//! What every control-plane operation works with: the service database, backup storage, the
//! master key and the service's public URL. Borrowed from the server's state for one call.

use backup::keys::KeyWrapKey;
use backup::storage::BackupStorage;
use sea_orm::DatabaseConnection;

use crate::crypto::MasterKey;

#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub db: &'a DatabaseConnection,
    pub backup_storage: &'a BackupStorage,
    pub master_key: &'a MasterKey,
    /// The keys that wrap backup data keys: the service's and the customer-managed ones.
    pub backup_keys: &'a KeyWrapKey,
    /// The portal's external base URL (no trailing slash): accounts' endpoints are under it.
    pub public_url: &'a str,
}

impl Ctx<'_> {
    /// The keys that wrap each account's backup data key.
    pub fn backup_kek(&self) -> KeyWrapKey {
        self.backup_keys.clone()
    }
}
