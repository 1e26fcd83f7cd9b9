//! A database or container change in the backup catalog: what the change log said, minus items.

pub use domain::resource::{ChangeOp, ResourceType};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "backup_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub committed_at: DateTimeUtc,
    pub op: ChangeOp,
    /// `Database` or `Container`.
    pub resource_type: ResourceType,
    pub database_id: String,
    pub container_id: String,
    /// The resource's properties after the change; `None` for a deletion.
    #[sea_orm(column_type = "Text", nullable)]
    pub body: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
