//! The data plane: databases, containers, items, and each account's change log with its sequence.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Databases::Table)
                    .col(ColumnDef::new(Databases::Rid).string().not_null().primary_key())
                    .col(ColumnDef::new(Databases::AccountId).string().not_null())
                    .col(ColumnDef::new(Databases::Id).string().not_null())
                    .col(ColumnDef::new(Databases::Throughput).integer().null())
                    .col(ColumnDef::new(Databases::Ts).big_integer().not_null())
                    .col(ColumnDef::new(Databases::Etag).string().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_databases_account_id")
                    .table(Databases::Table)
                    .col(Databases::AccountId)
                    .col(Databases::Id)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Containers::Table)
                    .col(ColumnDef::new(Containers::Rid).string().not_null().primary_key())
                    .col(ColumnDef::new(Containers::AccountId).string().not_null())
                    .col(ColumnDef::new(Containers::DatabaseRid).string().not_null())
                    .col(ColumnDef::new(Containers::Id).string().not_null())
                    .col(ColumnDef::new(Containers::PartitionKey).text().not_null())
                    .col(ColumnDef::new(Containers::Throughput).integer().null())
                    .col(ColumnDef::new(Containers::AutoscaleMax).integer().null())
                    .col(ColumnDef::new(Containers::PhysicalPartitions).integer().not_null())
                    .col(ColumnDef::new(Containers::DefaultTtl).integer().null())
                    .col(ColumnDef::new(Containers::IndexingPolicy).text().not_null())
                    .col(ColumnDef::new(Containers::UniqueKeyPolicy).text().not_null())
                    .col(ColumnDef::new(Containers::Ts).big_integer().not_null())
                    .col(ColumnDef::new(Containers::Etag).string().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_containers_database_id")
                    .table(Containers::Table)
                    .col(Containers::DatabaseRid)
                    .col(Containers::Id)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Items::Table)
                    .col(ColumnDef::new(Items::ContainerRid).string().not_null())
                    .col(ColumnDef::new(Items::Pk).string().not_null())
                    .col(ColumnDef::new(Items::Id).string().not_null())
                    .col(ColumnDef::new(Items::Rid).string().not_null())
                    .col(ColumnDef::new(Items::Body).text().not_null())
                    .col(ColumnDef::new(Items::Ts).big_integer().not_null())
                    .col(ColumnDef::new(Items::Etag).string().not_null())
                    .col(ColumnDef::new(Items::ExpiresAt).big_integer().null())
                    .primary_key(Index::create().col(Items::ContainerRid).col(Items::Pk).col(Items::Id))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AccountSequences::Table)
                    .col(ColumnDef::new(AccountSequences::AccountId).string().not_null().primary_key())
                    .col(ColumnDef::new(AccountSequences::LastSeq).big_integer().not_null())
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ChangeLog::Table)
                    .col(ColumnDef::new(ChangeLog::AccountId).string().not_null())
                    .col(ColumnDef::new(ChangeLog::Seq).big_integer().not_null())
                    .col(ColumnDef::new(ChangeLog::CommittedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(ChangeLog::Op).string().not_null())
                    .col(ColumnDef::new(ChangeLog::ResourceType).string().not_null())
                    .col(ColumnDef::new(ChangeLog::DatabaseId).string().not_null())
                    .col(ColumnDef::new(ChangeLog::ContainerId).string().not_null())
                    .col(ColumnDef::new(ChangeLog::Pk).string().null())
                    .col(ColumnDef::new(ChangeLog::ItemId).string().null())
                    .col(ColumnDef::new(ChangeLog::Body).text().null())
                    .primary_key(Index::create().col(ChangeLog::AccountId).col(ChangeLog::Seq))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            ChangeLog::Table.into_iden(),
            AccountSequences::Table.into_iden(),
            Items::Table.into_iden(),
            Containers::Table.into_iden(),
            Databases::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Databases {
    Table,
    Rid,
    AccountId,
    Id,
    Throughput,
    Ts,
    Etag,
}

#[derive(DeriveIden)]
enum Containers {
    Table,
    Rid,
    AccountId,
    DatabaseRid,
    Id,
    PartitionKey,
    Throughput,
    AutoscaleMax,
    PhysicalPartitions,
    DefaultTtl,
    IndexingPolicy,
    UniqueKeyPolicy,
    Ts,
    Etag,
}

#[derive(DeriveIden)]
enum Items {
    Table,
    ContainerRid,
    Pk,
    Id,
    Rid,
    Body,
    Ts,
    Etag,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum AccountSequences {
    Table,
    AccountId,
    LastSeq,
}

#[derive(DeriveIden)]
enum ChangeLog {
    Table,
    AccountId,
    Seq,
    CommittedAt,
    Op,
    ResourceType,
    DatabaseId,
    ContainerId,
    Pk,
    ItemId,
    Body,
}
