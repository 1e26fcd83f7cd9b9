//! One chunk of a snapshot: a sealed run of one container's items in (partition key, id)
//! order, or (index 0) the snapshot's databases and containers. A chunk that no change touched
//! since the previous full snapshot is listed again rather than rewritten (see
//! [`crate::chunk`]).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
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
    /// The object; for a chunk carried over from an earlier snapshot, that snapshot's.
    pub object_key: String,
    /// The key (partition key, id) of the chunk's first item: where its range starts. `None`
    /// for chunk 0 and for chunks written before chunks were reused.
    pub first_pk: Option<String>,
    pub first_id: Option<String>,
    /// For a chunk carried over unchanged from an earlier snapshot: the snapshot and index it
    /// was sealed as, which its authenticated identity names. `None`: sealed as this row.
    pub sealed_seq: Option<i64>,
    pub sealed_idx: Option<i32>,
}

impl Model {
    /// The snapshot and index the object was sealed as.
    pub fn sealed_as(&self) -> (i64, i32) {
        (self.sealed_seq.unwrap_or(self.seq), self.sealed_idx.unwrap_or(self.idx))
    }

    /// The key of the chunk's first item, if recorded.
    pub fn first_key(&self) -> Option<(&str, &str)> {
        Some((self.first_pk.as_deref()?, self.first_id.as_deref()?))
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
