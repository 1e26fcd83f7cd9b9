//! A base snapshot: the whole account as of change `seq`, sealed in one object.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "backup_snapshots")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: String,
    /// The last change the snapshot includes.
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    /// The commit time of change `seq`.
    pub taken_at: DateTimeUtc,
    pub object_key: String,
    pub bytes: i64,
    /// SHA-256 (hex) of the object as stored.
    pub sha256: String,
    pub items: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
