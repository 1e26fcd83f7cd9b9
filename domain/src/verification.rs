//! A backup verification's result as the portal, the REST API and the CLI show it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How one verification of an account's backups went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BackupVerification {
    pub account_id: String,
    pub account_name: String,
    /// Every copy read, its hash, tag and contents checked (else presence and size).
    pub deep: bool,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// Object copies checked (each object once per store of the account's redundancy).
    pub objects: u64,
    pub bytes: u64,
    /// No problem found.
    pub passed: bool,
    pub problem_count: u64,
    /// What is wrong, one line each — the object, the store, what (the first thousand).
    pub problems: Vec<String>,
    /// A user's name, `rewind verify`, or `rewind (scheduled)`.
    pub requested_by: String,
}

/// Asks for a verification now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerifyRequest {
    /// Read every copy and check its hash, tag and contents (slower); else presence and size.
    #[serde(default)]
    pub deep: bool,
}
