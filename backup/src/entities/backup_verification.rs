//! One verification run of an account's backups ([`crate::verify`]) and what it found.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "backup_verifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub account_id: String,
    /// Every copy read and opened, or only its presence and size checked.
    pub deep: bool,
    pub started_at: DateTimeUtc,
    pub finished_at: DateTimeUtc,
    /// Object copies checked, and their size.
    pub objects: i64,
    pub bytes: i64,
    pub problem_count: i64,
    /// The problems, one per line (object, store, what), the first thousand.
    #[sea_orm(column_type = "Text")]
    pub problems: String,
    /// Who asked: a user, `rewind verify`, or the schedule.
    pub requested_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
