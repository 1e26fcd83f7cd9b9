//! Failed sign-in counters in the database (`control::login_limiter`), so that every replica
//! counts against the same limits: one row per user name or client address with a window.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginFailures::Table)
                    .col(ColumnDef::new(LoginFailures::Key).string().not_null().primary_key())
                    .col(ColumnDef::new(LoginFailures::Started).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(LoginFailures::Failures).integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("login_failures_started").table(LoginFailures::Table).col(LoginFailures::Started).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(LoginFailures::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum LoginFailures {
    Table,
    Key,
    Started,
    Failures,
}
