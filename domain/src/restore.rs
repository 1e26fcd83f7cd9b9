//! Restore as the portal and the REST API show it: a job's state and phase (as stored: the `db`
//! feature maps them to their column strings), restorable accounts and resources, plans, jobs,
//! events, and how a restore time is read.

use chrono::{DateTime, Utc};
#[cfg(feature = "db")]
use sea_orm::sea_query::StringLen;
use serde::{Deserialize, Serialize};

use crate::AccountState;
use crate::error::AppError;
use crate::resource::{EventKind, ResourceType};

/// Where a restore job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "db", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(feature = "db", sea_orm(rs_type = "String", db_type = "String(StringLen::None)"))]
pub enum JobState {
    /// A periodic-mode request, waiting for someone else's approval.
    #[cfg_attr(feature = "db", sea_orm(string_value = "AwaitingApproval"))]
    AwaitingApproval,
    /// Ready for a runner to claim.
    #[cfg_attr(feature = "db", sea_orm(string_value = "Pending"))]
    Pending,
    /// Claimed under a lease.
    #[cfg_attr(feature = "db", sea_orm(string_value = "Running"))]
    Running,
    #[cfg_attr(feature = "db", sea_orm(string_value = "Succeeded"))]
    Succeeded,
    #[cfg_attr(feature = "db", sea_orm(string_value = "Failed"))]
    Failed,
    /// A request turned down, with the reason in the message.
    #[cfg_attr(feature = "db", sea_orm(string_value = "Rejected"))]
    Rejected,
}

impl JobState {
    /// As stored and as the portal shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingApproval => "AwaitingApproval",
            Self::Pending => "Pending",
            Self::Running => "Running",
            Self::Succeeded => "Succeeded",
            Self::Failed => "Failed",
            Self::Rejected => "Rejected",
        }
    }
}

/// What a running job is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "db", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(feature = "db", sea_orm(rs_type = "String", db_type = "String(StringLen::None)"))]
#[serde(rename_all = "lowercase")]
pub enum JobPhase {
    /// Filed, not yet reading the backup.
    #[cfg_attr(feature = "db", sea_orm(string_value = "plan"))]
    Plan,
    /// Reading the snapshots and the log tail.
    #[cfg_attr(feature = "db", sea_orm(string_value = "fetch"))]
    Fetch,
    /// Writing into the target (recorded before the first write: a runner taking the job over
    /// from here removes what was written first).
    #[cfg_attr(feature = "db", sea_orm(string_value = "apply"))]
    Apply,
    /// Checking the target after writing: jobs of earlier versions only (verification now goes
    /// along with writing); treated like `apply`.
    #[cfg_attr(feature = "db", sea_orm(string_value = "verify"))]
    Verify,
    #[cfg_attr(feature = "db", sea_orm(string_value = "done"))]
    Done,
}

impl JobPhase {
    /// As stored and as the portal shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plan => "plan",
            Self::Fetch => "fetch",
            Self::Apply => "apply",
            Self::Verify => "verify",
            Self::Done => "done",
        }
    }

    /// Whether the target may hold some of what the job writes.
    pub fn may_have_written(self) -> bool {
        matches!(self, Self::Apply | Self::Verify)
    }
}

/// An account that can be restored (continuous backup), live or deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RestorableAccount {
    pub id: String,
    pub name: String,
    pub api_kind: crate::ApiKind,
    pub region: String,
    pub state: AccountState,
    pub created_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    /// `Continuous7Days`, `Continuous30Days`, or `Periodic`.
    pub tier: String,
    /// Periodic mode: restore points are the full backups, restored by approved request.
    pub periodic: bool,
    /// The restorable window; `None` until the first backup pass has run.
    pub oldest_restorable: Option<DateTime<Utc>>,
    pub latest_restorable: Option<DateTime<Utc>>,
    /// Whether the caller may start a restore from it (restore permission on the account and
    /// `accounts/write` in the subscription).
    pub can_restore: bool,
    /// Periodic mode: whether the caller may file a restore request.
    pub can_request: bool,
}

/// One periodic full backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BackupPoint {
    pub taken_at: DateTime<Utc>,
    pub items: i64,
    pub bytes: i64,
    /// Periodic: the containers (`database/container`) it holds that the newest backup no
    /// longer does — deleted since; such a backup is kept 30 days whatever the retention.
    #[serde(default)]
    pub deleted_containers: Vec<String>,
}

/// A container as it was at the chosen time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RestorableContainer {
    pub id: String,
    pub partition_key: String,
    pub throughput: Option<i64>,
    pub default_ttl: Option<i64>,
}

/// A database as it was at the chosen time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RestorableDatabase {
    pub id: String,
    /// Shared throughput: such a database is restored whole.
    pub shared_throughput: Option<i64>,
    pub containers: Vec<RestorableContainer>,
}

/// Restore jobs listed per call unless the caller asks for another number.
pub const JOBS_PAGE: u64 = 50;
/// The most restore jobs one call lists.
pub const MAX_JOBS_PAGE: u64 = 1_000;

/// A restore job as the portal shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RestoreJob {
    pub id: String,
    pub source_account_id: String,
    pub source_account_name: String,
    pub target_account_name: String,
    pub restore_at: DateTime<Utc>,
    /// `db` or `db/container`; empty = the whole account.
    pub resources: Vec<String>,
    pub ttl_disabled: bool,
    /// Deleted databases or containers restored back into their own account.
    pub in_place: bool,
    pub state: JobState,
    pub phase: JobPhase,
    pub items_total: i64,
    pub items_done: i64,
    pub bytes_done: i64,
    pub message: String,
    pub requested_by: String,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// A request awaiting approval that the caller may approve or reject.
    pub can_decide: bool,
}

/// What a restore will do, before it is filed (a dry run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RestorePlan {
    pub restore_at: DateTime<Utc>,
    pub target_account_name: String,
    /// `db/container` of every container it restores.
    pub resources: Vec<String>,
    pub databases: usize,
    pub containers: usize,
    /// About how many items (from the snapshot it starts from).
    pub items: u64,
    /// Backup data it reads: stored bytes, snapshot chunks and log segments.
    pub backup_bytes: u64,
    pub chunks: u64,
    pub segments: u64,
}

/// A database or container event from an account's backup (newest first in lists).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResourceEvent {
    pub at: DateTime<Utc>,
    pub kind: EventKind,
    /// `database` or `container`.
    pub resource_type: ResourceType,
    pub database: String,
    /// Empty for a database event.
    pub container: String,
    /// A deletion that can be undone in place now: the account is live, the name is free, the
    /// parent database (for a container) exists, and the moment before it is restorable.
    pub restorable_in_place: bool,
    /// Just before the event: the default restore point for undoing a deletion.
    pub restore_point: DateTime<Utc>,
}

impl ResourceEvent {
    /// `db` or `db/container`, as a restore names it.
    pub fn name(&self) -> String {
        if self.container.is_empty() { self.database.clone() } else { format!("{}/{}", self.database, self.container) }
    }
}

impl RestoreJob {
    /// Done, one way or the other.
    pub fn is_finished(&self) -> bool {
        matches!(self.state, JobState::Succeeded | JobState::Failed | JobState::Rejected)
    }

    /// Percent of items written, 0–100.
    pub fn percent(&self) -> i64 {
        if self.state == JobState::Succeeded {
            100
        } else if self.items_total > 0 {
            (self.items_done * 100 / self.items_total).clamp(0, 100)
        } else {
            0
        }
    }
}

/// Parses a restore time: RFC 3339 (`2026-11-25T10:15:30Z`, fractions allowed) or the portal's
/// `2026-11-25T10:15:30` / `2026-11-25T10:15`, read as UTC.
///
/// # Errors
/// [`AppError::Invalid`] showing the expected form.
pub fn parse_restore_time(text: &str) -> Result<DateTime<Utc>, AppError> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(n) = chrono::NaiveDateTime::parse_from_str(t, fmt) {
            return Ok(n.and_utc());
        }
    }
    Err(AppError::Invalid(format!("restore time {t:?} is not a UTC time like 2026-11-25T10:15:30Z")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_phases_travel_as_they_are_stored() {
        for s in
            [JobState::AwaitingApproval, JobState::Pending, JobState::Running, JobState::Succeeded, JobState::Failed, JobState::Rejected]
        {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for p in [JobPhase::Plan, JobPhase::Fetch, JobPhase::Apply, JobPhase::Verify, JobPhase::Done] {
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
    }

    #[test]
    fn restore_times_read_rfc3339_and_the_portal_form() {
        let t = parse_restore_time("2026-11-25T10:15:30Z").unwrap();
        assert_eq!(parse_restore_time("2026-11-25T10:15:30").unwrap(), t);
        assert_eq!(parse_restore_time("2026-11-25T12:15:30+02:00").unwrap(), t);
        assert!(parse_restore_time("2026-11-25T10:15").is_ok());
        let e = parse_restore_time("yesterday").unwrap_err();
        assert!(e.to_string().contains("\"yesterday\""), "{e}");
    }
}
