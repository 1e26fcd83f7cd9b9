//! Fresh, migrated service databases for the engine's tests: SQLite in a temporary folder, or a
//! new PostgreSQL database on the server `REWIND_TEST_POSTGRES_URL` names (the postgres tier).

#![allow(clippy::unwrap_used, dead_code)] // a failed unwrap is a failed test; not every test file uses both

use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

pub async fn sqlite() -> (DatabaseConnection, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let db = Database::connect(&url).await.unwrap();
    db.execute_unprepared("PRAGMA journal_mode=WAL").await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    (db, dir)
}

/// A new PostgreSQL database; [`Postgres::drop`] removes it.
pub struct Postgres {
    pub db: DatabaseConnection,
    admin: String,
    name: String,
}

pub async fn postgres() -> Postgres {
    let admin = std::env::var("REWIND_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let name = format!("rewind_e_{}", unique());
    let conn = Database::connect(&admin).await.expect("PostgreSQL for the postgres tier");
    conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
    let (prefix, _) = admin.rsplit_once('/').unwrap();
    let db = Database::connect(&format!("{prefix}/{name}")).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    Postgres { db, admin, name }
}

impl Postgres {
    pub async fn drop(self) {
        self.db.close().await.unwrap();
        let conn = Database::connect(&self.admin).await.unwrap();
        conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).await.unwrap();
    }
}

fn unique() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};
    static N: AtomicU32 = AtomicU32::new(0);
    let t = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{t:x}{:x}{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}
