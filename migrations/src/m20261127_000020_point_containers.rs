//! The containers each periodic backup holds (`backup_points.containers`, JSON), so that the last
//! backup of a container deleted since is kept 30 days whatever the retention (SPEC §3b).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let col = ColumnDef::new(BackupPoints::Containers).text().null().to_owned();
        manager.alter_table(Table::alter().table(BackupPoints::Table).add_column(col).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(BackupPoints::Table).drop_column(BackupPoints::Containers).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum BackupPoints {
    Table,
    Containers,
}
