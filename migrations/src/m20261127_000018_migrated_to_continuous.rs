//! Migration from periodic to continuous backup: when an account's continuous restore points
//! begin (`migrated_at`), and the retention its periodic backups were taken under, which keeps
//! them restorable by request until they expire (`periodic_retention_hours`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one column at a time.
        let at = ColumnDef::new(Accounts::MigratedAt).timestamp_with_time_zone().null().to_owned();
        manager.alter_table(Table::alter().table(Accounts::Table).add_column(at).to_owned()).await?;
        let hours = ColumnDef::new(Accounts::PeriodicRetentionHours).integer().null().to_owned();
        manager.alter_table(Table::alter().table(Accounts::Table).add_column(hours).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Accounts::Table).drop_column(Accounts::PeriodicRetentionHours).to_owned()).await?;
        manager.alter_table(Table::alter().table(Accounts::Table).drop_column(Accounts::MigratedAt).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    MigratedAt,
    PeriodicRetentionHours,
}
