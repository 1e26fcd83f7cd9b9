//! What a change touched, as the change log, backup objects and the backup catalog store it.

#[cfg(feature = "db")]
use sea_orm::sea_query::StringLen;
use serde::{Deserialize, Serialize};

/// The kind of resource a change-log entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "db", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(feature = "db", sea_orm(rs_type = "String", db_type = "String(StringLen::None)"))]
pub enum ResourceType {
    #[cfg_attr(feature = "db", sea_orm(string_value = "database"))]
    Database,
    #[cfg_attr(feature = "db", sea_orm(string_value = "container"))]
    Container,
    #[cfg_attr(feature = "db", sea_orm(string_value = "item"))]
    Item,
    /// Only in a delta snapshot's first chunk: the container named was deleted (and perhaps
    /// made again) since the parent snapshot, so the parent's items of that name do not carry
    /// over. Never in the change log or the catalog.
    #[cfg_attr(feature = "db", sea_orm(string_value = "reset"))]
    Reset,
}

impl ResourceType {
    /// As stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::Database => "database",
            ResourceType::Container => "container",
            ResourceType::Item => "item",
            ResourceType::Reset => "reset",
        }
    }
}

/// What a change did, as the change log, backup objects and the backup catalog store it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "db", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(feature = "db", sea_orm(rs_type = "String", db_type = "String(StringLen::None)"))]
pub enum ChangeOp {
    #[cfg_attr(feature = "db", sea_orm(string_value = "create"))]
    Create,
    #[cfg_attr(feature = "db", sea_orm(string_value = "replace"))]
    Replace,
    #[cfg_attr(feature = "db", sea_orm(string_value = "upsert"))]
    Upsert,
    #[cfg_attr(feature = "db", sea_orm(string_value = "patch"))]
    Patch,
    #[cfg_attr(feature = "db", sea_orm(string_value = "delete"))]
    Delete,
    /// An item removed by its time to live.
    #[cfg_attr(feature = "db", sea_orm(string_value = "expire"))]
    Expire,
    /// Only in a delta snapshot's first chunk, with [`ResourceType::Reset`].
    #[cfg_attr(feature = "db", sea_orm(string_value = "reset"))]
    Reset,
}

impl ChangeOp {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeOp::Create => "create",
            ChangeOp::Replace => "replace",
            ChangeOp::Upsert => "upsert",
            ChangeOp::Patch => "patch",
            ChangeOp::Delete => "delete",
            ChangeOp::Expire => "expire",
            ChangeOp::Reset => "reset",
        }
    }
}

/// A database or container event as the restore page's feed shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EventKind {
    Create,
    Replace,
    Delete,
}

impl EventKind {
    /// The event a change of a database or container makes: a change without a body is a
    /// deletion, a `create` a creation, anything else a replacement.
    pub fn of(op: ChangeOp, has_body: bool) -> Self {
        match (op, has_body) {
            (_, false) => EventKind::Delete,
            (ChangeOp::Create, true) => EventKind::Create,
            _ => EventKind::Replace,
        }
    }

    /// As shown.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Create => "Create",
            EventKind::Replace => "Replace",
            EventKind::Delete => "Delete",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_types_serialise_as_the_backup_format_has_always_written_them() {
        for t in [ResourceType::Database, ResourceType::Container, ResourceType::Item, ResourceType::Reset] {
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{}\"", t.as_str()));
        }
    }
}
