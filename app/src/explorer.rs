//! The data explorer's server functions: adapters over `control::explorer` (the wire types are
//! `domain::explorer`'s).

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::authz::ssr::Caller;
pub use crate::domain::explorer::{ContainerNode, DatabaseNode, ItemPage, ItemRow, QueryResult};
use crate::error::AppError;

#[cfg(feature = "ssr")]
pub use control::explorer as ssr;

/// Databases and containers of an account.
#[server(endpoint = "explorer_tree")]
pub async fn explorer_tree(subscription_id: String, name: String) -> Result<Vec<DatabaseNode>, AppError> {
    crate::request::respond(
        async move {
            let c = Caller::current().await?;
            ssr::tree(&c.state, &c.who, subscription_id, name).await
        }
        .await,
    )
}

#[server(endpoint = "explorer_create_database")]
pub async fn explorer_create_database(subscription_id: String, name: String, database: String) -> Result<(), AppError> {
    crate::request::respond(
        async move {
            let c = Caller::current().await?;
            ssr::create_database(&c.state, &c.who, subscription_id, name, database).await
        }
        .await,
    )
}

#[server(endpoint = "explorer_delete_database")]
pub async fn explorer_delete_database(subscription_id: String, name: String, database: String) -> Result<(), AppError> {
    crate::request::respond(
        async move {
            let c = Caller::current().await?;
            ssr::delete_database(&c.state, &c.who, subscription_id, name, database).await
        }
        .await,
    )
}

#[server(endpoint = "explorer_create_container")]
pub async fn explorer_create_container(
    subscription_id: String,
    name: String,
    database: String,
    container: String,
    partition_key: String,
    throughput: String,
) -> Result<(), AppError> {
    crate::request::respond(
        async move {
            let c = Caller::current().await?;
            ssr::create_container(&c.state, &c.who, subscription_id, name, database, container, partition_key, throughput).await
        }
        .await,
    )
}

#[server(endpoint = "explorer_delete_container")]
pub async fn explorer_delete_container(subscription_id: String, name: String, database: String, container: String) -> Result<(), AppError> {
    crate::request::respond(
        async move {
            let c = Caller::current().await?;
            ssr::delete_container(&c.state, &c.who, subscription_id, name, database, container).await
        }
        .await,
    )
}

/// A page of a container's items; `after` is the previous page's `next` (empty for the first).
#[server(endpoint = "explorer_items")]
pub async fn explorer_items(
    subscription_id: String,
    name: String,
    database: String,
    container: String,
    after: String,
) -> Result<ItemPage, AppError> {
    crate::request::respond(
        async move {
            let c = Caller::current().await?;
            ssr::items(&c.state, &c.who, subscription_id, name, database, container, after).await
        }
        .await,
    )
}

/// Creates an item (`original_id` empty) or replaces the one at `original_pk`/`original_id`.
#[server(endpoint = "explorer_save_item")]
pub async fn explorer_save_item(
    subscription_id: String,
    name: String,
    database: String,
    container: String,
    json: String,
    original_pk: String,
    original_id: String,
) -> Result<ItemRow, AppError> {
    crate::request::respond(
        async move {
            let c = Caller::current().await?;
            ssr::save_item(&c.state, &c.who, subscription_id, name, database, container, json, original_pk, original_id).await
        }
        .await,
    )
}

#[server(endpoint = "explorer_delete_item")]
pub async fn explorer_delete_item(
    subscription_id: String,
    name: String,
    database: String,
    container: String,
    pk: String,
    id: String,
) -> Result<(), AppError> {
    crate::request::respond(
        async move {
            let c = Caller::current().await?;
            ssr::delete_item(&c.state, &c.who, subscription_id, name, database, container, pk, id).await
        }
        .await,
    )
}

/// Runs a query over the container; shows the first 100 results and the request charge.
#[server(endpoint = "explorer_query")]
pub async fn explorer_query(
    subscription_id: String,
    name: String,
    database: String,
    container: String,
    sql: String,
) -> Result<QueryResult, AppError> {
    crate::request::respond(
        async move {
            let c = Caller::current().await?;
            ssr::query(&c.state, &c.who, subscription_id, name, database, container, sql).await
        }
        .await,
    )
}
