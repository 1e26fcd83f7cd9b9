//! A periodic account's restore points: one row per full backup taken, pointing at the snapshot
//! that holds the account then. An account unchanged since its last backup gets a new point on
//! the same snapshot, so an idle account keeps the copies its policy promises (before, it kept
//! its one old snapshot and, once that aged past retention, had no restore point at all). The
//! newest point is also when the periodic schedule last ran, across restarts and replicas.
//! Existing periodic backups become points.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BackupPoints::Table)
                    .col(ColumnDef::new(BackupPoints::AccountId).string().not_null())
                    .col(ColumnDef::new(BackupPoints::TakenAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(BackupPoints::Seq).big_integer().not_null())
                    .col(ColumnDef::new(BackupPoints::Items).big_integer().not_null())
                    .col(ColumnDef::new(BackupPoints::Bytes).big_integer().not_null())
                    .primary_key(Index::create().col(BackupPoints::AccountId).col(BackupPoints::TakenAt))
                    .to_owned(),
            )
            .await?;
        // Every full snapshot of a periodic account was one of its backups.
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO backup_points (account_id, taken_at, seq, items, bytes) \
                 SELECT s.account_id, s.taken_at, s.seq, s.items, s.bytes FROM backup_snapshots s \
                 JOIN accounts a ON a.id = s.account_id \
                 WHERE s.parent_seq IS NULL AND a.backup_policy LIKE '%Periodic%'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(BackupPoints::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum BackupPoints {
    Table,
    AccountId,
    TakenAt,
    Seq,
    Items,
    Bytes,
}
