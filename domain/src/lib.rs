//! The domain model shared by the server and the browser: names and their rules, backup policies,
//! account states, roles, the audit log's wire types and the one error type. Everything here is
//! pure and validated on construction, so that a value of one of these types is known to be well
//! formed wherever it travels. It compiles to WebAssembly: no database, no Leptos (the error's
//! server-function encoding is the `server-fn` feature, its database conversions the `db` one).

mod account;
pub mod api_token;
pub mod audit;
mod backup_policy;
pub mod backup_status;
pub mod error;
pub mod explorer;
mod names;
pub mod rbac;
pub mod resource;
pub mod restore;
pub mod tenancy;
pub mod verification;

pub use account::{Account, AccountKeys, AccountState, ApiKind, CreateMode, KeyKind, KeyManagement, RestoreParameters};
pub use backup_policy::{BackupMode, BackupPolicy, BackupPolicyChange, BackupPolicyInput, ContinuousTier, Redundancy};
pub use names::{AccountName, RegionName, SubscriptionName, UserName, validate_new_password};
