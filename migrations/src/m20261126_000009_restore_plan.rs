//! A restore job keeps the plan it was filed with (what will be restored, with its statistics),
//! so that the runner executes exactly what was checked and shown, and plans nothing again.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(RestoreJobs::Table).add_column(ColumnDef::new(RestoreJobs::Plan).text().null()).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(RestoreJobs::Table).drop_column(RestoreJobs::Plan).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum RestoreJobs {
    Table,
    Plan,
}
