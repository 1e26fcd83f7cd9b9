//! Storage used by each account's backups over time (`backup::usage`): a sample about every
//! hour, recorded after the retention sweep, drawn as the backup page's chart.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BackupUsage::Table)
                    .col(ColumnDef::new(BackupUsage::AccountId).string().not_null())
                    .col(ColumnDef::new(BackupUsage::At).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(BackupUsage::Bytes).big_integer().not_null())
                    .primary_key(Index::create().col(BackupUsage::AccountId).col(BackupUsage::At))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(BackupUsage::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum BackupUsage {
    Table,
    AccountId,
    At,
    Bytes,
}
