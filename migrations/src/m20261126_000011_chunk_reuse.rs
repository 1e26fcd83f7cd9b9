//! Snapshot chunks that a later snapshot references instead of rewriting: each chunk row
//! records the key of its first item (where a chunk starts, so a merge can tell that no change
//! falls inside it) and, for a chunk carried over from an earlier snapshot, the snapshot and
//! index it was sealed as (its authenticated identity). Rows from before stay valid: no first
//! key means "never reused", no sealed identity means "sealed as this row".

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one column at a time.
        for col in [
            ColumnDef::new(BackupSnapshotChunks::FirstPk).text().null().to_owned(),
            ColumnDef::new(BackupSnapshotChunks::FirstId).text().null().to_owned(),
            ColumnDef::new(BackupSnapshotChunks::SealedSeq).big_integer().null().to_owned(),
            ColumnDef::new(BackupSnapshotChunks::SealedIdx).integer().null().to_owned(),
        ] {
            manager.alter_table(Table::alter().table(BackupSnapshotChunks::Table).add_column(col).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in
            [BackupSnapshotChunks::FirstPk, BackupSnapshotChunks::FirstId, BackupSnapshotChunks::SealedSeq, BackupSnapshotChunks::SealedIdx]
        {
            manager.alter_table(Table::alter().table(BackupSnapshotChunks::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum BackupSnapshotChunks {
    Table,
    FirstPk,
    FirstId,
    SealedSeq,
    SealedIdx,
}
