//! The data explorer's server side: an account's databases and containers, its items, and
//! queries, through the same engine (and change log) as the Cosmos DB endpoint.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A database and its containers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseNode {
    pub id: String,
    pub containers: Vec<ContainerNode>,
}

/// A container as the explorer tree shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerNode {
    pub id: String,
    pub partition_key: String,
    pub throughput: Option<i32>,
}

/// A page of items, each pretty-printed JSON, with what is needed to address it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemRow {
    pub id: String,
    /// The partition key value as the REST header carries it (`["t1"]`).
    pub pk: String,
    pub json: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemPage {
    pub items: Vec<ItemRow>,
    /// Pass back to get the next page; `None` at the end.
    pub next: Option<String>,
}

/// A query's first page of results (pretty JSON) and what it cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryResult {
    pub json: String,
    /// Results shown.
    pub count: usize,
    /// More results follow the ones shown.
    pub more: bool,
    pub request_charge: f64,
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use engine::limits::MAX_PAGE_BYTES;
    use engine::query::PageLimits;
    use engine::scan::Position;
    use engine::store::{self, ContainerSpec, WriteMode};
    use engine::throughput::{budget, write_charge};
    use serde_json::{Value, json};
    use std::sync::Arc;

    use super::{ContainerNode, DatabaseNode, ItemPage, ItemRow, QueryResult};
    use crate::accounts::ssr::find_live;
    use crate::authz::ssr::{Caller, account_scope};
    use crate::db::account;
    use crate::domain::rbac::actions;
    use crate::error::AppError;

    const PAGE: u64 = 20;
    /// Results the explorer shows of a query: its first page.
    const QUERY_RESULTS: usize = 100;

    /// Reserves a write's estimated request units from the container's throughput, as the data
    /// plane does: the explorer is throttled like any other client.
    async fn spend(caller: &Caller, row: &account::Model, db: &str, container: &str, estimate: f64) -> Result<(), AppError> {
        let (d, c) = store::get_container(&caller.state.db, &row.id, db, container).await?;
        let (key, rate) = budget(&d, &c);
        Ok(caller.state.throttle.reserve(&key, rate, estimate)?)
    }

    /// The caller and the account, once `action` on it is allowed.
    async fn account_for(action: &str, sub: &str, name: &str) -> Result<(Caller, account::Model), AppError> {
        let caller = Caller::current().await?;
        let row = match find_live(&caller.state.db, sub, name).await {
            Ok(row) => row,
            Err(e) => {
                crate::subscriptions::ssr::ensure_visible(&caller, sub).await?;
                return Err(e);
            }
        };
        caller.authorize(action, &account_scope(&row), &account_scope(&row).to_string()).await?;
        if action != actions::ACCOUNTS_READ && row.state != crate::domain::AccountState::Online {
            return Err(AppError::Conflict(format!(
                "account {name:?} is {}; its data can be browsed and changed once it is Online",
                row.state
            )));
        }
        Ok((caller, row))
    }

    async fn audited<T>(caller: &Caller, row: &account::Model, action: &str, what: &str, r: Result<T, AppError>) -> Result<T, AppError> {
        let scope = account_scope(row);
        caller.audited(action, &scope, &format!("{scope}/{what}"), r).await
    }

    pub async fn tree(sub: String, name: String) -> Result<Vec<DatabaseNode>, AppError> {
        let (caller, row) = account_for(actions::ACCOUNTS_READ, &sub, &name).await?;
        let mut out = Vec::new();
        for d in store::list_databases(&caller.state.db, &row.id).await? {
            let (_, colls) = store::list_containers(&caller.state.db, &row.id, &d.id).await?;
            out.push(DatabaseNode {
                id: d.id,
                containers: colls
                    .iter()
                    .map(|c| ContainerNode {
                        id: c.id.clone(),
                        partition_key: store::partition_key_paths(c).join(", "),
                        throughput: c.autoscale_max.or(c.throughput),
                    })
                    .collect(),
            });
        }
        Ok(out)
    }

    pub async fn create_database(sub: String, name: String, db: String) -> Result<(), AppError> {
        let (caller, row) = account_for(actions::ACCOUNTS_WRITE, &sub, &name).await?;
        let r = store::create_database(&caller.state.db, &row.id, db.trim(), None).await.map(|_| ()).map_err(AppError::from);
        audited(&caller, &row, actions::ACCOUNTS_WRITE, &format!("dbs/{db}"), r).await
    }

    pub async fn delete_database(sub: String, name: String, db: String) -> Result<(), AppError> {
        let (caller, row) = account_for(actions::ACCOUNTS_WRITE, &sub, &name).await?;
        let r = store::delete_database(&caller.state.db, &row.id, &db).await.map_err(AppError::from);
        audited(&caller, &row, actions::ACCOUNTS_WRITE, &format!("dbs/{db} (delete)"), r).await
    }

    pub async fn create_container(
        sub: String,
        name: String,
        db: String,
        container: String,
        partition_key: String,
        throughput: String,
    ) -> Result<(), AppError> {
        let (caller, row) = account_for(actions::ACCOUNTS_WRITE, &sub, &name).await?;
        let r = async {
            let mut spec = ContainerSpec::from_body(
                &json!({"id": container.trim(), "partitionKey": {"paths": [partition_key.trim()], "kind": "Hash"}}),
            )?;
            let t = throughput.trim();
            if !t.is_empty() {
                spec.throughput =
                    Some(t.parse().map_err(|_| AppError::invalid(format!("throughput must be a number of RU/s (got {t:?})")))?);
            }
            store::create_container(&caller.state.db, &row.id, &db, spec).await?;
            Ok(())
        }
        .await;
        audited(&caller, &row, actions::ACCOUNTS_WRITE, &format!("dbs/{db}/colls/{container}"), r).await
    }

    pub async fn delete_container(sub: String, name: String, db: String, container: String) -> Result<(), AppError> {
        let (caller, row) = account_for(actions::ACCOUNTS_WRITE, &sub, &name).await?;
        let r = store::delete_container(&caller.state.db, &row.id, &db, &container).await.map_err(AppError::from);
        audited(&caller, &row, actions::ACCOUNTS_WRITE, &format!("dbs/{db}/colls/{container} (delete)"), r).await
    }

    pub async fn items(sub: String, name: String, db: String, container: String, after: String) -> Result<ItemPage, AppError> {
        let (caller, row) = account_for(actions::DATA_READ, &sub, &name).await?;
        let after = if after.is_empty() {
            None
        } else {
            Some(serde_json::from_str::<Position>(&after).map_err(|_| AppError::invalid("bad page token"))?)
        };
        let (d, c, batch) = store::list_items(&caller.state.db, &row.id, &db, &container, after, PAGE, MAX_PAGE_BYTES).await?;
        let next =
            if batch.more { batch.items.last().map(|l| json!(Position { pk: l.pk.clone(), id: l.id.clone() }).to_string()) } else { None };
        let mut items = Vec::with_capacity(batch.items.len());
        for i in &batch.items {
            items.push(ItemRow { id: i.id.clone(), pk: i.pk.clone(), json: pretty(&store::item_json(&d, &c, i)?) });
        }
        Ok(ItemPage { items, next })
    }

    fn pretty(v: &Value) -> String {
        serde_json::to_string_pretty(v).unwrap_or_default()
    }

    pub async fn save_item(
        sub: String,
        name: String,
        db: String,
        container: String,
        json_text: String,
        original_pk: String,
        original_id: String,
    ) -> Result<ItemRow, AppError> {
        let (caller, row) = account_for(actions::DATA_WRITE, &sub, &name).await?;
        let r = async {
            spend(&caller, &row, &db, &container, write_charge(json_text.len())).await?;
            let doc: Value = serde_json::from_str(&json_text).map_err(|e| AppError::invalid(format!("the item is not valid JSON: {e}")))?;
            let stored = if original_id.is_empty() {
                store::write_item(&caller.state.db, &row.id, &db, &container, None, doc, WriteMode::Create).await?.0
            } else {
                store::replace_item(&caller.state.db, &row.id, &db, &container, &original_pk, &original_id, doc, None).await?
            };
            Ok(ItemRow { id: stored.item.id.clone(), pk: stored.item.pk.clone(), json: pretty(&stored.to_json()?) })
        }
        .await;
        audited(&caller, &row, actions::DATA_WRITE, &format!("dbs/{db}/colls/{container}/docs"), r).await
    }

    pub async fn delete_item(sub: String, name: String, db: String, container: String, pk: String, id: String) -> Result<(), AppError> {
        let (caller, row) = account_for(actions::DATA_WRITE, &sub, &name).await?;
        let r = async {
            spend(&caller, &row, &db, &container, write_charge(0)).await?;
            Ok(store::delete_item(&caller.state.db, &row.id, &db, &container, &pk, &id, None).await?)
        }
        .await;
        audited(&caller, &row, actions::DATA_WRITE, &format!("dbs/{db}/colls/{container}/docs/{id} (delete)"), r).await
    }

    /// The query's first page, run and paid for exactly as on the data plane.
    pub async fn query(sub: String, name: String, db: String, container: String, sql: String) -> Result<QueryResult, AppError> {
        let (caller, row) = account_for(actions::DATA_READ, &sub, &name).await?;
        let q = engine::query::parse(&sql, &[])?;
        let state = &caller.state;
        let cx = engine::query::page::Context {
            gate: &state.queries,
            throttle: &state.throttle,
            account_id: &row.id,
            database: &db,
            container: &container,
            partition_key: None,
            batching: engine::query::page::Batching::DEFAULT,
        };
        let limits = PageLimits { max_items: QUERY_RESULTS, max_bytes: MAX_PAGE_BYTES };
        let page = engine::query::page::page(&state.db, cx, Arc::new(q), None, limits).await?;
        Ok(QueryResult {
            json: pretty(&Value::Array(page.results.clone())),
            count: page.results.len(),
            more: page.continuation.is_some(),
            request_charge: page.charge,
        })
    }
}

/// Databases and containers of an account.
#[server(endpoint = "explorer_tree")]
pub async fn explorer_tree(subscription_id: String, name: String) -> Result<Vec<DatabaseNode>, AppError> {
    crate::request::respond(ssr::tree(subscription_id, name).await)
}

#[server(endpoint = "explorer_create_database")]
pub async fn explorer_create_database(subscription_id: String, name: String, database: String) -> Result<(), AppError> {
    crate::request::respond(ssr::create_database(subscription_id, name, database).await)
}

#[server(endpoint = "explorer_delete_database")]
pub async fn explorer_delete_database(subscription_id: String, name: String, database: String) -> Result<(), AppError> {
    crate::request::respond(ssr::delete_database(subscription_id, name, database).await)
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
    crate::request::respond(ssr::create_container(subscription_id, name, database, container, partition_key, throughput).await)
}

#[server(endpoint = "explorer_delete_container")]
pub async fn explorer_delete_container(subscription_id: String, name: String, database: String, container: String) -> Result<(), AppError> {
    crate::request::respond(ssr::delete_container(subscription_id, name, database, container).await)
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
    crate::request::respond(ssr::items(subscription_id, name, database, container, after).await)
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
    crate::request::respond(ssr::save_item(subscription_id, name, database, container, json, original_pk, original_id).await)
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
    crate::request::respond(ssr::delete_item(subscription_id, name, database, container, pk, id).await)
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
    crate::request::respond(ssr::query(subscription_id, name, database, container, sql).await)
}
