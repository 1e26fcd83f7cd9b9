//! Database accounts: create, list, view, read keys, and soft-delete (SPEC §1).

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::authz::ssr::Caller;
use crate::domain::{AccountState, BackupPolicy, CreateMode, KeyKind, KeyManagement};
use crate::error::AppError;

/// An account as the portal shows it (no key material).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Account {
    pub id: String,
    pub subscription_id: String,
    pub name: String,
    pub region: String,
    /// `Sql` (the Cosmos DB for NoSQL API).
    pub api_kind: String,
    pub state: AccountState,
    pub created_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub backup_policy: BackupPolicy,
    pub key_management: KeyManagement,
    /// `Restore` for an account made by a restore.
    pub create_mode: CreateMode,
    /// Where SDKs reach the account's data plane.
    pub endpoint: String,
    /// For a restored account: where and when it came from.
    pub restore_parameters: Option<RestoreParameters>,
}

pub use domain::{AccountKeys, RestoreParameters};

#[cfg(feature = "ssr")]
pub mod ssr {
    use chrono::Utc;
    use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

    use super::{Account, AccountKeys};
    use crate::authz::ssr::{Caller, account_scope};
    use crate::crypto::random_base64;
    use crate::db::account;
    use crate::domain::rbac::{Scope, actions};
    use crate::domain::{AccountName, AccountState, BackupPolicy, BackupPolicyInput, CreateMode, KeyKind, KeyManagement, RegionName};
    use crate::error::AppError;
    use crate::state::AppState;
    use crate::subscriptions;
    pub use control::account_keys::{open_keys, seal_keys, seal_new_keys};

    /// The endpoint an SDK is given for `name`.
    pub fn endpoint(public_url: &str, name: &str) -> String {
        format!("{public_url}/cosmos/{name}/")
    }

    pub fn to_wire(state: &AppState, row: account::Model) -> Result<Account, AppError> {
        let backup_policy: BackupPolicy = serde_json::from_str(&row.backup_policy).map_err(|e| {
            tracing::error!(account = %row.id, error = %e, "stored backup policy is unreadable");
            AppError::Internal
        })?;
        Ok(Account {
            endpoint: endpoint(&state.public_url, &row.name),
            state: row.state,
            id: row.id,
            subscription_id: row.subscription_id,
            name: row.name,
            region: row.region,
            api_kind: row.api_kind,
            created_at: row.created_at,
            deleted_at: row.deleted_at,
            backup_policy,
            key_management: row.key_management,
            create_mode: row.create_mode,
            restore_parameters: row.restore_parameters.as_deref().and_then(|p| serde_json::from_str(p).ok()),
        })
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

    /// The live account, if the caller may do `action` on it. A missing account is 404 only to
    /// callers who may see the subscription; to others it is the same 403 as a forbidden one.
    async fn authorized_account(caller: &Caller, action: &str, subscription_id: &str, name: &str) -> Result<account::Model, AppError> {
        match find_live(&caller.state.db, subscription_id, name).await {
            Ok(row) => {
                let resource = format!("{}", account_scope(&row));
                caller.authorize(action, &account_scope(&row), &resource).await?;
                Ok(row)
            }
            Err(not_found) => {
                subscriptions::ssr::ensure_visible(caller, subscription_id).await?;
                Err(not_found)
            }
        }
    }

    pub async fn list(caller: &Caller, subscription_id: String) -> Result<Vec<Account>, AppError> {
        subscriptions::ssr::ensure_visible(caller, &subscription_id).await?;
        subscriptions::ssr::find(&caller.state.db, &subscription_id).await?;
        let rows = account::Entity::find()
            .filter(account::Column::SubscriptionId.eq(&subscription_id))
            .filter(account::Column::DeletedAt.is_null())
            .order_by_asc(account::Column::Name)
            .all(&caller.state.db)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            if caller.can(actions::ACCOUNTS_READ, &account_scope(&row)).await? {
                out.push(to_wire(&caller.state, row)?);
            }
        }
        Ok(out)
    }

    pub async fn get(caller: &Caller, subscription_id: String, name: String) -> Result<Account, AppError> {
        let row = authorized_account(caller, actions::ACCOUNTS_READ, &subscription_id, &name).await?;
        to_wire(&caller.state, row)
    }

    pub async fn list_keys(caller: &Caller, subscription_id: String, name: String) -> Result<AccountKeys, AppError> {
        let action = actions::ACCOUNTS_LIST_KEYS;
        let row = authorized_account(caller, action, &subscription_id, &name).await?;
        let keys = open_keys(&caller.state.master_key, &row);
        let scope = account_scope(&row);
        caller.audited(action, &scope, &scope.to_string(), keys).await
    }

    pub async fn regenerate_key(caller: &Caller, subscription_id: String, name: String, kind: KeyKind) -> Result<AccountKeys, AppError> {
        let action = actions::ACCOUNTS_REGENERATE_KEY;
        let row = authorized_account(caller, action, &subscription_id, &name).await?;
        let scope = account_scope(&row);
        let result = async {
            let mut keys = open_keys(&caller.state.master_key, &row)?;
            let fresh = random_base64(64);
            match kind {
                KeyKind::PrimaryMaster => keys.primary_master_key = fresh,
                KeyKind::SecondaryMaster => keys.secondary_master_key = fresh,
                KeyKind::PrimaryReadonly => keys.primary_readonly_master_key = fresh,
                KeyKind::SecondaryReadonly => keys.secondary_readonly_master_key = fresh,
            }
            let sealed = seal_keys(&caller.state.master_key, &row.id, &keys);
            let mut active: account::ActiveModel = row.clone().into();
            active.sealed_keys = Set(sealed);
            active.update(&caller.state.db).await?;
            Ok(keys)
        }
        .await;
        let resource = format!("{scope} ({kind:?})");
        caller.audited(action, &scope, &resource, result).await
    }

    pub struct CreateAccount {
        pub subscription_id: String,
        pub name: String,
        pub region: String,
        pub policy: BackupPolicyInput,
    }

    pub async fn create(caller: &Caller, input: CreateAccount) -> Result<Account, AppError> {
        let scope = Scope::Subscription(input.subscription_id.clone());
        let resource = format!("{scope}/accounts/{}", input.name.trim());
        caller.authorize(actions::ACCOUNTS_WRITE, &scope, &resource).await?;
        let result = create_inner(caller, input).await;
        caller.audited(actions::ACCOUNTS_WRITE, &scope, &resource, result).await
    }

    async fn create_inner(caller: &Caller, input: CreateAccount) -> Result<Account, AppError> {
        let state = &caller.state;
        let name = AccountName::parse(input.name.trim())?;
        let region = if input.region.trim().is_empty() { RegionName::parse("local")? } else { RegionName::parse(&input.region)? };
        let policy = input.policy.validate()?;
        subscriptions::ssr::find(&state.db, &input.subscription_id).await?;

        let row = control::new_account::NewAccount {
            subscription_id: &input.subscription_id,
            name: &name,
            region: &region,
            api_kind: "Sql",
            state: AccountState::Online,
            policy: &policy,
            key_management: KeyManagement::ServiceManaged,
            create_mode: CreateMode::Default,
            restore_parameters: None,
        }
        .insert(&state.db, &state.master_key)
        .await?;
        tracing::info!(account = %row.id, name = %row.name, by = %caller.user.name, "account created");
        to_wire(state, row)
    }

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
        active.update(&caller.state.db).await?;
        tracing::info!(account = %id, name = %name, by = %caller.user.name, "account deleted (kept for restore)");
        Ok(())
    }
}

/// The live accounts of a subscription, by name.
#[server(endpoint = "list_accounts")]
pub async fn list_accounts(subscription_id: String) -> Result<Vec<Account>, AppError> {
    crate::request::respond(async move { ssr::list(&Caller::current().await?, subscription_id).await }.await)
}

/// One live account.
#[server(endpoint = "get_account")]
pub async fn get_account(subscription_id: String, name: String) -> Result<Account, AppError> {
    crate::request::respond(async move { ssr::get(&Caller::current().await?, subscription_id, name).await }.await)
}

/// The account's keys.
#[server(endpoint = "list_keys")]
pub async fn list_keys(subscription_id: String, name: String) -> Result<AccountKeys, AppError> {
    crate::request::respond(async move { ssr::list_keys(&Caller::current().await?, subscription_id, name).await }.await)
}

/// Replaces one of the account's keys with a fresh one; the old key stops working at once.
#[server(endpoint = "regenerate_key")]
pub async fn regenerate_key(subscription_id: String, name: String, kind: KeyKind) -> Result<AccountKeys, AppError> {
    crate::request::respond(async move { ssr::regenerate_key(&Caller::current().await?, subscription_id, name, kind).await }.await)
}

/// Creates an account. Empty policy fields take Cosmos DB's defaults (periodic, 4 h, 8 h, Geo).
#[server(endpoint = "create_account")]
pub async fn create_account(
    subscription_id: String,
    name: String,
    region: String,
    mode: String,
    interval_hours: Option<String>,
    retention_hours: Option<String>,
    redundancy: Option<String>,
) -> Result<Account, AppError> {
    let policy = crate::domain::BackupPolicyInput { mode, interval_hours, retention_hours, redundancy };
    crate::request::respond(
        async move { ssr::create(&Caller::current().await?, ssr::CreateAccount { subscription_id, name, region, policy }).await }.await,
    )
}

/// Deletes an account: it leaves the live list but stays on record, restorable.
#[server(endpoint = "delete_account")]
pub async fn delete_account(subscription_id: String, name: String) -> Result<(), AppError> {
    crate::request::respond(async move { ssr::delete(&Caller::current().await?, subscription_id, name).await }.await)
}
