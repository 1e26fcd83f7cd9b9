//! Database accounts (SPEC §1): list, read, create, delete (kept restorable), read and
//! regenerate keys. Each operation checks the caller's roles and is audited.

use chrono::Utc;
use domain::error::AppError;
use domain::rbac::{Scope, actions};
pub use domain::{Account, AccountKeys};
use domain::{
    AccountName, AccountState, BackupPolicy, BackupPolicyChange, BackupPolicyInput, CreateMode, KeyKind, KeyManagement, RegionName,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

pub use crate::account_keys::{open_keys, seal_keys, seal_new_keys};
use crate::authz::{Caller, account_scope};
use crate::crypto::random_base64;
use crate::db::account;
use crate::new_account::NewAccount;
use crate::{Ctx, subscriptions};

/// The endpoint an SDK is given for `name`.
pub fn endpoint(public_url: &str, name: &str) -> String {
    format!("{public_url}/cosmos/{name}/")
}

/// The account as callers see it (no key material).
pub fn to_wire(ctx: &Ctx<'_>, row: account::Model) -> Account {
    Account {
        endpoint: endpoint(ctx.public_url, &row.name),
        state: row.state,
        id: row.id,
        subscription_id: row.subscription_id,
        name: row.name,
        region: row.region,
        api_kind: row.api_kind,
        created_at: row.created_at,
        deleted_at: row.deleted_at,
        backup_policy: row.backup_policy,
        key_management: row.key_management,
        customer_key: row.customer_key,
        create_mode: row.create_mode,
        restore_parameters: row.restore_parameters.as_deref().and_then(|p| serde_json::from_str(p).ok()),
    }
}

/// The live account `name` in subscription `subscription_id`, or 404.
///
/// # Errors
/// [`AppError::NotFound`] naming the account and subscription.
pub async fn find_live(db: &impl ConnectionTrait, subscription_id: &str, name: &str) -> Result<account::Model, AppError> {
    account::Entity::find()
        .filter(account::Column::SubscriptionId.eq(subscription_id))
        .filter(account::Column::Name.eq(name))
        .filter(account::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("account {name:?} not found in subscription {subscription_id:?}")))
}

/// The live account `name`, as the caller may learn of it: a missing account is 404 only to
/// callers who may see the subscription; to others it is the same 403 as a forbidden one.
///
/// # Errors
/// 404 or 403 as above; database errors.
pub async fn find_visible(caller: &Caller, subscription_id: &str, name: &str) -> Result<account::Model, AppError> {
    match find_live(&caller.db, subscription_id, name).await {
        Ok(row) => Ok(row),
        Err(not_found) => {
            subscriptions::ensure_visible(caller, subscription_id).await?;
            Err(not_found)
        }
    }
}

/// The live account, if the caller may do `action` on it (missing: as [`find_visible`]).
pub(crate) async fn authorized_account(
    caller: &Caller,
    action: &str,
    subscription_id: &str,
    name: &str,
) -> Result<account::Model, AppError> {
    let row = find_visible(caller, subscription_id, name).await?;
    let scope = account_scope(&row);
    caller.authorize(action, &scope, &scope.to_string()).await?;
    Ok(row)
}

/// The subscription's live accounts the caller may read, by name.
pub async fn list(ctx: &Ctx<'_>, caller: &Caller, subscription_id: String) -> Result<Vec<Account>, AppError> {
    subscriptions::ensure_visible(caller, &subscription_id).await?;
    subscriptions::find(&caller.db, &subscription_id).await?;
    let rows = account::Entity::find()
        .filter(account::Column::SubscriptionId.eq(&subscription_id))
        .filter(account::Column::DeletedAt.is_null())
        .order_by_asc(account::Column::Name)
        .all(&caller.db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        if caller.can(actions::ACCOUNTS_READ, &account_scope(&row)).await? {
            out.push(to_wire(ctx, row));
        }
    }
    Ok(out)
}

/// One live account, by name.
pub async fn get(ctx: &Ctx<'_>, caller: &Caller, subscription_id: String, name: String) -> Result<Account, AppError> {
    let row = authorized_account(caller, actions::ACCOUNTS_READ, &subscription_id, &name).await?;
    Ok(to_wire(ctx, row))
}

/// The account's four keys (audited).
pub async fn list_keys(ctx: &Ctx<'_>, caller: &Caller, subscription_id: String, name: String) -> Result<AccountKeys, AppError> {
    let action = actions::ACCOUNTS_LIST_KEYS;
    let row = authorized_account(caller, action, &subscription_id, &name).await?;
    let keys = open_keys(ctx.master_key, &row);
    let scope = account_scope(&row);
    caller.audited(action, &scope, &scope.to_string(), keys).await
}

/// Replaces one key with a fresh one; the old one stops working at once.
pub async fn regenerate_key(
    ctx: &Ctx<'_>,
    caller: &Caller,
    subscription_id: String,
    name: String,
    kind: KeyKind,
) -> Result<AccountKeys, AppError> {
    let action = actions::ACCOUNTS_REGENERATE_KEY;
    let row = authorized_account(caller, action, &subscription_id, &name).await?;
    let scope = account_scope(&row);
    let result = async {
        let mut keys = open_keys(ctx.master_key, &row)?;
        let fresh = random_base64(64);
        match kind {
            KeyKind::PrimaryMaster => keys.primary_master_key = fresh,
            KeyKind::SecondaryMaster => keys.secondary_master_key = fresh,
            KeyKind::PrimaryReadonly => keys.primary_readonly_master_key = fresh,
            KeyKind::SecondaryReadonly => keys.secondary_readonly_master_key = fresh,
        }
        let sealed = seal_keys(ctx.master_key, &row.id, &keys);
        let mut active: account::ActiveModel = row.clone().into();
        active.sealed_keys = Set(sealed);
        active.update(&caller.db).await?;
        Ok(keys)
    }
    .await;
    let resource = format!("{scope} ({kind:?})");
    caller.audited(action, &scope, &resource, result).await
}

/// A new account as asked for; every field is checked when it is made.
pub struct CreateAccount {
    pub subscription_id: String,
    pub name: String,
    pub region: String,
    pub policy: BackupPolicyInput,
    /// A customer-managed key (by name, from the server's key directory) to wrap its backups'
    /// data key; empty or `None`: the service-managed key.
    pub customer_key: Option<String>,
}

/// Creates an account in the subscription (`accounts/write` there).
pub async fn create(ctx: &Ctx<'_>, caller: &Caller, input: CreateAccount) -> Result<Account, AppError> {
    let scope = Scope::Subscription(input.subscription_id.clone());
    let resource = format!("{scope}/accounts/{}", input.name.trim());
    caller.authorize(actions::ACCOUNTS_WRITE, &scope, &resource).await?;
    let result = create_inner(ctx, caller, input).await;
    caller.audited(actions::ACCOUNTS_WRITE, &scope, &resource, result).await
}

async fn create_inner(ctx: &Ctx<'_>, caller: &Caller, input: CreateAccount) -> Result<Account, AppError> {
    let name = AccountName::parse(input.name.trim())?;
    let region = if input.region.trim().is_empty() { RegionName::parse("local")? } else { RegionName::parse(&input.region)? };
    let policy = input.policy.validate()?;
    subscriptions::find(ctx.db, &input.subscription_id).await?;
    let customer_key = input.customer_key.as_deref().map(str::trim).filter(|k| !k.is_empty());

    let row = NewAccount {
        subscription_id: &input.subscription_id,
        name: &name,
        region: &region,
        api_kind: domain::ApiKind::Sql,
        state: AccountState::Online,
        policy: &policy,
        customer_key,
        create_mode: CreateMode::Default,
        restore_parameters: None,
    }
    .insert(ctx.db, ctx)
    .await?;
    tracing::info!(account = %row.id, name = %row.name, by = %caller.user.name, "account created");
    Ok(to_wire(ctx, row))
}

/// The customer-managed keys an account may choose, by name (`accounts/write` in the
/// subscription): the key files in the server's `customer_keys_dir`. Never their contents.
pub async fn customer_keys(ctx: &Ctx<'_>, caller: &Caller, subscription_id: String) -> Result<Vec<String>, AppError> {
    let scope = Scope::Subscription(subscription_id);
    caller.authorize(actions::ACCOUNTS_WRITE, &scope, &format!("{scope}/customerKeys")).await?;
    ctx.backup_kek().customer_key_names().map_err(|e| AppError::invalid(e.to_string()))
}

/// Rotates the key that wraps the account's backup data key (`accounts/write` on it): to the
/// customer-managed key named, or back to the service-managed key (`None`). The data key is
/// rewrapped — in backup storage first, as its next key object — and no backup object is
/// re-encrypted. Audited with the keys before and after.
pub async fn rotate_backup_key(
    ctx: &Ctx<'_>,
    caller: &Caller,
    subscription_id: String,
    name: String,
    customer_key: Option<String>,
) -> Result<Account, AppError> {
    use backup::keys::Wrapper;
    let action = actions::ACCOUNTS_WRITE;
    let row = authorized_account(caller, action, &subscription_id, &name).await?;
    let scope = account_scope(&row);
    let customer_key = customer_key.map(|k| k.trim().to_owned()).filter(|k| !k.is_empty());
    let to = customer_key.clone().map_or(Wrapper::Service, Wrapper::Customer);
    let from = row.customer_key.clone().map_or(Wrapper::Service, Wrapper::Customer);
    let result = async {
        let kek = ctx.backup_kek();
        kek.check(&to).map_err(|e| AppError::invalid(e.to_string()))?;
        let storage = ctx.backup_storage.writing_for(row.backup_policy.redundancy()).map_err(|e| AppError::invalid(e.to_string()))?;
        let key = kek.rotate(ctx.db, &storage, &row.id, &to).await.map_err(|e| AppError::invalid(e.to_string()))?;
        // The account shows what the key row says now (a rotation at the same moment may have won).
        let customer = match Wrapper::parse(&key.wrapped_by).map_err(|e| AppError::invalid(e.to_string()))? {
            Wrapper::Service => None,
            Wrapper::Customer(name) => Some(name),
        };
        let mut active: account::ActiveModel = row.clone().into();
        active.key_management = Set(if customer.is_some() { KeyManagement::CustomerManaged } else { KeyManagement::ServiceManaged });
        active.customer_key = Set(customer);
        let saved = active.update(ctx.db).await?;
        tracing::info!(account = %saved.id, %from, %to, by = %caller.user.name, "backup data key rewrapped");
        Ok(to_wire(ctx, saved))
    }
    .await;
    let resource = format!("{scope} ({from} -> {to})");
    caller.audited(action, &scope, &resource, result).await
}

/// Changes the account's backup policy (`accounts/backupPolicy/write` on it): a periodic
/// account's interval, retention and redundancy, a continuous account's tier and redundancy
/// (the rules are [`domain::BackupPolicy::changed`]'s), and a periodic account's migration to
/// continuous backup ([`migrate_to_continuous`]). Audited with the policy before and after.
pub async fn change_backup_policy(
    ctx: &Ctx<'_>,
    caller: &Caller,
    subscription_id: String,
    name: String,
    change: BackupPolicyChange,
) -> Result<Account, AppError> {
    let action = actions::ACCOUNTS_BACKUP_POLICY_WRITE;
    let row = authorized_account(caller, action, &subscription_id, &name).await?;
    let scope = account_scope(&row);
    let result = async {
        let before = row.backup_policy;
        let after = before.changed(&change)?;
        crate::new_account::ensure_kept(ctx.backup_storage, &after)?;
        let saved = match (before, after) {
            (BackupPolicy::Periodic { retention_hours, .. }, BackupPolicy::Continuous { .. }) => {
                migrate_to_continuous(ctx, &row, after, retention_hours).await?
            }
            _ => {
                let mut active: account::ActiveModel = row.clone().into();
                active.backup_policy = Set(after);
                active.update(ctx.db).await?
            }
        };
        tracing::info!(account = %saved.id, before = %before.summary(), after = %after.summary(), by = %caller.user.name, "backup policy changed");
        Ok((before, to_wire(ctx, saved)))
    }
    .await;
    let resource = match &result {
        Ok((before, account)) => format!("{scope} ({} -> {})", before.summary(), account.backup_policy.summary()),
        Err(_) => scope.to_string(),
    };
    caller.audited(action, &scope, &resource, result.map(|(_, a)| a)).await
}

/// Migrates `row` from periodic to continuous backup `after` — one-way, done at once: under the
/// account's periodic-backup lease (so no full backup prunes its change log meanwhile) its
/// newest full backup becomes the first base snapshot, and its log is shipped from there
/// (`backup::migrate`); continuous restore points begin now. Its periodic backups, taken under
/// `retention_hours`, stay restorable by request until they expire.
async fn migrate_to_continuous(
    ctx: &Ctx<'_>,
    row: &account::Model,
    after: BackupPolicy,
    retention_hours: u32,
) -> Result<account::Model, AppError> {
    let owner = format!("migration-{}", uuid::Uuid::new_v4());
    let lease = format!("periodic/{}", row.id);
    let backup_failed = |e: backup::BackupError| match e {
        backup::BackupError::Invalid(m) => AppError::Invalid(m),
        backup::BackupError::Integrity(m) => AppError::Conflict(m),
        e => {
            tracing::error!(account = %row.id, error = %e, "migration to continuous backup failed");
            AppError::Internal
        }
    };
    let work = async {
        // Checked before anything is written, and again in the transaction that commits.
        migratable(ctx.db, row).await?;
        let start = backup::migrate::start_of(ctx.db, &row.id).await.map_err(backup_failed)?;
        // After the resources were read: the window does not claim a second before them. To the
        // millisecond, as every backup time, so the journal keeps what the database does.
        let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 3);
        // Written to the account's journal first (in the stores of the policy it migrates to),
        // so a recovery from storage finds where the log starts whatever happens next; a
        // recovery applies the newest such record.
        let storage = ctx.backup_storage.writing_for(after.redundancy()).map_err(backup_failed)?;
        let kek = ctx.backup_kek();
        let key = kek.data_key(ctx.db, &storage, &row.id).await.map_err(backup_failed)?;
        backup::journal::start(ctx.db, &storage, &row.id).await.map_err(backup_failed)?;
        backup::journal::append(ctx.db, &storage, &key, &row.id, &start.record(now)).await.map_err(backup_failed)?;

        let txn = engine::store::begin_write(ctx.db).await?;
        let current = migratable(&txn, row).await?;
        backup::migrate::start_continuous(&txn, &row.id, &start, now).await.map_err(backup_failed)?;
        let mut active: account::ActiveModel = current.into();
        active.backup_policy = Set(after);
        active.migrated_at = Set(Some(now));
        active.periodic_retention_hours = Set(Some(i32::try_from(retention_hours).unwrap_or(i32::MAX)));
        let saved = active.update(&txn).await?;
        txn.commit().await?;
        tracing::info!(account = %row.id, log_after = start.log_after, "migrated to continuous backup");
        Ok(saved)
    };
    match backup::lease::while_held(ctx.db, &lease, &owner, backup::lease::Term::WORKER, work).await {
        Ok(Some(result)) => result,
        Ok(None) => Err(AppError::Conflict(format!(
            "a periodic backup of account {:?} is being taken; migrate once it is done (within minutes)",
            row.name
        ))),
        Err(e) => {
            tracing::error!(account = %row.id, error = %e, "the periodic backup lease could not be taken");
            Err(AppError::Internal)
        }
    }
}

/// `row` as it is now, if it may migrate to continuous backup: live, periodic, and without
/// continuous backup state.
async fn migratable(c: &impl ConnectionTrait, row: &account::Model) -> Result<account::Model, AppError> {
    let current = account::Entity::find_by_id(row.id.clone())
        .one(c)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("account {:?} does not exist", row.name)))?;
    let continuous = backup::entities::backup_state::Entity::find_by_id(row.id.clone()).one(c).await?.is_some();
    if matches!(current.backup_policy, BackupPolicy::Periodic { .. }) && current.state == AccountState::Online && !continuous {
        return Ok(current);
    }
    Err(AppError::Conflict(format!(
        "account {:?} is {} with {}: only a live account with periodic backup migrates",
        row.name,
        current.state,
        current.backup_policy.summary()
    )))
}

/// Deletes an account: it leaves the live list and stays restorable for its retention.
pub async fn delete(caller: &Caller, subscription_id: String, name: String) -> Result<(), AppError> {
    let action = actions::ACCOUNTS_DELETE;
    let row = authorized_account(caller, action, &subscription_id, &name).await?;
    let scope = account_scope(&row);
    let result = delete_inner(caller, row).await;
    caller.audited(action, &scope, &scope.to_string(), result).await
}

async fn delete_inner(caller: &Caller, row: account::Model) -> Result<(), AppError> {
    let current = row.state;
    if current != AccountState::Online {
        return Err(AppError::Conflict(format!("account {:?} is {current} and cannot be deleted until it is Online", row.name)));
    }
    let (id, name) = (row.id.clone(), row.name.clone());
    let mut active: account::ActiveModel = row.into();
    active.state = Set(AccountState::Deleted);
    active.deleted_at = Set(Some(Utc::now()));
    active.update(&caller.db).await?;
    tracing::info!(account = %id, name = %name, by = %caller.user.name, "account deleted (kept for restore)");
    Ok(())
}
