//! A new account's row: the one place an account is made, whether created empty or reserved for
//! a restore. Its name must be free (checked first, and held by the unique index when two race:
//! both answer the same), its keys are fresh and sealed under the master key.

use backup::keys::Wrapper;
use chrono::Utc;
use domain::error::{AppError, conflict_on_unique};
use domain::{AccountName, AccountState, ApiKind, BackupPolicy, CreateMode, KeyManagement, RegionName, RestoreParameters};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

use crate::Ctx;
use crate::account_keys::seal_new_keys;
use crate::account_names::{ensure_free, taken_message};
use crate::db::account;

/// Everything an account starts with that its maker decides.
pub struct NewAccount<'a> {
    pub subscription_id: &'a str,
    pub name: &'a AccountName,
    pub region: &'a RegionName,
    /// `Sql` (the Cosmos DB for NoSQL API).
    pub api_kind: ApiKind,
    pub state: AccountState,
    pub policy: &'a BackupPolicy,
    /// The customer-managed key that wraps its backups' data key (`None`: the service's).
    pub customer_key: Option<&'a str>,
    pub create_mode: CreateMode,
    pub restore_parameters: Option<&'a RestoreParameters>,
}

impl NewAccount<'_> {
    /// Inserts the row (inside the caller's transaction, if `db` is one). With a customer-managed
    /// key, the account's data key is made now, wrapped by it (and kept in backup storage).
    ///
    /// # Errors
    /// [`AppError::Invalid`] when this server keeps no store for the policy's redundancy, or the
    /// customer key is not available (named); [`AppError::Conflict`] naming a taken name;
    /// database and storage errors.
    pub async fn insert(self, db: &impl ConnectionTrait, ctx: &Ctx<'_>) -> Result<account::Model, AppError> {
        ensure_kept(ctx.backup_storage, self.policy)?;
        let wrapper = self.customer_key.map(|k| Wrapper::Customer(k.to_owned()));
        if let Some(w) = &wrapper {
            ctx.backup_kek().check(w).map_err(|e| AppError::invalid(e.to_string()))?;
        }
        ensure_free(db, self.name.as_str()).await?;
        let id = uuid::Uuid::new_v4().to_string();
        if let Some(w) = &wrapper {
            // Made before the account exists, so no backup pass can make one under another key
            // first (a name lost to a race below leaves an unused key behind, nothing else).
            let storage = ctx.backup_storage.writing_for(self.policy.redundancy()).map_err(|e| AppError::invalid(e.to_string()))?;
            ctx.backup_kek().make_data_key(db, &storage, &id, w).await.map_err(|e| AppError::invalid(e.to_string()))?;
        }
        let row = account::ActiveModel {
            sealed_keys: Set(seal_new_keys(ctx.master_key, &id)),
            id: Set(id),
            subscription_id: Set(self.subscription_id.to_owned()),
            name: Set(self.name.to_string()),
            region: Set(self.region.to_string()),
            api_kind: Set(self.api_kind),
            state: Set(self.state),
            created_at: Set(Utc::now()),
            deleted_at: Set(None),
            backup_policy: Set(*self.policy),
            key_management: Set(if wrapper.is_some() { KeyManagement::CustomerManaged } else { KeyManagement::ServiceManaged }),
            create_mode: Set(self.create_mode),
            restore_parameters: Set(self.restore_parameters.map(to_json).transpose()?),
            online_since: Set(None),
            customer_key: Set(self.customer_key.map(str::to_owned)),
            migrated_at: Set(None),
            periodic_retention_hours: Set(None),
        }
        .insert(db)
        .await
        .map_err(|e| conflict_on_unique(e, &taken_message(self.name.as_str())))?;
        Ok(row)
    }
}

/// Backups of a policy go to the stores of its redundancy: this server must have them (a `Zone`
/// or `Geo` account on a server without that second store would never be backed up).
///
/// # Errors
/// [`AppError::Invalid`] naming the setting that would provide the store.
pub fn ensure_kept(storage: &backup::storage::BackupStorage, policy: &BackupPolicy) -> Result<(), AppError> {
    storage.keeps(policy.redundancy()).map_err(|e| AppError::invalid(e.to_string()))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, AppError> {
    serde_json::to_string(value).map_err(|_| AppError::Internal)
}
