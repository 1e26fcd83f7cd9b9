//! One sealed change-log segment in backup storage: the manifest row that names it, hashes it
//! and chains it to the segment before.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "backup_segments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub first_seq: i64,
    pub last_seq: i64,
    pub first_at: DateTimeUtc,
    pub last_at: DateTimeUtc,
    pub object_key: String,
    pub bytes: i64,
    /// SHA-256 (hex) of the object as stored.
    pub sha256: String,
    /// The previous segment's `sha256` (64 zeros for the first).
    pub prev_sha256: String,
    pub created_at: DateTimeUtc,
    /// The entries' size before compression (ids, partition keys and bodies; 0 for segments
    /// shipped before it was recorded): what a snapshot merge or restore holds of it.
    pub entry_bytes: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
