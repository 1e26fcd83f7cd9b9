//! Custom roles, role assignments and the append-only, hash-chained audit log.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Roles::Table)
                    .col(ColumnDef::new(Roles::Id).string().not_null().primary_key())
                    .col(ColumnDef::new(Roles::SubscriptionId).string().not_null())
                    .col(ColumnDef::new(Roles::Name).string().not_null())
                    .col(ColumnDef::new(Roles::Description).text().not_null())
                    .col(ColumnDef::new(Roles::Actions).text().not_null())
                    .col(ColumnDef::new(Roles::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_roles_subscription_name")
                    .table(Roles::Table)
                    .col(Roles::SubscriptionId)
                    .col(Roles::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RoleAssignments::Table)
                    .col(ColumnDef::new(RoleAssignments::Id).string().not_null().primary_key())
                    .col(ColumnDef::new(RoleAssignments::UserId).string().not_null())
                    .col(ColumnDef::new(RoleAssignments::RoleId).string().not_null())
                    .col(ColumnDef::new(RoleAssignments::ScopeKind).string().not_null())
                    .col(ColumnDef::new(RoleAssignments::SubscriptionId).string().not_null())
                    .col(ColumnDef::new(RoleAssignments::AccountId).string().not_null())
                    .col(ColumnDef::new(RoleAssignments::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(RoleAssignments::CreatedBy).string().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_role_assignments_unique")
                    .table(RoleAssignments::Table)
                    .col(RoleAssignments::UserId)
                    .col(RoleAssignments::RoleId)
                    .col(RoleAssignments::ScopeKind)
                    .col(RoleAssignments::SubscriptionId)
                    .col(RoleAssignments::AccountId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(ColumnDef::new(AuditLog::Seq).big_integer().not_null().primary_key())
                    .col(ColumnDef::new(AuditLog::At).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(AuditLog::UserId).string().not_null())
                    .col(ColumnDef::new(AuditLog::UserName).string().not_null())
                    .col(ColumnDef::new(AuditLog::ClientIp).string().not_null())
                    .col(ColumnDef::new(AuditLog::Action).string().not_null())
                    .col(ColumnDef::new(AuditLog::Scope).string().not_null())
                    .col(ColumnDef::new(AuditLog::Resource).string().not_null())
                    .col(ColumnDef::new(AuditLog::Outcome).string().not_null())
                    .col(ColumnDef::new(AuditLog::Detail).text().not_null())
                    .col(ColumnDef::new(AuditLog::PrevHash).string().not_null().unique_key())
                    .col(ColumnDef::new(AuditLog::Hash).string().not_null())
                    .to_owned(),
            )
            .await?;

        // Append-only below the application too: the database itself refuses updates and
        // deletes. (Someone with the power to drop the trigger is caught by the hash chain.)
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => {
                db.execute_unprepared(
                    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log \
                     BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log \
                     BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
                )
                .await?;
            }
            DatabaseBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$ \
                     BEGIN RAISE EXCEPTION 'audit_log is append-only'; END; $$ LANGUAGE plpgsql",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log \
                     FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
                )
                .await?;
            }
            _ => {}
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AuditLog::Table).to_owned()).await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared("DROP FUNCTION IF EXISTS audit_log_append_only()").await?;
        }
        manager.drop_table(Table::drop().table(RoleAssignments::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Roles::Table).to_owned()).await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Roles {
    Table,
    Id,
    SubscriptionId,
    Name,
    Description,
    Actions,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RoleAssignments {
    Table,
    Id,
    UserId,
    RoleId,
    ScopeKind,
    SubscriptionId,
    AccountId,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Seq,
    At,
    UserId,
    UserName,
    ClientIp,
    Action,
    Scope,
    Resource,
    Outcome,
    Detail,
    PrevHash,
    Hash,
}
