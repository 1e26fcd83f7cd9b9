//! A role given to a user at a scope. `role_id` is `builtin:<name>` or a custom role's id;
//! `subscription_id`/`account_id` are empty where the scope does not need them.

pub use domain::rbac::ScopeKind;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "role_assignments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_id: String,
    pub role_id: String,
    pub scope_kind: ScopeKind,
    pub subscription_id: String,
    pub account_id: String,
    pub created_at: DateTimeUtc,
    pub created_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
