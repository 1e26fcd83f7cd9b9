//! An account's backups as its backup page shows them: the policy, what can be restored, how far
//! behind shipping is, what is stored and how that grew — and what a policy change would drop.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::BackupPolicy;
use crate::restore::BackupPoint;

/// Where an account's backups stand now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BackupStatus {
    pub account_id: String,
    pub account_name: String,
    pub policy: BackupPolicy,
    /// How the backups are encrypted, as the portal shows it.
    pub encryption: String,
    /// Continuous: the first and last restorable instants (none before the first backup pass).
    pub oldest_restorable: Option<DateTime<Utc>>,
    pub latest_restorable: Option<DateTime<Utc>>,
    /// Continuous: how far the latest restorable instant is behind now, in milliseconds (a
    /// live account's write is restorable once this has passed); none before the first pass.
    pub lag_ms: Option<i64>,
    /// For an account migrated from periodic backup: when its continuous restore points begin.
    pub migrated_at: Option<DateTime<Utc>>,
    /// Every periodic full backup within its retention, newest first (for a migrated account,
    /// those from before its migration, restorable by request until they expire).
    pub points: Vec<BackupPoint>,
    /// Continuous: the base snapshots a restore starts from, newest first.
    pub snapshots: Vec<BackupPoint>,
    /// Continuous: the change log in backup storage after them — segments and bytes, and the
    /// commit times of its first and last change.
    pub log_segments: i64,
    pub log_bytes: i64,
    pub log_from: Option<DateTime<Utc>>,
    pub log_to: Option<DateTime<Utc>>,
    /// What backup storage holds for the account now (one copy), in bytes.
    pub stored_bytes: i64,
    /// Storage used over time, oldest first (a sample about every hour).
    pub usage: Vec<UsageSample>,
}

/// What an account's backups took in storage at one time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageSample {
    pub at: DateTime<Utc>,
    pub bytes: i64,
}

/// What a backup policy change would do, shown before it is saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyChangePreview {
    pub before: BackupPolicy,
    pub after: BackupPolicy,
    /// Restore points the change drops at once: periodic backups beyond the new retention and
    /// copies, or (30 → 7 days) the start of the restorable window moving forward.
    pub drops: Vec<String>,
}
