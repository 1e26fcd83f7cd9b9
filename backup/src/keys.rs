//! Envelope encryption: every account has its own random 256-bit data key that seals its backup
//! objects; the data key is stored only wrapped (RFC 3394 AES key wrap) by a key-encryption key.
//! The service-managed key-encryption key is derived from the master key, so backups never hold
//! a plaintext key and a copy of the backup folder alone opens nothing.

use aes_kw::KwAes256;
use aes_kw::cipher::KeyInit;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::Utc;
use rand::RngCore;
use sea_orm::{ConnectionTrait, EntityTrait};
use sha2::{Digest, Sha256};
use std::fmt;

use crate::entities::backup_key;
use crate::error::BackupError;
use crate::storage::BackupStorage;

/// Length of a data key and of the key-encryption key.
pub const KEY_LEN: usize = 32;
const WRAPPED_LEN: usize = KEY_LEN + 8;

/// An account's data key. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct DataKey(pub(crate) [u8; KEY_LEN]);

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

impl DataKey {
    /// Fresh random key material.
    pub fn generate() -> Self {
        let mut k = [0u8; KEY_LEN];
        rand::rng().fill_bytes(&mut k);
        Self(k)
    }
}

/// The key that wraps data keys. Never printed.
#[derive(Clone)]
pub struct KeyWrapKey {
    kek: [u8; KEY_LEN],
    /// Recorded beside each wrapped key (`service` for the master-key-derived one).
    name: String,
}

impl fmt::Debug for KeyWrapKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyWrapKey({}, <redacted>)", self.name)
    }
}

impl KeyWrapKey {
    /// The service-managed key-encryption key, derived from the master key's bytes with a
    /// purpose label so the master key itself is used by one algorithm only.
    pub fn service(master_key: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(b"rewind/backup/key-encryption-key/v1\0");
        h.update(master_key);
        Self { kek: h.finalize().into(), name: "service".into() }
    }

    fn cipher(&self) -> KwAes256 {
        // A 32-byte slice is always a valid AES-256 key.
        KwAes256::new(&self.kek.into())
    }

    /// Wraps `key` for storage (base64).
    pub fn wrap(&self, key: &DataKey) -> String {
        let mut out = [0u8; WRAPPED_LEN];
        let wrapped = self.cipher().wrap_key(&key.0, &mut out).map(<[u8]>::to_vec).unwrap_or_default();
        B64.encode(wrapped)
    }

    /// Unwraps a stored data key.
    ///
    /// # Errors
    /// [`BackupError::KeyUnavailable`] when it does not unwrap under this key.
    pub fn unwrap(&self, account_id: &str, wrapped: &str) -> Result<DataKey, BackupError> {
        let unavailable = |why: &str| BackupError::KeyUnavailable { account: account_id.to_owned(), why: why.to_owned() };
        let raw = B64.decode(wrapped).map_err(|_| unavailable("the wrapped data key is not valid base64"))?;
        let mut out = [0u8; WRAPPED_LEN];
        let key = self
            .cipher()
            .unwrap_key(&raw, &mut out)
            .map_err(|_| unavailable("the data key does not unwrap under the current key-encryption key (was the master key replaced or the customer key revoked?)"))?;
        let key: [u8; KEY_LEN] = key.try_into().map_err(|_| unavailable("the unwrapped data key has the wrong length"))?;
        Ok(DataKey(key))
    }

    /// The account's data key, made and stored (wrapped) on first use: in backup storage first
    /// ([`crate::journal::store_key`]), so that nothing is sealed under a key that only the
    /// service database holds. Two replicas asking at once both end up with the one that backup
    /// storage took first.
    ///
    /// # Errors
    /// Database and storage errors; [`BackupError::KeyUnavailable`] if the stored key does not
    /// unwrap.
    pub async fn data_key(&self, db: &impl ConnectionTrait, storage: &BackupStorage, account_id: &str) -> Result<DataKey, BackupError> {
        if let Some(row) = backup_key::Entity::find_by_id(account_id.to_owned()).one(db).await? {
            return self.unwrap(account_id, &row.wrapped_key);
        }
        let fresh = backup_key::Model {
            account_id: account_id.to_owned(),
            wrapped_key: self.wrap(&DataKey::generate()),
            wrapped_by: self.name.clone(),
            created_at: Utc::now(),
        };
        let stored = crate::journal::store_key(storage, fresh).await?;
        backup_key::Entity::insert(backup_key::ActiveModel::from(stored)).on_conflict_do_nothing().exec(db).await?;
        let row = backup_key::Entity::find_by_id(account_id.to_owned())
            .one(db)
            .await?
            .ok_or_else(|| BackupError::Integrity(format!("the data key of account {account_id} vanished as it was stored")))?;
        self.unwrap(account_id, &row.wrapped_key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_key_unwraps_under_the_same_master_key_only() {
        let kek = KeyWrapKey::service(&[1u8; 32]);
        let key = DataKey::generate();
        let wrapped = kek.wrap(&key);
        assert_eq!(kek.unwrap("a", &wrapped).unwrap(), key);
        let other = KeyWrapKey::service(&[2u8; 32]);
        assert!(matches!(other.unwrap("a", &wrapped), Err(BackupError::KeyUnavailable { .. })));
    }

    #[test]
    fn keys_never_print() {
        assert_eq!(format!("{:?}", DataKey([9u8; 32])), "DataKey(<redacted>)");
        assert_eq!(format!("{:?}", KeyWrapKey::service(&[1u8; 32])), "KeyWrapKey(service, <redacted>)");
    }
}
