//! Items are scanned in (partition key, id) order and resumed from a position by comparing
//! positions; the engine compares them byte by byte. On PostgreSQL that order is the columns'
//! collation, which may be a language's (`en_US.UTF-8` sorts `B` before `a`); this makes it
//! `"C"`, byte order, whatever the database's default. SQLite compares bytes already.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(r#"ALTER TABLE items ALTER COLUMN pk TYPE varchar COLLATE "C", ALTER COLUMN id TYPE varchar COLLATE "C""#)
            .await
            .map(|_| ())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(
                r#"ALTER TABLE items ALTER COLUMN pk TYPE varchar COLLATE "default", ALTER COLUMN id TYPE varchar COLLATE "default""#,
            )
            .await
            .map(|_| ())
    }
}
