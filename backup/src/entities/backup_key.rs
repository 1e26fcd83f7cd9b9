//! An account's data key, wrapped (AES key wrap) by the service's key-encryption key.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "backup_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: String,
    /// base64 of the 40-byte RFC 3394 wrapping of the 32-byte data key.
    #[sea_orm(column_type = "Text")]
    pub wrapped_key: String,
    /// Which key wraps it: `service` (the master key) for now.
    pub wrapped_by: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
