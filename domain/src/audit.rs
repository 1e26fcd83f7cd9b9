//! The audit log's wire types (SPEC §5): an entry as the portal shows it, the filters for listing
//! and exporting, the chain check's report, and how an audited action ended.

use chrono::{DateTime, Utc};
#[cfg(feature = "db")]
use sea_orm::sea_query::StringLen;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::error::AppError;

/// One audit entry as the portal shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub user_name: String,
    pub client_ip: String,
    pub action: String,
    pub scope: String,
    pub resource: String,
    pub outcome: Outcome,
    pub detail: String,
}

/// Filters for listing and exporting; empty strings mean "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// RFC 3339 or `YYYY-MM-DD` (UTC); inclusive.
    #[serde(default)]
    pub from: String,
    /// RFC 3339 or `YYYY-MM-DD` (UTC); a date means the end of that day.
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub user: String,
    /// An action, or a prefix ending in `*` (`accounts/*`).
    #[serde(default)]
    pub action: String,
    /// `succeeded`, `failed` or `denied`.
    #[serde(default)]
    pub outcome: String,
}

/// The result of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainReport {
    pub rows_checked: u64,
    /// The first row that does not fit, and why.
    pub problem: Option<(i64, String)>,
}

/// How an audited action ended (stored, shown and filtered as `succeeded`, `failed`, `denied`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "db", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(feature = "db", sea_orm(rs_type = "String", db_type = "String(StringLen::None)"))]
pub enum Outcome {
    #[cfg_attr(feature = "db", sea_orm(string_value = "succeeded"))]
    Succeeded,
    #[cfg_attr(feature = "db", sea_orm(string_value = "failed"))]
    Failed,
    #[cfg_attr(feature = "db", sea_orm(string_value = "denied"))]
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::Denied => "denied",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Outcome {
    type Err = AppError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "succeeded" => Ok(Outcome::Succeeded),
            "failed" => Ok(Outcome::Failed),
            "denied" => Ok(Outcome::Denied),
            other => Err(AppError::invalid(format!("outcome must be succeeded, failed or denied (got {other:?})"))),
        }
    }
}
