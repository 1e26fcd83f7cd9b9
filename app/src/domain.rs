//! The domain model shared by the server and the browser: names and their rules, backup policies,
//! account states. Everything here is pure and validated on construction, so that a value of one
//! of these types is known to be well formed wherever it travels.

mod account;
mod backup_policy;
mod names;
pub mod rbac;

pub use account::{AccountState, KeyKind};
pub use backup_policy::{BackupPolicy, BackupPolicyInput, ContinuousTier, Redundancy};
pub use names::{AccountName, RegionName, SubscriptionName, UserName, validate_new_password};
