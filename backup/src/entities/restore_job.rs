//! A restore job, durable so that a restart resumes or fails it cleanly (SPEC §4e).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "restore_jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub subscription_id: String,
    pub source_account_id: String,
    /// The account being made (it stays `Restoring` until the job succeeds), or, in place, the
    /// source account itself.
    pub target_account_id: String,
    pub target_name: String,
    pub restore_at: DateTimeUtc,
    /// The databases and containers asked for, as JSON (`[]` = the whole account).
    #[sea_orm(column_type = "Text")]
    pub resources: String,
    pub ttl_disabled: bool,
    /// Deleted databases or containers restored back into their own (live) account.
    pub in_place: bool,
    pub state: JobState,
    pub phase: JobPhase,
    pub items_total: i64,
    pub items_done: i64,
    pub bytes_done: i64,
    /// What went wrong, or the restore summary.
    #[sea_orm(column_type = "Text")]
    pub message: String,
    pub requested_by: String,
    /// The requesting user's id (empty for jobs filed before it was recorded): the approver of a
    /// request must be another user.
    pub requested_by_id: String,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    /// What the job restores, decided once when it was filed (`control::restore::Plan` as JSON;
    /// empty for jobs filed before plans were kept, which are planned when they run).
    #[sea_orm(column_type = "Text", nullable)]
    pub plan: Option<String>,
}

/// Where a restore job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum JobState {
    /// A periodic-mode request, waiting for someone else's approval.
    #[sea_orm(string_value = "AwaitingApproval")]
    AwaitingApproval,
    /// Ready for a runner to claim.
    #[sea_orm(string_value = "Pending")]
    Pending,
    /// Claimed under a lease.
    #[sea_orm(string_value = "Running")]
    Running,
    #[sea_orm(string_value = "Succeeded")]
    Succeeded,
    #[sea_orm(string_value = "Failed")]
    Failed,
    /// A request turned down, with the reason in the message.
    #[sea_orm(string_value = "Rejected")]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum JobPhase {
    /// Filed, not yet reading the backup.
    #[sea_orm(string_value = "plan")]
    Plan,
    /// Reading the snapshots and the log tail.
    #[sea_orm(string_value = "fetch")]
    Fetch,
    /// Writing into the target (recorded before the first write: a runner taking the job over
    /// from here removes what was written first).
    #[sea_orm(string_value = "apply")]
    Apply,
    /// Checking the target after writing: jobs of earlier versions only (verification now goes
    /// along with writing); treated like `apply`.
    #[sea_orm(string_value = "verify")]
    Verify,
    #[sea_orm(string_value = "done")]
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

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
