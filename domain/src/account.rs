//! Account lifecycle states and key kinds (SPEC §1).

use chrono::{DateTime, Utc};
#[cfg(feature = "db")]
use sea_orm::sea_query::StringLen;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::BackupPolicy;
use crate::error::AppError;

/// Where an account is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "db", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(feature = "db", sea_orm(rs_type = "String", db_type = "String(StringLen::None)"))]
pub enum AccountState {
    #[cfg_attr(feature = "db", sea_orm(string_value = "Creating"))]
    Creating,
    /// Takes reads and writes.
    #[cfg_attr(feature = "db", sea_orm(string_value = "Online"))]
    Online,
    /// Being made by a restore: it takes no writes until the restore succeeds.
    #[cfg_attr(feature = "db", sea_orm(string_value = "Restoring"))]
    Restoring,
    #[cfg_attr(feature = "db", sea_orm(string_value = "Deleting"))]
    Deleting,
    /// Gone from the live list, kept restorable for its retention.
    #[cfg_attr(feature = "db", sea_orm(string_value = "Deleted"))]
    Deleted,
}

/// How an account came to be (Cosmos DB's `createMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "db", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(feature = "db", sea_orm(rs_type = "String", db_type = "String(StringLen::None)"))]
pub enum CreateMode {
    /// Created empty.
    #[cfg_attr(feature = "db", sea_orm(string_value = "Default"))]
    Default,
    /// Made by a restore into a new account.
    #[cfg_attr(feature = "db", sea_orm(string_value = "Restore"))]
    Restore,
}

/// The API an account serves (Cosmos DB's `kind`): Rewind serves the NoSQL one, which Cosmos
/// DB's resource model calls `Sql`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "db", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(feature = "db", sea_orm(rs_type = "String", db_type = "String(StringLen::None)"))]
pub enum ApiKind {
    #[cfg_attr(feature = "db", sea_orm(string_value = "Sql"))]
    Sql,
}

impl fmt::Display for ApiKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ApiKind::Sql => "Sql",
        })
    }
}

/// Whose key wraps the account's backup data key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "db", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(feature = "db", sea_orm(rs_type = "String", db_type = "String(StringLen::None)"))]
pub enum KeyManagement {
    /// The service's master key.
    #[cfg_attr(feature = "db", sea_orm(string_value = "ServiceManaged"))]
    ServiceManaged,
    /// A key the operator provides (issue #11).
    #[cfg_attr(feature = "db", sea_orm(string_value = "CustomerManaged"))]
    CustomerManaged,
}

impl AccountState {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountState::Creating => "Creating",
            AccountState::Online => "Online",
            AccountState::Restoring => "Restoring",
            AccountState::Deleting => "Deleting",
            AccountState::Deleted => "Deleted",
        }
    }
}

impl FromStr for AccountState {
    type Err = AppError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "Creating" => AccountState::Creating,
            "Online" => AccountState::Online,
            "Restoring" => AccountState::Restoring,
            "Deleting" => AccountState::Deleting,
            "Deleted" => AccountState::Deleted,
            other => return Err(AppError::invalid(format!("unknown account state {other:?}"))),
        })
    }
}

impl fmt::Display for AccountState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl KeyManagement {
    /// As the portal shows it.
    pub fn label(self) -> &'static str {
        match self {
            KeyManagement::ServiceManaged => "Service-managed key",
            KeyManagement::CustomerManaged => "Customer-managed key",
        }
    }

    /// As the portal shows an account's encryption: the label, and the customer key's name.
    pub fn describe(self, customer_key: Option<&str>) -> String {
        match customer_key {
            Some(k) => format!("{} ({k})", self.label()),
            None => self.label().to_owned(),
        }
    }
}

/// The four account keys Cosmos DB issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum KeyKind {
    PrimaryMaster,
    SecondaryMaster,
    PrimaryReadonly,
    SecondaryReadonly,
}

/// What a restored account was restored from (`createMode: Restore`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RestoreParameters {
    pub source_account_id: String,
    pub source_account_name: String,
    pub restore_at: DateTime<Utc>,
    /// `db` or `db/container` entries; empty = the whole account.
    pub resources: Vec<String>,
    pub ttl_disabled: bool,
}

/// The account's four keys, each 64 random bytes in base64, as Cosmos DB issues them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AccountKeys {
    pub primary_master_key: String,
    pub secondary_master_key: String,
    pub primary_readonly_master_key: String,
    pub secondary_readonly_master_key: String,
}

/// An account as the portal shows it (no key material).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Account {
    pub id: String,
    pub subscription_id: String,
    pub name: String,
    pub region: String,
    /// `Sql` (the Cosmos DB for NoSQL API).
    pub api_kind: ApiKind,
    pub state: AccountState,
    pub created_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub backup_policy: BackupPolicy,
    pub key_management: KeyManagement,
    /// The customer-managed key that wraps its backups' data key, if it has one.
    pub customer_key: Option<String>,
    /// `Restore` for an account made by a restore.
    pub create_mode: CreateMode,
    /// Where SDKs reach the account's data plane.
    pub endpoint: String,
    /// For a restored account: where and when it came from.
    pub restore_parameters: Option<RestoreParameters>,
}
