//! One change-log entry: what changed, in which container, and the new state (or a tombstone).

pub use domain::resource::{ChangeOp, ResourceType};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "change_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub committed_at: DateTimeUtc,
    pub op: ChangeOp,
    pub resource_type: ResourceType,
    pub database_id: String,
    /// Empty for database changes.
    pub container_id: String,
    pub pk: Option<String>,
    pub item_id: Option<String>,
    /// The full new resource as JSON; `None` for a deletion (tombstone).
    #[sea_orm(column_type = "Text", nullable)]
    pub body: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
