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
