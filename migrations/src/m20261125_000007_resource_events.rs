//! The backup catalog's resource events: every database and container change of an account, as
//! shipped to backup storage, so that the restore page's event feed and "what existed at this
//! second" read rows instead of decrypting the whole log. `backup_state.cataloged_seq` says how
//! far the events have been recorded (accounts shipped before this catalog catch up from their
//! segments once).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BackupEvents::Table)
                    .col(ColumnDef::new(BackupEvents::AccountId).string().not_null())
                    .col(ColumnDef::new(BackupEvents::Seq).big_integer().not_null())
                    .col(ColumnDef::new(BackupEvents::CommittedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(BackupEvents::Op).string().not_null())
                    .col(ColumnDef::new(BackupEvents::ResourceType).string().not_null())
                    .col(ColumnDef::new(BackupEvents::DatabaseId).string().not_null())
                    .col(ColumnDef::new(BackupEvents::ContainerId).string().not_null())
                    .col(ColumnDef::new(BackupEvents::Body).text().null())
                    .primary_key(Index::create().col(BackupEvents::AccountId).col(BackupEvents::Seq))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(BackupState::Table)
                    .add_column(ColumnDef::new(BackupState::CatalogedSeq).big_integer().not_null().default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(BackupState::Table).drop_column(BackupState::CatalogedSeq).to_owned()).await?;
        manager.drop_table(Table::drop().table(BackupEvents::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum BackupEvents {
    Table,
    AccountId,
    Seq,
    CommittedAt,
    Op,
    ResourceType,
    DatabaseId,
    ContainerId,
    Body,
}

#[derive(DeriveIden)]
enum BackupState {
    Table,
    CatalogedSeq,
}
