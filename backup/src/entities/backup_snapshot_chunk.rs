//! One chunk of a snapshot: a sealed run of one container's items in (partition key, id)
//! order, or (index 0) the snapshot's databases and containers.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "backup_snapshot_chunks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: String,
    /// The snapshot's change number.
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    /// Position in the snapshot; chunk 0 holds the databases and containers.
    #[sea_orm(primary_key, auto_increment = false)]
    pub idx: i32,
    /// The container whose items the chunk holds (both empty for chunk 0).
    pub database_id: String,
    pub container_id: String,
    pub items: i64,
    /// Size as stored.
    pub bytes: i64,
    /// SHA-256 (hex) of the object as stored.
    pub sha256: String,
    pub object_key: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
