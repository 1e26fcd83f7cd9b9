//! One audit-log row. Rows are only ever inserted (the database refuses updates and deletes);
//! `hash` covers the row's fields and `prev_hash`, chaining every row to the one before.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub at: DateTimeUtc,
    pub user_id: String,
    pub user_name: String,
    pub client_ip: String,
    pub action: String,
    pub scope: String,
    pub resource: String,
    pub outcome: domain::audit::Outcome,
    #[sea_orm(column_type = "Text")]
    pub detail: String,
    #[sea_orm(unique)]
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
