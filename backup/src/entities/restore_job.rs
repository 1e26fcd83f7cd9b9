//! A restore job, durable so that a restart resumes or fails it cleanly (SPEC §4e).

pub use domain::restore::{JobPhase, JobState};
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

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
