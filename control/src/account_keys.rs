//! An account's four data-plane keys, sealed under the service master key and bound to their
//! account row.

use domain::AccountKeys;
use domain::error::AppError;

use crate::crypto::{MasterKey, random_base64};
use crate::db::account;

/// The associated data that binds sealed keys to their account row.
fn keys_aad(account_id: &str) -> Vec<u8> {
    format!("rewind/account-keys/{account_id}").into_bytes()
}

/// Fresh keys, sealed for `account_id`.
pub fn seal_new_keys(master: &MasterKey, account_id: &str) -> String {
    let keys = AccountKeys {
        primary_master_key: random_base64(64),
        secondary_master_key: random_base64(64),
        primary_readonly_master_key: random_base64(64),
        secondary_readonly_master_key: random_base64(64),
    };
    seal_keys(master, account_id, &keys)
}

/// `keys`, sealed for `account_id`.
pub fn seal_keys(master: &MasterKey, account_id: &str, keys: &AccountKeys) -> String {
    let json = serde_json::to_vec(keys).unwrap_or_default();
    master.seal(&keys_aad(account_id), &json)
}

/// Opens an account's sealed keys.
///
/// # Errors
/// [`AppError::Internal`] if they do not open (a different master key, or a tampered row).
pub fn open_keys(master: &MasterKey, row: &account::Model) -> Result<AccountKeys, AppError> {
    let plain = master.open(&keys_aad(&row.id), &row.sealed_keys).map_err(|e| {
        tracing::error!(account = %row.id, error = %e, "account keys do not open");
        AppError::Internal
    })?;
    serde_json::from_slice(&plain).map_err(|e| {
        tracing::error!(account = %row.id, error = %e, "account keys are not valid JSON");
        AppError::Internal
    })
}
