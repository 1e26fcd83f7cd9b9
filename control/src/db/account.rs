//! A database account. Deleted accounts keep their row (with `deleted_at` set) so that they stay
//! restorable; only live accounts hold their name exclusively.

use domain::rbac::Scope;
pub use domain::{AccountState, BackupPolicy, CreateMode, KeyManagement};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub subscription_id: String,
    pub name: String,
    pub region: String,
    pub api_kind: domain::ApiKind,
    pub state: AccountState,
    pub created_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
    /// Stored as its JSON.
    #[sea_orm(column_type = "Text")]
    pub backup_policy: BackupPolicy,
    pub key_management: KeyManagement,
    pub create_mode: CreateMode,
    /// The four account keys as JSON, sealed under the service master key (`crypto::MasterKey`).
    #[sea_orm(column_type = "Text")]
    pub sealed_keys: String,
    /// For an account made by a restore: the source, time and selection, as JSON.
    #[sea_orm(column_type = "Text", nullable)]
    pub restore_parameters: Option<String>,
    /// For an account made by a restore: when the restore finished and it came online (it
    /// holds nothing worth restoring from before then).
    pub online_since: Option<DateTimeUtc>,
    /// The customer-managed key that wraps the account's backup data key (`None`: the
    /// service-managed key).
    pub customer_key: Option<String>,
    /// For an account migrated from periodic to continuous backup: when its continuous restore
    /// points begin (nothing before it is restorable to a second).
    pub migrated_at: Option<DateTimeUtc>,
    /// For such an account: the retention its periodic backups were taken under, which keeps
    /// them restorable by request until they expire.
    pub periodic_retention_hours: Option<i32>,
}

impl Model {
    /// The account's place in the scope tree (roles are granted on scopes).
    pub fn scope(&self) -> Scope {
        Scope::Account { subscription_id: self.subscription_id.clone(), account_id: self.id.clone() }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
