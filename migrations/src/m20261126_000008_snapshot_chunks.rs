//! Chunked snapshots and job leases.
//!
//! A base snapshot or periodic full backup is now a run of sealed, size-bounded chunks per
//! container (items in (partition key, id) order), each listed here with its hash, so neither
//! taking nor restoring one holds an account in memory. `backup_snapshots.chunks` counts them;
//! 0 marks a snapshot written before chunking, a single object read whole.
//! `backup_snapshots.parent_seq` marks a delta snapshot and names the snapshot it builds on.
//!
//! `backup_segments.entry_bytes` records a segment's size before compression, which bounds what
//! a snapshot merge holds.
//!
//! `job_leases` lets one replica at a time run a named background job (a snapshot merge, say);
//! a dead holder's lease runs out and another replica takes the job over.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BackupSnapshotChunks::Table)
                    .col(ColumnDef::new(BackupSnapshotChunks::AccountId).string().not_null())
                    .col(ColumnDef::new(BackupSnapshotChunks::Seq).big_integer().not_null())
                    .col(ColumnDef::new(BackupSnapshotChunks::Idx).integer().not_null())
                    .col(ColumnDef::new(BackupSnapshotChunks::DatabaseId).string().not_null())
                    .col(ColumnDef::new(BackupSnapshotChunks::ContainerId).string().not_null())
                    .col(ColumnDef::new(BackupSnapshotChunks::Items).big_integer().not_null())
                    .col(ColumnDef::new(BackupSnapshotChunks::Bytes).big_integer().not_null())
                    .col(ColumnDef::new(BackupSnapshotChunks::Sha256).string().not_null())
                    .col(ColumnDef::new(BackupSnapshotChunks::ObjectKey).string().not_null())
                    .primary_key(
                        Index::create().col(BackupSnapshotChunks::AccountId).col(BackupSnapshotChunks::Seq).col(BackupSnapshotChunks::Idx),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(BackupSnapshots::Table)
                    .add_column(ColumnDef::new(BackupSnapshots::Chunks).integer().not_null().default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(BackupSnapshots::Table)
                    .add_column(ColumnDef::new(BackupSnapshots::ParentSeq).big_integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(BackupSegments::Table)
                    .add_column(ColumnDef::new(BackupSegments::EntryBytes).big_integer().not_null().default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(JobLeases::Table)
                    .col(ColumnDef::new(JobLeases::Name).string().not_null().primary_key())
                    .col(ColumnDef::new(JobLeases::Owner).string().not_null())
                    .col(ColumnDef::new(JobLeases::Until).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(JobLeases::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(BackupSegments::Table).drop_column(BackupSegments::EntryBytes).to_owned()).await?;
        manager.alter_table(Table::alter().table(BackupSnapshots::Table).drop_column(BackupSnapshots::ParentSeq).to_owned()).await?;
        manager.alter_table(Table::alter().table(BackupSnapshots::Table).drop_column(BackupSnapshots::Chunks).to_owned()).await?;
        manager.drop_table(Table::drop().table(BackupSnapshotChunks::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum BackupSnapshotChunks {
    Table,
    AccountId,
    Seq,
    Idx,
    DatabaseId,
    ContainerId,
    Items,
    Bytes,
    Sha256,
    ObjectKey,
}

#[derive(DeriveIden)]
enum BackupSnapshots {
    Table,
    Chunks,
    ParentSeq,
}

#[derive(DeriveIden)]
enum BackupSegments {
    Table,
    EntryBytes,
}

#[derive(DeriveIden)]
enum JobLeases {
    Table,
    Name,
    Owner,
    Until,
}
