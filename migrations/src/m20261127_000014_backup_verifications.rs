//! Backup verifications (`backup::verify`): one row per run — scheduled, on demand or from the
//! command line — with what it checked and every problem it found, so the last result can be
//! shown and the schedule knows when an account was last verified.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BackupVerifications::Table)
                    .col(ColumnDef::new(BackupVerifications::Id).string().not_null().primary_key())
                    .col(ColumnDef::new(BackupVerifications::AccountId).string().not_null())
                    .col(ColumnDef::new(BackupVerifications::Deep).boolean().not_null())
                    .col(ColumnDef::new(BackupVerifications::StartedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(BackupVerifications::FinishedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(BackupVerifications::Objects).big_integer().not_null())
                    .col(ColumnDef::new(BackupVerifications::Bytes).big_integer().not_null())
                    .col(ColumnDef::new(BackupVerifications::ProblemCount).big_integer().not_null())
                    .col(ColumnDef::new(BackupVerifications::Problems).text().not_null())
                    .col(ColumnDef::new(BackupVerifications::RequestedBy).string().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("backup_verifications_account")
                    .table(BackupVerifications::Table)
                    .col(BackupVerifications::AccountId)
                    .col(BackupVerifications::FinishedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(BackupVerifications::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum BackupVerifications {
    Table,
    Id,
    AccountId,
    Deep,
    StartedAt,
    FinishedAt,
    Objects,
    Bytes,
    ProblemCount,
    Problems,
    RequestedBy,
}
