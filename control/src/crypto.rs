//! The service master key and sealing small secrets (account keys) under it with AES-256-GCM.
//!
//! A sealed value is `base64(nonce ‖ ciphertext ‖ tag)`; the caller's associated data binds it to
//! the row it belongs to, so a sealed value copied onto another row does not open.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rand::RngCore;
use std::fmt;

/// Length of the master key in bytes (AES-256).
pub const MASTER_KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;

/// Why a sealed value could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("sealed value is not valid base64 or is too short")]
    Malformed,
    #[error("sealed value failed authentication (wrong key, or moved from another record)")]
    Authentication,
    #[error("master key must be {MASTER_KEY_LEN} bytes, got {0}")]
    KeyLength(usize),
}

/// The 256-bit service master key. Its bytes never print: `Debug` shows a placeholder.
#[derive(Clone)]
pub struct MasterKey(Aes256Gcm, [u8; MASTER_KEY_LEN]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    /// # Errors
    /// [`CryptoError::KeyLength`] unless `bytes` is exactly 32 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let raw: [u8; MASTER_KEY_LEN] = bytes.try_into().map_err(|_| CryptoError::KeyLength(bytes.len()))?;
        Aes256Gcm::new_from_slice(bytes).map(|c| Self(c, raw)).map_err(|_| CryptoError::KeyLength(bytes.len()))
    }

    /// The service-managed key that wraps accounts' backup data keys (derived from this key, see
    /// `backup::keys`); the server adds the customer-managed keys to it (`AppState::backup_keys`).
    pub fn backup_key_wrap_key(&self) -> backup::keys::KeyWrapKey {
        backup::keys::KeyWrapKey::service(&self.1)
    }

    /// Fresh random key material for a new master key file.
    pub fn generate_bytes() -> [u8; MASTER_KEY_LEN] {
        let mut bytes = [0u8; MASTER_KEY_LEN];
        rand::rng().fill_bytes(&mut bytes);
        bytes
    }

    /// Encrypts `plaintext`, authenticating `aad` with it.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let nonce_arr = Nonce::from(nonce);
        // Encryption with a valid key and an in-memory buffer cannot fail.
        let ciphertext = self.0.encrypt(&nonce_arr, Payload { msg: plaintext, aad }).unwrap_or_default();
        let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        B64.encode(out)
    }

    /// Decrypts a value made by [`Self::seal`] with the same `aad`.
    ///
    /// # Errors
    /// [`CryptoError::Malformed`] for a value that is not a sealed value;
    /// [`CryptoError::Authentication`] for a wrong key, wrong `aad` or altered bytes.
    pub fn open(&self, aad: &[u8], sealed: &str) -> Result<Vec<u8>, CryptoError> {
        let raw = B64.decode(sealed).map_err(|_| CryptoError::Malformed)?;
        if raw.len() < NONCE_LEN + 16 {
            return Err(CryptoError::Malformed);
        }
        let (nonce, ciphertext) = raw.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CryptoError::Malformed)?;
        self.0.decrypt(&Nonce::from(nonce), Payload { msg: ciphertext, aad }).map_err(|_| CryptoError::Authentication)
    }
}

/// `n` random bytes, base64-encoded (account keys are 64 bytes, as Cosmos DB's are).
pub fn random_base64(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    B64.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_with_the_same_key_and_aad() {
        let key = MasterKey::from_bytes(&MasterKey::generate_bytes()).unwrap();
        let sealed = key.seal(b"account:1", b"secret");
        assert_eq!(key.open(b"account:1", &sealed).unwrap(), b"secret");
    }

    #[test]
    fn sealed_values_moved_to_another_record_do_not_open() {
        let key = MasterKey::from_bytes(&MasterKey::generate_bytes()).unwrap();
        let sealed = key.seal(b"account:1", b"secret");
        assert!(matches!(key.open(b"account:2", &sealed), Err(CryptoError::Authentication)));
    }

    #[test]
    fn another_master_key_cannot_open() {
        let a = MasterKey::from_bytes(&MasterKey::generate_bytes()).unwrap();
        let b = MasterKey::from_bytes(&MasterKey::generate_bytes()).unwrap();
        assert!(b.open(b"x", &a.seal(b"x", b"secret")).is_err());
    }

    #[test]
    fn wrong_key_length_is_refused() {
        assert!(matches!(MasterKey::from_bytes(&[0u8; 16]), Err(CryptoError::KeyLength(16))));
    }

    #[test]
    fn debug_output_hides_the_key() {
        let key = MasterKey::from_bytes(&[7u8; 32]).unwrap();
        assert_eq!(format!("{key:?}"), "MasterKey(<redacted>)");
    }

    #[test]
    fn account_keys_are_64_random_bytes() {
        let k = random_base64(64);
        assert_eq!(B64.decode(&k).unwrap().len(), 64);
        assert_ne!(k, random_base64(64));
    }
}
