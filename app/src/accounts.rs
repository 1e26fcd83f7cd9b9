//! Database accounts: create, list, view, read keys, and soft-delete (SPEC §1).

// A server function takes one argument per form field; the create form has eight.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::authz::ssr::Caller;
use crate::domain::KeyKind;
use crate::error::AppError;

pub use domain::{Account, AccountKeys, RestoreParameters};

#[cfg(feature = "ssr")]
pub use control::accounts as ssr;

/// The live accounts of a subscription, by name.
#[server(endpoint = "list_accounts")]
pub async fn list_accounts(subscription_id: String) -> Result<Vec<Account>, AppError> {
    crate::request::respond(
        async move {
            let c = Caller::current().await?;
            ssr::list(&c.state.ctx(), &c.who, subscription_id).await
        }
        .await,
    )
}

/// One live account.
#[server(endpoint = "get_account")]
pub async fn get_account(subscription_id: String, name: String) -> Result<Account, AppError> {
    crate::request::respond(
        async move {
            let c = Caller::current().await?;
            ssr::get(&c.state.ctx(), &c.who, subscription_id, name).await
        }
        .await,
    )
}

/// The account's keys.
#[server(endpoint = "list_keys")]
pub async fn list_keys(subscription_id: String, name: String) -> Result<AccountKeys, AppError> {
    crate::request::respond(
        async move {
            let c = Caller::current().await?;
            ssr::list_keys(&c.state.ctx(), &c.who, subscription_id, name).await
        }
        .await,
    )
}

/// Replaces one of the account's keys with a fresh one; the old key stops working at once.
#[server(endpoint = "regenerate_key")]
pub async fn regenerate_key(subscription_id: String, name: String, kind: KeyKind) -> Result<AccountKeys, AppError> {
    crate::request::respond(
        async move {
            let c = Caller::current().await?;
            ssr::regenerate_key(&c.state.ctx(), &c.who, subscription_id, name, kind).await
        }
        .await,
    )
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
    customer_key: Option<String>,
) -> Result<Account, AppError> {
    let policy = crate::domain::BackupPolicyInput { mode, interval_hours, retention_hours, redundancy };
    let input = ssr::CreateAccount { subscription_id, name, region, policy, customer_key };
    crate::request::respond(
        async move {
            let c = Caller::current().await?;
            ssr::create(&c.state.ctx(), &c.who, input).await
        }
        .await,
    )
}

/// The customer-managed keys a new account of the subscription may choose, by name.
#[server(endpoint = "list_customer_keys")]
pub async fn list_customer_keys(subscription_id: String) -> Result<Vec<String>, AppError> {
    crate::request::respond(
        async move {
            let c = Caller::current().await?;
            ssr::customer_keys(&c.state.ctx(), &c.who, subscription_id).await
        }
        .await,
    )
}

/// Deletes an account: it leaves the live list but stays on record, restorable.
#[server(endpoint = "delete_account")]
pub async fn delete_account(subscription_id: String, name: String) -> Result<(), AppError> {
    crate::request::respond(async move { ssr::delete(&Caller::current().await?.who, subscription_id, name).await }.await)
}
