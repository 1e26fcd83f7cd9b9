//! A container inside a database.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "containers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub rid: String,
    pub account_id: String,
    pub database_rid: String,
    pub id: String,
    /// The partition key definition as Cosmos DB returns it (JSON: `{"paths":["/tenantId"],"kind":"Hash"}`).
    #[sea_orm(column_type = "Text")]
    pub partition_key: String,
    /// Manual throughput (RU/s).
    pub throughput: Option<i32>,
    /// Autoscale maximum (RU/s).
    pub autoscale_max: Option<i32>,
    pub physical_partitions: i32,
    /// Seconds; -1 means items never expire unless they say so; `None` means TTL is off.
    pub default_ttl: Option<i32>,
    #[sea_orm(column_type = "Text")]
    pub indexing_policy: String,
    #[sea_orm(column_type = "Text")]
    pub unique_key_policy: String,
    pub ts: i64,
    pub etag: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
