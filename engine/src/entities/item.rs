//! An item (document). `pk` is the partition key value as canonical JSON; `body` the user's
//! document without system properties, which live in their own columns.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub container_rid: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub pk: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub rid: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub ts: i64,
    pub etag: String,
    /// Unix seconds after which the item is gone (TTL), if any.
    pub expires_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
