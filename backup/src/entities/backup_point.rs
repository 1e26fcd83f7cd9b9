//! A periodic account's restore point: a full backup taken at `taken_at`, held by the snapshot
//! of change `seq` (shared by the points of an account that did not change in between).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "backup_points")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub taken_at: DateTimeUtc,
    /// The snapshot (`backup_snapshots`) that holds the account at this point.
    pub seq: i64,
    pub items: i64,
    /// The snapshot's size as stored.
    pub bytes: i64,
    /// The containers it holds, as a JSON list of `database/container` (none recorded for
    /// backups taken before they were): see [`crate::retention::last_backups_of_deleted`].
    #[sea_orm(column_type = "Text", nullable)]
    #[serde(default)]
    pub containers: Option<String>,
    /// Whether the account's journal in backup storage holds it yet ([`crate::journal`]).
    #[serde(skip)]
    pub journaled: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
