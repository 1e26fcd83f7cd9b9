//! Customer-managed keys: which one wraps an account's backup data key (`None`: the
//! service-managed key), so the portal can show it. `backup_keys.wrapped_by` is what opens the
//! data key; this column follows it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let col = ColumnDef::new(Accounts::CustomerKey).string().null().to_owned();
        manager.alter_table(Table::alter().table(Accounts::Table).add_column(col).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Accounts::Table).drop_column(Accounts::CustomerKey).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    CustomerKey,
}
