//! Continuous backup and restore: each account's wrapped data key, how far its change log has
//! been shipped, the manifest of shipped segments (hash-chained), and durable restore jobs.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A restored account records where it came from (SPEC §1: createMode Restore with its
        // restore parameters).
        manager
            .alter_table(
                Table::alter().table(Accounts::Table).add_column(ColumnDef::new(Accounts::RestoreParameters).text().null()).to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BackupKeys::Table)
                    .col(ColumnDef::new(BackupKeys::AccountId).string().not_null().primary_key())
                    .col(ColumnDef::new(BackupKeys::WrappedKey).text().not_null())
                    .col(ColumnDef::new(BackupKeys::WrappedBy).string().not_null())
                    .col(ColumnDef::new(BackupKeys::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(BackupState::Table)
                    .col(ColumnDef::new(BackupState::AccountId).string().not_null().primary_key())
                    .col(ColumnDef::new(BackupState::ShippedSeq).big_integer().not_null())
                    .col(ColumnDef::new(BackupState::BackedUpThrough).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(BackupState::Segments).big_integer().not_null())
                    .col(ColumnDef::new(BackupState::Bytes).big_integer().not_null())
                    .col(ColumnDef::new(BackupState::LastHash).string().not_null())
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(BackupSegments::Table)
                    .col(ColumnDef::new(BackupSegments::AccountId).string().not_null())
                    .col(ColumnDef::new(BackupSegments::FirstSeq).big_integer().not_null())
                    .col(ColumnDef::new(BackupSegments::LastSeq).big_integer().not_null())
                    .col(ColumnDef::new(BackupSegments::FirstAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(BackupSegments::LastAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(BackupSegments::ObjectKey).string().not_null())
                    .col(ColumnDef::new(BackupSegments::Bytes).big_integer().not_null())
                    .col(ColumnDef::new(BackupSegments::Sha256).string().not_null())
                    .col(ColumnDef::new(BackupSegments::PrevSha256).string().not_null())
                    .col(ColumnDef::new(BackupSegments::CreatedAt).timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col(BackupSegments::AccountId).col(BackupSegments::FirstSeq))
                    .to_owned(),
            )
            .await?;
        // One successor per segment: two shippers racing cannot fork the manifest chain.
        manager
            .create_index(
                Index::create()
                    .name("idx_backup_segments_chain")
                    .table(BackupSegments::Table)
                    .col(BackupSegments::AccountId)
                    .col(BackupSegments::PrevSha256)
                    .unique()
                    .to_owned(),
            )
            .await?;

        // Base snapshots: the whole account as of one change, so a restore replays only the log
        // after it.
        manager
            .create_table(
                Table::create()
                    .table(BackupSnapshots::Table)
                    .col(ColumnDef::new(BackupSnapshots::AccountId).string().not_null())
                    .col(ColumnDef::new(BackupSnapshots::Seq).big_integer().not_null())
                    .col(ColumnDef::new(BackupSnapshots::TakenAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(BackupSnapshots::ObjectKey).string().not_null())
                    .col(ColumnDef::new(BackupSnapshots::Bytes).big_integer().not_null())
                    .col(ColumnDef::new(BackupSnapshots::Sha256).string().not_null())
                    .col(ColumnDef::new(BackupSnapshots::Items).big_integer().not_null())
                    .col(ColumnDef::new(BackupSnapshots::CreatedAt).timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col(BackupSnapshots::AccountId).col(BackupSnapshots::Seq))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RestoreJobs::Table)
                    .col(ColumnDef::new(RestoreJobs::Id).string().not_null().primary_key())
                    .col(ColumnDef::new(RestoreJobs::SubscriptionId).string().not_null())
                    .col(ColumnDef::new(RestoreJobs::SourceAccountId).string().not_null())
                    .col(ColumnDef::new(RestoreJobs::TargetAccountId).string().not_null())
                    .col(ColumnDef::new(RestoreJobs::TargetName).string().not_null())
                    .col(ColumnDef::new(RestoreJobs::RestoreAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(RestoreJobs::Resources).text().not_null())
                    .col(ColumnDef::new(RestoreJobs::TtlDisabled).boolean().not_null())
                    .col(ColumnDef::new(RestoreJobs::InPlace).boolean().not_null())
                    .col(ColumnDef::new(RestoreJobs::State).string().not_null())
                    .col(ColumnDef::new(RestoreJobs::Phase).string().not_null())
                    .col(ColumnDef::new(RestoreJobs::ItemsTotal).big_integer().not_null())
                    .col(ColumnDef::new(RestoreJobs::ItemsDone).big_integer().not_null())
                    .col(ColumnDef::new(RestoreJobs::BytesDone).big_integer().not_null())
                    .col(ColumnDef::new(RestoreJobs::Message).text().not_null())
                    .col(ColumnDef::new(RestoreJobs::RequestedBy).string().not_null())
                    .col(ColumnDef::new(RestoreJobs::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(RestoreJobs::StartedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(RestoreJobs::FinishedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(RestoreJobs::LeaseOwner).string().null())
                    .col(ColumnDef::new(RestoreJobs::LeaseUntil).timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_restore_jobs_subscription")
                    .table(RestoreJobs::Table)
                    .col(RestoreJobs::SubscriptionId)
                    .col(RestoreJobs::CreatedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            RestoreJobs::Table.into_iden(),
            BackupSnapshots::Table.into_iden(),
            BackupSegments::Table.into_iden(),
            BackupState::Table.into_iden(),
            BackupKeys::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        manager.alter_table(Table::alter().table(Accounts::Table).drop_column(Accounts::RestoreParameters).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    RestoreParameters,
}

#[derive(DeriveIden)]
enum BackupKeys {
    Table,
    AccountId,
    WrappedKey,
    WrappedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum BackupState {
    Table,
    AccountId,
    ShippedSeq,
    BackedUpThrough,
    Segments,
    Bytes,
    LastHash,
}

#[derive(DeriveIden)]
enum BackupSegments {
    Table,
    AccountId,
    FirstSeq,
    LastSeq,
    FirstAt,
    LastAt,
    ObjectKey,
    Bytes,
    Sha256,
    PrevSha256,
    CreatedAt,
}

#[derive(DeriveIden)]
enum BackupSnapshots {
    Table,
    AccountId,
    Seq,
    TakenAt,
    ObjectKey,
    Bytes,
    Sha256,
    Items,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RestoreJobs {
    Table,
    Id,
    SubscriptionId,
    SourceAccountId,
    TargetAccountId,
    TargetName,
    RestoreAt,
    Resources,
    TtlDisabled,
    InPlace,
    State,
    Phase,
    ItemsTotal,
    ItemsDone,
    BytesDone,
    Message,
    RequestedBy,
    CreatedAt,
    StartedAt,
    FinishedAt,
    LeaseOwner,
    LeaseUntil,
}
