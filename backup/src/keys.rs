//! Envelope encryption: every account has its own random 256-bit data key that seals its backup
//! objects; the data key is stored only wrapped (RFC 3394 AES key wrap) by a key-encryption key.
//! The service-managed key-encryption key is derived from the master key, so backups never hold
//! a plaintext key and a copy of the backup folder alone opens nothing. Key-encryption keys come
//! from [`KeyProvider`]s: the service key, and customer-managed key files the operator keeps in
//! a directory the service reads (a KMS would be one more provider); a key file removed, the
//! backups it wraps cannot be read, and every read says so naming the key.

use aes_kw::KwAes256;
use aes_kw::cipher::KeyInit;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::Utc;
use rand::RngCore;
use sea_orm::{ConnectionTrait, EntityTrait};
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::Arc;

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

/// Which key wraps an account's data key, as `backup_keys.wrapped_by` records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wrapper {
    /// The service-managed key, derived from the master key.
    Service,
    /// A customer-managed key: the file `<name>.key` in the configured key directory.
    Customer(String),
}

impl Wrapper {
    /// As stored: `service`, or `customer:<name>`.
    pub fn stored(&self) -> String {
        match self {
            Self::Service => "service".to_owned(),
            Self::Customer(name) => format!("customer:{name}"),
        }
    }

    /// Reads a stored `wrapped_by`.
    ///
    /// # Errors
    /// [`BackupError::Integrity`] for anything else.
    pub fn parse(stored: &str) -> Result<Self, BackupError> {
        match stored.split_once(':') {
            None if stored == "service" => Ok(Self::Service),
            Some(("customer", name)) => Ok(Self::Customer(name.to_owned())),
            _ => Err(BackupError::Integrity(format!("a data key is wrapped by {stored:?}, which is no key this service knows"))),
        }
    }
}

impl fmt::Display for Wrapper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Service => f.write_str("the service-managed key"),
            Self::Customer(name) => write!(f, "customer-managed key {name:?}"),
        }
    }
}

/// Where key-encryption keys come from: the service's own key, a directory of customer key
/// files — and, later, a KMS. A provider wraps and unwraps data keys under a key it names; it
/// never hands a key-encryption key out. Errors say why, for messages that name the key.
pub trait KeyProvider: Send + Sync {
    /// The keys it offers to choose from, by name.
    ///
    /// # Errors
    /// Why they cannot be listed.
    fn names(&self) -> Result<Vec<String>, String>;
    /// Wraps `key` under the key `name` (the stored form: bytes to be base64-encoded).
    ///
    /// # Errors
    /// Why that key is not available.
    fn wrap(&self, name: &str, key: &DataKey) -> Result<Vec<u8>, String>;
    /// Unwraps what [`Self::wrap`] gave under the key `name`.
    ///
    /// # Errors
    /// Why that key is not available, or does not unwrap it.
    fn unwrap(&self, name: &str, wrapped: &[u8]) -> Result<DataKey, String>;
}

/// AES key wrap (RFC 3394) under a 256-bit key-encryption key.
fn aes_wrap(kek: &[u8; KEY_LEN], key: &DataKey) -> Vec<u8> {
    let mut out = [0u8; WRAPPED_LEN];
    KwAes256::new(&(*kek).into()).wrap_key(&key.0, &mut out).map(<[u8]>::to_vec).unwrap_or_default()
}

fn aes_unwrap(kek: &[u8; KEY_LEN], wrapped: &[u8]) -> Option<DataKey> {
    let mut out = [0u8; WRAPPED_LEN];
    let key = KwAes256::new(&(*kek).into()).unwrap_key(wrapped, &mut out).ok()?;
    Some(DataKey(key.try_into().ok()?))
}

/// The service-managed key, derived from the master key (one key; its name is not asked).
struct ServiceKey([u8; KEY_LEN]);

impl KeyProvider for ServiceKey {
    fn names(&self) -> Result<Vec<String>, String> {
        Ok(Vec::new())
    }

    fn wrap(&self, _: &str, key: &DataKey) -> Result<Vec<u8>, String> {
        Ok(aes_wrap(&self.0, key))
    }

    fn unwrap(&self, _: &str, wrapped: &[u8]) -> Result<DataKey, String> {
        aes_unwrap(&self.0, wrapped).ok_or_else(|| "the data key does not unwrap under it (was the master key replaced?)".to_owned())
    }
}

/// Customer-managed keys as files `<name>.key` (32 bytes of base64) in a directory the operator
/// keeps. A key is read from its file each time it is used, so removing the file revokes it at
/// once.
struct KeyFiles(std::path::PathBuf);

impl KeyFiles {
    fn key(&self, name: &str) -> Result<[u8; KEY_LEN], String> {
        if !valid_key_name(name) {
            return Err("its name is not a valid key name (letters, digits, - and _, up to 64)".to_owned());
        }
        let path = self.0.join(format!("{name}.key"));
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{} ({e}) — was it removed or revoked?", path.display()))?;
        let bytes = B64.decode(text.trim()).map_err(|_| format!("{} is not base64", path.display()))?;
        bytes.try_into().map_err(|_| format!("{} is not {KEY_LEN} bytes", path.display()))
    }
}

impl KeyProvider for KeyFiles {
    fn names(&self) -> Result<Vec<String>, String> {
        let entries = std::fs::read_dir(&self.0).map_err(|e| format!("customer key directory {}: {e}", self.0.display()))?;
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str()?.strip_suffix(".key").map(str::to_owned))
            .filter(|n| valid_key_name(n))
            .collect();
        names.sort_unstable();
        Ok(names)
    }

    fn wrap(&self, name: &str, key: &DataKey) -> Result<Vec<u8>, String> {
        Ok(aes_wrap(&self.key(name)?, key))
    }

    fn unwrap(&self, name: &str, wrapped: &[u8]) -> Result<DataKey, String> {
        aes_unwrap(&self.key(name)?, wrapped).ok_or_else(|| "the data key does not unwrap under it (was the key file replaced?)".to_owned())
    }
}

/// The keys that wrap data keys: the service-managed one and, where the operator configured a
/// directory of key files, the customer-managed ones ([`KeyProvider`]s). Never printed.
#[derive(Clone)]
pub struct KeyWrapKey {
    service: Arc<dyn KeyProvider>,
    customer: Option<Arc<dyn KeyProvider>>,
}

impl fmt::Debug for KeyWrapKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyWrapKey(service, <redacted>)")
    }
}

/// How a customer key may be named: it is a file name.
fn valid_key_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl KeyWrapKey {
    /// The service-managed key-encryption key, derived from the master key's bytes with a
    /// purpose label so the master key itself is used by one algorithm only.
    pub fn service(master_key: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(b"rewind/backup/key-encryption-key/v1\0");
        h.update(master_key);
        Self { service: Arc::new(ServiceKey(h.finalize().into())), customer: None }
    }

    /// These keys, and the customer-managed keys in `dir` (`<name>.key` files holding 32 bytes of
    /// base64).
    #[must_use]
    pub fn with_customer_keys(self, dir: Option<std::path::PathBuf>) -> Self {
        Self { customer: dir.map(|d| Arc::new(KeyFiles(d)) as Arc<dyn KeyProvider>), ..self }
    }

    /// The customer-managed keys there are, by name.
    ///
    /// # Errors
    /// [`BackupError::Invalid`] when they cannot be listed.
    pub fn customer_key_names(&self) -> Result<Vec<String>, BackupError> {
        self.customer.as_ref().map_or(Ok(Vec::new()), |c| c.names().map_err(BackupError::Invalid))
    }

    /// The provider of `wrapper`'s key and the name to ask it for.
    fn provider<'a>(&'a self, account_id: &str, wrapper: &'a Wrapper) -> Result<(&'a dyn KeyProvider, &'a str), BackupError> {
        match wrapper {
            Wrapper::Service => Ok((self.service.as_ref(), "")),
            Wrapper::Customer(name) => match &self.customer {
                Some(c) => Ok((c.as_ref(), name.as_str())),
                None => Err(BackupError::KeyUnavailable {
                    account: account_id.to_owned(),
                    why: format!("{wrapper} is needed, and this server has no customer key directory (customer_keys_dir)"),
                }),
            },
        }
    }

    /// Checks that `wrapper` is a key this service can use now.
    ///
    /// # Errors
    /// [`BackupError::Invalid`] naming the key and why.
    pub fn check(&self, wrapper: &Wrapper) -> Result<(), BackupError> {
        self.wrap("", wrapper, &DataKey([0u8; KEY_LEN])).map(|_| ()).map_err(|e| match e {
            BackupError::KeyUnavailable { why, .. } => BackupError::Invalid(why),
            other => other,
        })
    }

    /// Wraps `key` under `wrapper` for storage (base64).
    ///
    /// # Errors
    /// [`BackupError::KeyUnavailable`] when that key is not available.
    pub fn wrap(&self, account_id: &str, wrapper: &Wrapper, key: &DataKey) -> Result<String, BackupError> {
        let (provider, name) = self.provider(account_id, wrapper)?;
        let wrapped = provider.wrap(name, key).map_err(|why| BackupError::KeyUnavailable {
            account: account_id.to_owned(),
            why: format!("{wrapper} is not available: {why}"),
        })?;
        Ok(B64.encode(wrapped))
    }

    /// Unwraps a stored data key (`wrapped_by` says under which key).
    ///
    /// # Errors
    /// [`BackupError::KeyUnavailable`], naming the key, when it does not unwrap.
    pub fn unwrap(&self, account_id: &str, wrapped: &str, wrapped_by: &str) -> Result<DataKey, BackupError> {
        let unavailable = |why: String| BackupError::KeyUnavailable { account: account_id.to_owned(), why };
        let wrapper = Wrapper::parse(wrapped_by)?;
        let (provider, name) = self.provider(account_id, &wrapper)?;
        let raw = B64.decode(wrapped).map_err(|_| unavailable("the wrapped data key is not valid base64".into()))?;
        provider.unwrap(name, &raw).map_err(|why| unavailable(format!("{wrapper} is not available: {why}")))
    }

    /// The account's data key, made (under the service key) and stored on first use — in backup
    /// storage first ([`crate::journal::store_key`]), so that nothing is sealed under a key that
    /// only the service database holds. Two replicas asking at once both end up with the one
    /// that backup storage took first.
    ///
    /// # Errors
    /// Database and storage errors; [`BackupError::KeyUnavailable`] if the stored key does not
    /// unwrap (naming the key that wraps it).
    pub async fn data_key(&self, db: &impl ConnectionTrait, storage: &BackupStorage, account_id: &str) -> Result<DataKey, BackupError> {
        if let Some(row) = backup_key::Entity::find_by_id(account_id.to_owned()).one(db).await? {
            return self.unwrap(account_id, &row.wrapped_key, &row.wrapped_by);
        }
        self.make_data_key(db, storage, account_id, &Wrapper::Service).await
    }

    /// Makes the account's data key under `wrapper` (an account created with a customer-managed
    /// key gets its data key when it is created); the existing one if it has one.
    ///
    /// # Errors
    /// As [`Self::data_key`].
    pub async fn make_data_key(
        &self,
        db: &impl ConnectionTrait,
        storage: &BackupStorage,
        account_id: &str,
        wrapper: &Wrapper,
    ) -> Result<DataKey, BackupError> {
        if let Some(row) = backup_key::Entity::find_by_id(account_id.to_owned()).one(db).await? {
            return self.unwrap(account_id, &row.wrapped_key, &row.wrapped_by);
        }
        let fresh = backup_key::Model {
            account_id: account_id.to_owned(),
            wrapped_key: self.wrap(account_id, wrapper, &DataKey::generate())?,
            wrapped_by: wrapper.stored(),
            created_at: Utc::now(),
        };
        let stored = crate::journal::store_key(storage, fresh).await?;
        backup_key::Entity::insert(backup_key::ActiveModel::from(stored)).on_conflict_do_nothing().exec(db).await?;
        let row = backup_key::Entity::find_by_id(account_id.to_owned())
            .one(db)
            .await?
            .ok_or_else(|| BackupError::Integrity(format!("the data key of account {account_id} vanished as it was stored")))?;
        self.unwrap(account_id, &row.wrapped_key, &row.wrapped_by)
    }

    /// Checks that the account's data key, if it has one, opens now.
    ///
    /// # Errors
    /// [`BackupError::KeyUnavailable`] naming the key that wraps it; database errors.
    pub async fn check_account(&self, db: &impl ConnectionTrait, account_id: &str) -> Result<(), BackupError> {
        if let Some(row) = backup_key::Entity::find_by_id(account_id.to_owned()).one(db).await? {
            self.unwrap(account_id, &row.wrapped_key, &row.wrapped_by)?;
        }
        Ok(())
    }

    /// Rotation: wraps the account's data key under `to` instead (made under `to` if the account
    /// has none yet) — in backup storage first (the next key object), then the catalog, changed
    /// only if no one changed it meanwhile (else it looks again). No backup object is
    /// re-encrypted: the data key is the same, only its wrapping changes.
    ///
    /// # Errors
    /// [`BackupError::KeyUnavailable`] when the current or the new key is not available; database
    /// and storage errors.
    pub async fn rotate(
        &self,
        db: &impl ConnectionTrait,
        storage: &BackupStorage,
        account_id: &str,
        to: &Wrapper,
    ) -> Result<backup_key::Model, BackupError> {
        use sea_orm::{ColumnTrait, QueryFilter, sea_query::Expr};
        loop {
            let Some(row) = backup_key::Entity::find_by_id(account_id.to_owned()).one(db).await? else {
                self.make_data_key(db, storage, account_id, to).await?;
                continue;
            };
            if row.wrapped_by == to.stored() {
                return Ok(row);
            }
            let key = self.unwrap(account_id, &row.wrapped_key, &row.wrapped_by)?;
            let rewrapped = backup_key::Model {
                wrapped_key: self.wrap(account_id, to, &key)?,
                wrapped_by: to.stored(),
                created_at: Utc::now(),
                ..row.clone()
            };
            crate::journal::store_next_key(storage, &rewrapped).await?;
            let changed = backup_key::Entity::update_many()
                .col_expr(backup_key::Column::WrappedKey, Expr::value(rewrapped.wrapped_key.clone()))
                .col_expr(backup_key::Column::WrappedBy, Expr::value(rewrapped.wrapped_by.clone()))
                .col_expr(backup_key::Column::CreatedAt, Expr::value(rewrapped.created_at))
                .filter(backup_key::Column::AccountId.eq(account_id))
                .filter(backup_key::Column::WrappedKey.eq(row.wrapped_key))
                .exec(db)
                .await?;
            if changed.rows_affected == 1 {
                return Ok(rewrapped);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_key_unwraps_under_the_same_master_key_only() {
        let kek = KeyWrapKey::service(&[1u8; 32]);
        let key = DataKey::generate();
        let wrapped = kek.wrap("a", &Wrapper::Service, &key).unwrap();
        assert_eq!(kek.unwrap("a", &wrapped, "service").unwrap(), key);
        let other = KeyWrapKey::service(&[2u8; 32]);
        assert!(matches!(other.unwrap("a", &wrapped, "service"), Err(BackupError::KeyUnavailable { .. })));
    }

    #[test]
    fn keys_never_print() {
        assert_eq!(format!("{:?}", DataKey([9u8; 32])), "DataKey(<redacted>)");
        assert_eq!(format!("{:?}", KeyWrapKey::service(&[1u8; 32])), "KeyWrapKey(service, <redacted>)");
    }
}
