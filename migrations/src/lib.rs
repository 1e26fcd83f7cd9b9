//! The service database's schema, as an append-only list of migrations. The server applies the
//! pending ones at boot; each runs unchanged on SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_foundation;
mod m20261124_000002_access_control;
mod m20261124_000003_data_plane;
mod m20261125_000004_backup;
mod m20261125_000005_requester_id;
mod m20261125_000006_items_in_byte_order;
mod m20261125_000007_resource_events;
mod m20261126_000008_snapshot_chunks;
mod m20261126_000009_restore_plan;
mod m20261126_000010_api_tokens;
mod m20261126_000011_chunk_reuse;
mod m20261126_000012_backup_points;
mod m20261127_000013_catalog_in_storage;
mod m20261127_000014_backup_verifications;
mod m20261127_000015_restorable_from;
mod m20261127_000016_customer_key;
mod m20261127_000017_backup_usage;
mod m20261127_000018_migrated_to_continuous;
mod m20261127_000019_login_failures;
mod m20261127_000020_point_containers;

/// Every migration, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_foundation::Migration),
            Box::new(m20261124_000002_access_control::Migration),
            Box::new(m20261124_000003_data_plane::Migration),
            Box::new(m20261125_000004_backup::Migration),
            Box::new(m20261125_000005_requester_id::Migration),
            Box::new(m20261125_000006_items_in_byte_order::Migration),
            Box::new(m20261125_000007_resource_events::Migration),
            Box::new(m20261126_000008_snapshot_chunks::Migration),
            Box::new(m20261126_000009_restore_plan::Migration),
            Box::new(m20261126_000010_api_tokens::Migration),
            Box::new(m20261126_000011_chunk_reuse::Migration),
            Box::new(m20261126_000012_backup_points::Migration),
            Box::new(m20261127_000013_catalog_in_storage::Migration),
            Box::new(m20261127_000014_backup_verifications::Migration),
            Box::new(m20261127_000015_restorable_from::Migration),
            Box::new(m20261127_000016_customer_key::Migration),
            Box::new(m20261127_000017_backup_usage::Migration),
            Box::new(m20261127_000018_migrated_to_continuous::Migration),
            Box::new(m20261127_000019_login_failures::Migration),
            Box::new(m20261127_000020_point_containers::Migration),
        ]
    }
}
