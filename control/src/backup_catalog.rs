//! The backup catalog kept in backup storage, from the control plane's side: what the journal
//! keeps of an account ([`AccountRecord`]), the exporter that keeps every account's journal up
//! to date ([`export_pass`], run by a leased worker every few seconds), and [`recover`], which
//! rebuilds an empty service database's catalog from backup storage and the master key
//! (`rewind recover --from-storage`).
//!
//! Recovered accounts come back *deleted* as of the recovery: their live data was in the lost
//! database, and their backups restore them — into new accounts, or under their own names,
//! which a deleted account does not hold.

use backup::BackupError;
use backup::entities::backup_key;
use backup::storage::BackupStorage;
use chrono::{DateTime, Utc};
use domain::audit::Outcome;
use domain::error::AppError;
use domain::{AccountState, ApiKind, BackupPolicy, CreateMode, KeyManagement};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, PaginatorTrait, Set};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Ctx;
use crate::account_keys::seal_new_keys;
use crate::audit::{Record, append_all};
use crate::db::{account, subscription};

/// What the journal keeps of an account: enough to list it as restorable and restore it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountRecord {
    pub subscription_id: String,
    pub subscription_name: String,
    pub id: String,
    pub name: String,
    pub region: String,
    pub api_kind: ApiKind,
    pub state: AccountState,
    pub created_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub backup_policy: BackupPolicy,
    pub key_management: KeyManagement,
    pub create_mode: CreateMode,
    pub restore_parameters: Option<String>,
    pub online_since: Option<DateTime<Utc>>,
    #[serde(default)]
    pub customer_key: Option<String>,
    #[serde(default)]
    pub migrated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub periodic_retention_hours: Option<i32>,
}

impl AccountRecord {
    fn of(row: &account::Model, subscription_name: &str) -> Self {
        Self {
            subscription_id: row.subscription_id.clone(),
            subscription_name: subscription_name.to_owned(),
            id: row.id.clone(),
            name: row.name.clone(),
            region: row.region.clone(),
            api_kind: row.api_kind,
            state: row.state,
            created_at: row.created_at,
            deleted_at: row.deleted_at,
            backup_policy: row.backup_policy,
            key_management: row.key_management,
            create_mode: row.create_mode,
            restore_parameters: row.restore_parameters.clone(),
            online_since: row.online_since,
            customer_key: row.customer_key.clone(),
            migrated_at: row.migrated_at,
            periodic_retention_hours: row.periodic_retention_hours,
        }
    }
}

/// What one export pass wrote.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Exported {
    pub accounts: usize,
    pub records: usize,
}

/// Brings every account's journal in backup storage up to the service database: starts it
/// (storing the data key if it predates the journal), writes the account record when it changed,
/// and every snapshot and restore point not written yet. Accounts without a data key have no
/// backups yet and wait for their first. One account's failure does not stop the others; the
/// first error is returned after all were tried.
///
/// # Errors
/// The first account's error.
pub async fn export_pass(ctx: &Ctx<'_>) -> Result<Exported, BackupError> {
    let db = ctx.db;
    let kek = ctx.backup_kek();
    let mut done = Exported::default();
    let mut first_error = None;
    let subscriptions: std::collections::HashMap<String, String> =
        subscription::Entity::find().all(db).await?.into_iter().map(|s| (s.id, s.name)).collect();
    let keyed: std::collections::HashSet<String> = backup_key::Entity::find().all(db).await?.into_iter().map(|k| k.account_id).collect();
    for row in account::Entity::find().all(db).await?.into_iter().filter(|a| keyed.contains(&a.id)) {
        let sub = subscriptions.get(&row.subscription_id).map_or("", String::as_str);
        match export_account(db, ctx.backup_storage, &kek, &row, sub).await {
            Ok(0) => {}
            Ok(n) => {
                done.accounts += 1;
                done.records += n;
            }
            Err(e) => {
                tracing::warn!(account = %row.id, error = %e, "could not bring the account's journal in backup storage up to date");
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(done),
    }
}

async fn export_account(
    db: &DatabaseConnection,
    storage: &BackupStorage,
    kek: &backup::keys::KeyWrapKey,
    row: &account::Model,
    subscription_name: &str,
) -> Result<usize, BackupError> {
    let storage = storage.writing_for(row.backup_policy.redundancy())?;
    let head = backup::journal::start(db, &storage, &row.id).await?;
    let key = kek.data_key(db, &storage, &row.id).await?;
    let account = serde_json::to_value(AccountRecord::of(row, subscription_name))
        .map_err(|e| BackupError::Invalid(format!("account record does not serialise: {e}")))?;
    let sha = hex::encode(Sha256::digest(account.to_string().as_bytes()));
    let mut written = 0;
    if sha != head.account_sha256 {
        backup::journal::append(db, &storage, &key, &row.id, &backup::journal::Record::Account { account }).await?;
        backup::journal::account_written(db, &row.id, &sha).await?;
        written += 1;
    }
    written += backup::journal::append_pending(db, &storage, &key, &row.id).await?;
    Ok(written)
}

/// What [`recover`] did.
#[derive(Debug, Default)]
pub struct Recovery {
    /// One line per account: its name and what came back.
    pub accounts: Vec<String>,
    /// What is missing or wrong, one line each (the rest was recovered).
    pub problems: Vec<String>,
}

/// Rebuilds the backup catalog of an empty service database from `storage`: every account
/// whose backups it holds comes back as a deleted, restorable account (with its subscription,
/// if that is missing), with its key, snapshots, restore points, log and resource events.
/// Audited, one entry per account.
///
/// # Errors
/// [`AppError::Conflict`] when the database holds accounts already; storage errors listing
/// the accounts.
pub async fn recover(
    db: &DatabaseConnection,
    storage: &BackupStorage,
    master: &crate::crypto::MasterKey,
    kek: &backup::keys::KeyWrapKey,
) -> Result<Recovery, AppError> {
    let existing = account::Entity::find().count(db).await?;
    if existing > 0 {
        return Err(AppError::Conflict(format!(
            "the service database holds {existing} account(s) already; recovery fills an empty one (a new database, or after `rewind migrate` on an empty one)"
        )));
    }
    let mut out = Recovery::default();
    let ids = backup::recover::accounts(storage).await.map_err(|e| AppError::Invalid(e.to_string()))?;
    let now = Utc::now();
    for id in ids {
        match recover_account(db, storage, kek, master, &id, now).await {
            Ok((line, problems)) => {
                out.accounts.push(line);
                out.problems.extend(problems);
            }
            Err(e) => out.problems.push(format!("account {id}: not recovered: {e}")),
        }
    }
    Ok(out)
}

async fn recover_account(
    db: &DatabaseConnection,
    storage: &BackupStorage,
    kek: &backup::keys::KeyWrapKey,
    master: &crate::crypto::MasterKey,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(String, Vec<String>), AppError> {
    use sea_orm::TransactionTrait;
    let txn = db.begin().await?;
    let recovered = backup::recover::account(&txn, storage, kek, id).await.map_err(|e| AppError::Invalid(e.to_string()))?;
    let Some(account) = recovered.account.clone() else {
        return Err(AppError::Invalid("its journal holds no account record (it was lost within seconds of its first backup)".to_owned()));
    };
    let rec: AccountRecord =
        serde_json::from_value(account).map_err(|e| AppError::Invalid(format!("its account record is unreadable: {e}")))?;
    if rec.id != id {
        return Err(AppError::Invalid(format!("its account record describes account {}", rec.id)));
    }
    let subscription_name = ensure_subscription(&txn, &rec, now).await?;
    account::ActiveModel {
        id: Set(rec.id.clone()),
        subscription_id: Set(rec.subscription_id.clone()),
        name: Set(rec.name.clone()),
        region: Set(rec.region.clone()),
        api_kind: Set(rec.api_kind),
        state: Set(AccountState::Deleted),
        created_at: Set(rec.created_at),
        // Its live data went with the database: from now on only its backups hold it, up to
        // the last change they hold (what came after it is lost, so no restore claims it).
        deleted_at: Set(Some(rec.deleted_at.unwrap_or_else(|| recovered.through.map_or(now, |(_, at)| at)))),
        backup_policy: Set(rec.backup_policy),
        key_management: Set(rec.key_management),
        create_mode: Set(rec.create_mode),
        // Fresh data-plane keys: the old ones were sealed in the lost database, and a deleted
        // account takes no requests anyway.
        sealed_keys: Set(seal_new_keys(master, &rec.id)),
        restore_parameters: Set(rec.restore_parameters.clone()),
        online_since: Set(rec.online_since),
        customer_key: Set(rec.customer_key.clone()),
        migrated_at: Set(rec.migrated_at),
        periodic_retention_hours: Set(rec.periodic_retention_hours),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;

    let through =
        recovered.through.map_or_else(|| "no log".to_owned(), |(seq, at)| format!("log through change {seq} ({})", at.to_rfc3339()));
    let line = format!(
        "{}/{} ({}): {} snapshot(s), {} restore point(s), {} segment(s), {through}",
        subscription_name, rec.name, rec.id, recovered.snapshots, recovered.points, recovered.segments
    );
    let scope = domain::rbac::Scope::Account { subscription_id: rec.subscription_id.clone(), account_id: rec.id.clone() };
    append_all(
        db,
        vec![Record {
            user_id: String::new(),
            user_name: "rewind recover".into(),
            client_ip: String::new(),
            action: "backups/recover".into(),
            scope: scope.to_string(),
            resource: scope.to_string(),
            outcome: if recovered.problems.is_empty() { Outcome::Succeeded } else { Outcome::Failed },
            detail: std::iter::once(line.clone()).chain(recovered.problems.iter().cloned()).collect::<Vec<_>>().join("; "),
        }],
    )
    .await;
    Ok((line, recovered.problems.into_iter().map(|p| format!("account {}: {p}", rec.name)).collect()))
}

/// The account's subscription, made if missing (under its recorded name, or with `-recovered`
/// added when another subscription holds that name). Returns its name.
async fn ensure_subscription(db: &impl sea_orm::ConnectionTrait, rec: &AccountRecord, now: DateTime<Utc>) -> Result<String, AppError> {
    if let Some(s) = subscription::Entity::find_by_id(rec.subscription_id.clone()).one(db).await? {
        return Ok(s.name);
    }
    let taken = crate::subscriptions::holder_of(db, &rec.subscription_name).await?.is_some();
    let name = if taken || rec.subscription_name.is_empty() {
        format!("{}-recovered", rec.subscription_name)
    } else {
        rec.subscription_name.clone()
    };
    subscription::ActiveModel {
        id: Set(rec.subscription_id.clone()),
        name: Set(name.clone()),
        created_at: Set(now),
        created_by: Set("rewind recover".into()),
    }
    .insert(db)
    .await?;
    Ok(name)
}
