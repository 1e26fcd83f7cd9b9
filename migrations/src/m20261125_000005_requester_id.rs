//! Restore requests remember who filed them by user id, so that the approver can be required to
//! be somebody else (a name can be reused; an id cannot).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RestoreJobs::Table)
                    .add_column(ColumnDef::new(RestoreJobs::RequestedById).string().not_null().default(""))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(RestoreJobs::Table).drop_column(RestoreJobs::RequestedById).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum RestoreJobs {
    Table,
    RequestedById,
}
