//! A snapshot (a base snapshot, or a periodic full backup): the whole account as of change
//! `seq`, sealed as the chunks listed in `backup_snapshot_chunks`.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "backup_snapshots")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: String,
    /// The last change the snapshot includes.
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    /// The commit time of change `seq`.
    pub taken_at: DateTimeUtc,
    /// The chunks' common prefix (a snapshot from before chunking: its one object).
    pub object_key: String,
    /// Total size as stored.
    pub bytes: i64,
    /// SHA-256 (hex) of the chunk list (`index hash` lines); of the one object before chunking.
    pub sha256: String,
    pub items: i64,
    pub created_at: DateTimeUtc,
    /// How many chunks; 0 for a snapshot written before chunking (one object, read whole).
    pub chunks: i32,
    /// `None` for a full snapshot; for a delta, the snapshot it is a delta on.
    pub parent_seq: Option<i64>,
    /// Whether the account's journal in backup storage holds it yet ([`crate::journal`]).
    #[serde(skip)]
    pub journaled: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
