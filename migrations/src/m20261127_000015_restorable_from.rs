//! Where an account's backups begin once retention has swept older ones: a restore before
//! `backup_state.restorable_from` would need what is gone, so the restorable window starts no
//! earlier (a tier raised from 7 to 30 days brings nothing older back).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let col = ColumnDef::new(BackupState::RestorableFrom).timestamp_with_time_zone().null().to_owned();
        manager.alter_table(Table::alter().table(BackupState::Table).add_column(col).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(BackupState::Table).drop_column(BackupState::RestorableFrom).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum BackupState {
    Table,
    RestorableFrom,
}
