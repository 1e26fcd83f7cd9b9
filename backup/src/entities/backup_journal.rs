//! The head of an account's journal in backup storage ([`crate::journal`]): the number and hash
//! of its last record, and the hash of the account record last written (so an unchanged account
//! is not written again).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "backup_journals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: String,
    /// The last record's number (0: the journal holds the key and no record yet).
    pub last_n: i64,
    /// SHA-256 (hex) of the last record's object ([`crate::ship::GENESIS`] before the first).
    pub last_sha256: String,
    /// SHA-256 (hex) of the account record last journaled (empty: none yet).
    pub account_sha256: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
