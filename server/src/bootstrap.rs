//! First-start duties: open the database and migrate it, load or create the master key, and
//! create the first admin when there are no users.

use backup::storage::{BackupStorage, Store};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::Utc;
use control::authz::BUILTIN_PREFIX;
use control::crypto::{MASTER_KEY_LEN, MasterKey};
use control::db::{role_assignment, user};
use domain::rbac::{OWNER, Scope};
use migrations::{Migrator, MigratorTrait};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait, Set, TransactionTrait,
};
use secrecy::ExposeSecret;
use std::io::Write;
use std::path::Path;

use crate::config::{BackupLocation, Settings};

/// Why start-up could not finish.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("cannot open the database: {0}")]
    Database(#[source] sea_orm::DbErr),
    #[error("cannot apply database migrations: {0}")]
    Migrate(#[source] sea_orm::DbErr),
    #[error("master key file {path}: {source}")]
    KeyFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("master key {0}: expected {MASTER_KEY_LEN} bytes of base64")]
    KeyFormat(String),
    #[error("creating the first admin: {0}")]
    Admin(String),
    #[error("backup folder {path}: {source}")]
    BackupFolder {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    BackupStorage(#[from] backup::BackupError),
}

/// Opens the configured backup stores (a local folder is created private, 0700) and checks
/// that each answers and accepts the credentials, so that a wrong bucket or key stops the start
/// instead of every backup after it.
///
/// # Errors
/// [`BootstrapError::BackupFolder`] or [`BootstrapError::BackupStorage`], naming the store.
pub async fn open_backup_storage(settings: &Settings) -> Result<BackupStorage, BootstrapError> {
    let open = |location: BackupLocation| match location {
        BackupLocation::Folder(dir) => {
            private_dir(&dir).map_err(|source| BootstrapError::BackupFolder { path: dir.display().to_string(), source })?;
            Ok::<_, BootstrapError>(Store::local(&dir)?)
        }
        BackupLocation::Url { url, options } => Ok(Store::open(&url, &options)?),
    };
    let stores = settings.backup_storage();
    let storage = BackupStorage::new(open(stores.primary)?, stores.zone.map(open).transpose()?, stores.geo.map(open).transpose()?);
    storage.check().await?;
    Ok(storage)
}

/// Connects to the configured database (creating the SQLite file and its folder if needed) and
/// applies pending migrations (on PostgreSQL one replica at a time, see [`migrate_locked`]).
///
/// # Errors
/// [`BootstrapError::Database`] or [`BootstrapError::Migrate`].
pub async fn open_database(settings: &Settings) -> Result<DatabaseConnection, BootstrapError> {
    let url = settings.database_url();
    let sqlite = url.starts_with("sqlite:");
    let folder_err = |e: std::io::Error| {
        BootstrapError::Database(sea_orm::DbErr::Custom(format!("preparing data folder {}: {e}", settings.data_dir.display())))
    };
    private_dir(&settings.data_dir).map_err(folder_err)?;
    if let Some(file) = sqlite_file(&url) {
        private_file(&file).map_err(folder_err)?;
    }
    let mut opts = ConnectOptions::new(url);
    opts.sqlx_logging(false);
    if sqlite {
        // One writer at a time is SQLite's rule; a small pool keeps readers concurrent under WAL.
        opts.max_connections(8);
    }
    let db = Database::connect(opts).await.map_err(BootstrapError::Database)?;
    if sqlite {
        db.execute_unprepared("PRAGMA journal_mode=WAL").await.map_err(BootstrapError::Database)?;
    }
    if sqlite {
        Migrator::up(&db, None).await.map_err(BootstrapError::Migrate)?;
    } else {
        migrate_locked(&db, &settings.database_url()).await?;
    }
    Ok(db)
}

/// A number of PostgreSQL's advisory locks that only Rewind's migrations take.
const MIGRATION_LOCK: i64 = 0x7265_7769_6e64; // "rewind"

/// Applies the migrations holding a PostgreSQL advisory lock, so replicas booting together take
/// turns: the first migrates, the others find nothing left to do. The lock lives on a session of
/// its own (the pool's connections come and go) and goes with it.
async fn migrate_locked(db: &DatabaseConnection, url: &str) -> Result<(), BootstrapError> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false).max_connections(1).min_connections(1);
    let lock = Database::connect(opts).await.map_err(BootstrapError::Database)?;
    lock.execute_unprepared(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")).await.map_err(BootstrapError::Migrate)?;
    let migrated = Migrator::up(db, None).await.map_err(BootstrapError::Migrate);
    let unlocked = lock.execute_unprepared(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")).await;
    let _ = lock.close().await;
    migrated?;
    unlocked.map_err(BootstrapError::Migrate)?;
    Ok(())
}

/// The SQLite database file a URL names (`sqlite://path?mode=rwc`), if it names one.
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}

/// Creates `dir` if needed and makes it readable by its owner only (0700): it holds the
/// database, backups and keys.
///
/// # Errors
/// The folder cannot be created or its mode set.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    set_mode(dir, 0o700)
}

/// Makes the SQLite database file (created empty if missing) and its `-wal` and `-shm`
/// companions readable by their owner only (0600). SQLite gives the companions it creates the
/// database file's mode, so a new installation is private from the first write.
fn private_file(file: &Path) -> std::io::Result<()> {
    if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    create_private(file)?;
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut companion = file.as_os_str().to_owned();
        companion.push(suffix);
        let companion = std::path::PathBuf::from(companion);
        if companion.exists() {
            set_mode(&companion, 0o600)?;
        }
    }
    set_mode(file, 0o600)
}

#[cfg(unix)]
fn create_private(file: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().append(true).create(true).mode(0o600).open(file).map(|_| ())
}

#[cfg(not(unix))]
fn create_private(file: &Path) -> std::io::Result<()> {
    std::fs::OpenOptions::new().append(true).create(true).open(file).map(|_| ())
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

/// The keys that wrap accounts' backup data keys: the service's (from the master key) and the
/// customer-managed ones in the configured directory.
pub fn backup_keys(master: &MasterKey, settings: &Settings) -> backup::keys::KeyWrapKey {
    master.backup_key_wrap_key().with_customer_keys(settings.customer_keys_dir.clone())
}

/// The master key: from the `master_key` setting if given, else from the key file, which is
/// created with mode 0600 on first start. The key is never logged.
///
/// # Errors
/// [`BootstrapError::KeyFile`] or [`BootstrapError::KeyFormat`].
pub fn load_master_key(settings: &Settings) -> Result<MasterKey, BootstrapError> {
    if let Some(b64) = &settings.master_key {
        return decode_key("from REWIND_MASTER_KEY", b64.expose_secret());
    }
    let path = settings.master_key_file();
    let file_err = |source| BootstrapError::KeyFile { path: path.display().to_string(), source };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            warn_if_readable_by_others(&path);
            decode_key(&path.display().to_string(), text.trim())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(file_err)?;
            }
            let bytes = MasterKey::generate_bytes();
            write_private(&path, &B64.encode(bytes)).map_err(file_err)?;
            tracing::info!(path = %path.display(), "generated a new master key");
            MasterKey::from_bytes(&bytes).map_err(|e| BootstrapError::KeyFormat(e.to_string()))
        }
        Err(e) => Err(file_err(e)),
    }
}

fn decode_key(origin: &str, b64: &str) -> Result<MasterKey, BootstrapError> {
    let bytes = B64.decode(b64).map_err(|_| BootstrapError::KeyFormat(origin.to_owned()))?;
    MasterKey::from_bytes(&bytes).map_err(|_| BootstrapError::KeyFormat(origin.to_owned()))
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(path)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(path = %path.display(), "master key file is readable by other users; chmod 600 it");
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

/// What [`ensure_first_admin`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum FirstAdmin {
    /// Users exist already; nothing was done.
    Existing,
    /// Created with the configured password.
    Created { name: String },
    /// Created with a generated password, which the caller prints once.
    CreatedWithGeneratedPassword { name: String, password: String },
}

/// Creates the first admin if the users table is empty.
///
/// # Errors
/// [`BootstrapError::Admin`] if the configured password breaks the policy or the insert fails.
pub async fn ensure_first_admin(db: &DatabaseConnection, settings: &Settings) -> Result<FirstAdmin, BootstrapError> {
    let admin_err = |e: String| BootstrapError::Admin(e);
    if user::Entity::find().count(db).await.map_err(|e| admin_err(e.to_string()))? > 0 {
        return Ok(FirstAdmin::Existing);
    }
    let (password, generated) = match &settings.admin_password {
        Some(p) => {
            domain::validate_new_password(p.expose_secret()).map_err(|e| admin_err(format!("REWIND_ADMIN_PASSWORD: {e}")))?;
            (p.expose_secret().to_owned(), false)
        }
        None => (generate_password(), true),
    };
    let hash = control::password::hash(password.clone()).await.map_err(|e| admin_err(e.to_string()))?;
    let now = Utc::now();
    let user_id = uuid::Uuid::new_v4().to_string();
    // The user and their root Owner assignment land together or not at all: an admin without
    // the assignment could never be repaired from the portal.
    let txn = db.begin().await.map_err(|e| admin_err(e.to_string()))?;
    let inserted = user::ActiveModel {
        id: Set(user_id.clone()),
        name: Set(settings.admin_user.clone()),
        password_hash: Set(hash),
        must_change_password: Set(generated),
        disabled: Set(false),
        created_at: Set(now),
        password_changed_at: Set(now),
    }
    .insert(&txn)
    .await;
    match inserted {
        Ok(_) => {}
        // Another replica booting at the same moment created the first admin first.
        Err(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
            return Ok(FirstAdmin::Existing);
        }
        Err(e) => return Err(admin_err(e.to_string())),
    }
    // The first admin is Owner of everything.
    role_assignment::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        user_id: Set(user_id.clone()),
        role_id: Set(format!("{BUILTIN_PREFIX}{OWNER}")),
        scope_kind: Set(Scope::Root.kind()),
        subscription_id: Set(String::new()),
        account_id: Set(String::new()),
        created_at: Set(now),
        created_by: Set(user_id),
    }
    .insert(&txn)
    .await
    .map_err(|e| admin_err(e.to_string()))?;
    txn.commit().await.map_err(|e| admin_err(e.to_string()))?;
    let name = settings.admin_user.clone();
    Ok(if generated { FirstAdmin::CreatedWithGeneratedPassword { name, password } } else { FirstAdmin::Created { name } })
}

/// 20 characters from an unambiguous alphabet (about 115 bits).
fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut raw = [0u8; 20];
    rand::rng().fill_bytes(&mut raw);
    raw.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_are_long_and_distinct() {
        let a = generate_password();
        assert_eq!(a.len(), 20);
        assert_ne!(a, generate_password());
        assert!(domain::validate_new_password(&a).is_ok());
    }
}
