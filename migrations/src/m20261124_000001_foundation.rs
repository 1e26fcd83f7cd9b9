//! Users, server-side sessions, subscriptions and database accounts.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(ColumnDef::new(Users::Id).string().not_null().primary_key())
                    .col(ColumnDef::new(Users::Name).string().not_null().unique_key())
                    .col(ColumnDef::new(Users::PasswordHash).string().not_null())
                    .col(ColumnDef::new(Users::MustChangePassword).boolean().not_null())
                    .col(ColumnDef::new(Users::Disabled).boolean().not_null())
                    .col(ColumnDef::new(Users::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Users::PasswordChangedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(ColumnDef::new(Sessions::IdHash).string().not_null().primary_key())
                    .col(ColumnDef::new(Sessions::UserId).string().not_null())
                    .col(ColumnDef::new(Sessions::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Sessions::LastSeenAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Sessions::ClientIp).string().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager.create_index(Index::create().name("idx_sessions_user").table(Sessions::Table).col(Sessions::UserId).to_owned()).await?;

        manager
            .create_table(
                Table::create()
                    .table(Subscriptions::Table)
                    .col(ColumnDef::new(Subscriptions::Id).string().not_null().primary_key())
                    .col(ColumnDef::new(Subscriptions::Name).string().not_null().unique_key())
                    .col(ColumnDef::new(Subscriptions::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Subscriptions::CreatedBy).string().not_null())
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Accounts::Table)
                    .col(ColumnDef::new(Accounts::Id).string().not_null().primary_key())
                    .col(ColumnDef::new(Accounts::SubscriptionId).string().not_null())
                    .col(ColumnDef::new(Accounts::Name).string().not_null())
                    .col(ColumnDef::new(Accounts::Region).string().not_null())
                    .col(ColumnDef::new(Accounts::ApiKind).string().not_null())
                    .col(ColumnDef::new(Accounts::State).string().not_null())
                    .col(ColumnDef::new(Accounts::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Accounts::DeletedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Accounts::BackupPolicy).text().not_null())
                    .col(ColumnDef::new(Accounts::KeyManagement).string().not_null())
                    .col(ColumnDef::new(Accounts::CreateMode).string().not_null())
                    .col(ColumnDef::new(Accounts::SealedKeys).text().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Accounts::Table, Accounts::SubscriptionId)
                            .to(Subscriptions::Table, Subscriptions::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // A name is taken only while its account is live; deleted accounts keep their name on
        // record (for restore) without blocking a new account of the same name. Partial indexes
        // are spelled the same in SQLite and PostgreSQL.
        manager
            .get_connection()
            .execute_unprepared("CREATE UNIQUE INDEX idx_accounts_live_name ON accounts (name) WHERE deleted_at IS NULL")
            .await?;
        manager
            .create_index(Index::create().name("idx_accounts_subscription").table(Accounts::Table).col(Accounts::SubscriptionId).to_owned())
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Accounts::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Subscriptions::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Sessions::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Users::Table).to_owned()).await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Name,
    PasswordHash,
    MustChangePassword,
    Disabled,
    CreatedAt,
    PasswordChangedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    IdHash,
    UserId,
    CreatedAt,
    LastSeenAt,
    ClientIp,
}

#[derive(DeriveIden)]
enum Subscriptions {
    Table,
    Id,
    Name,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    SubscriptionId,
    Name,
    Region,
    ApiKind,
    State,
    CreatedAt,
    DeletedAt,
    BackupPolicy,
    KeyManagement,
    CreateMode,
    SealedKeys,
}
