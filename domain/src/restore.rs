//! A restore job's state and phase, as stored (the `db` feature maps them to their column
//! strings) and as the portal shows them.

#[cfg(feature = "db")]
use sea_orm::sea_query::StringLen;
use serde::{Deserialize, Serialize};

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
}
