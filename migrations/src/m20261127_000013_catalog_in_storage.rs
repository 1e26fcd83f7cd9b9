//! The backup catalog in backup storage (`backup::journal`): `backup_journals` holds, per
//! account, the head of its journal there (the last record's number and hash) and the hash of
//! the account record last written; snapshots and restore points say whether the journal holds
//! them yet (existing ones do not: the exporter writes them on its first pass). Accounts
//! restored from a backup remember when they came online (before, only the restore job knew,
//! and a catalog recovered from storage has no jobs).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BackupJournals::Table)
                    .col(ColumnDef::new(BackupJournals::AccountId).string().not_null().primary_key())
                    .col(ColumnDef::new(BackupJournals::LastN).big_integer().not_null())
                    .col(ColumnDef::new(BackupJournals::LastSha256).string().not_null())
                    .col(ColumnDef::new(BackupJournals::AccountSha256).string().not_null())
                    .to_owned(),
            )
            .await?;
        for table in [BackupJournals::Snapshots, BackupJournals::Points] {
            let col = ColumnDef::new(BackupJournals::Journaled).boolean().not_null().default(false).to_owned();
            manager.alter_table(Table::alter().table(table).add_column(col).to_owned()).await?;
        }
        let col = ColumnDef::new(Accounts::OnlineSince).timestamp_with_time_zone().null().to_owned();
        manager.alter_table(Table::alter().table(Accounts::Table).add_column(col).to_owned()).await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE accounts SET online_since = (SELECT MAX(j.finished_at) FROM restore_jobs j \
                 WHERE j.target_account_id = accounts.id AND j.state = 'Succeeded' AND j.in_place = false) \
                 WHERE create_mode = 'Restore'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Accounts::Table).drop_column(Accounts::OnlineSince).to_owned()).await?;
        for table in [BackupJournals::Snapshots, BackupJournals::Points] {
            manager.alter_table(Table::alter().table(table).drop_column(BackupJournals::Journaled).to_owned()).await?;
        }
        manager.drop_table(Table::drop().table(BackupJournals::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum BackupJournals {
    Table,
    AccountId,
    LastN,
    LastSha256,
    AccountSha256,
    #[sea_orm(iden = "backup_snapshots")]
    Snapshots,
    #[sea_orm(iden = "backup_points")]
    Points,
    Journaled,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    OnlineSince,
}
