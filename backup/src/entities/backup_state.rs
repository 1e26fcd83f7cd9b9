//! How far an account's change log has been shipped to backup storage.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "backup_state")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: String,
    /// Every change up to this sequence number is in backup storage.
    pub shipped_seq: i64,
    /// Every change committed at or before this instant is in backup storage: the latest
    /// restorable time.
    pub backed_up_through: DateTimeUtc,
    pub segments: i64,
    pub bytes: i64,
    /// SHA-256 (hex) of the newest segment object: the head of the manifest chain.
    pub last_hash: String,
    /// Database and container events up to this sequence number are in the catalog
    /// (`backup_events`).
    pub cataloged_seq: i64,
    /// Where the backups begin once retention swept older ones (`None`: nothing swept): the
    /// restorable window starts no earlier.
    pub restorable_from: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
