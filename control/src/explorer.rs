//! The portal's data explorer: an account's databases and containers, its items and queries,
//! through the same engine, change log, throughput and query limits as the Cosmos DB endpoint;
//! each call checks the caller's roles, and changes are audited.

use engine::limits::MAX_PAGE_BYTES;
use engine::query::PageLimits;
use engine::scan::Position;
use engine::store::{self, ContainerSpec, WriteMode};
use engine::throughput::{budget, write_charge};
use serde_json::{Value, json};
use std::sync::Arc;

use domain::error::AppError;
pub use domain::explorer::{ContainerNode, DatabaseNode, ItemPage, ItemRow, QueryResult};
use domain::rbac::actions;

use crate::accounts::authorized_account;
use crate::authz::{Caller, account_scope};
use crate::db::account;
use crate::state::AppState;

const PAGE: u64 = 20;
/// Results the explorer shows of a query: its first page.
const QUERY_RESULTS: usize = 100;

/// Reserves a write's estimated request units from the container's throughput, as the data
/// plane does: the explorer is throttled like any other client.
async fn spend(state: &AppState, row: &account::Model, db: &str, container: &str, estimate: f64) -> Result<(), AppError> {
    let (d, c) = store::get_container(&state.db, &row.id, db, container).await?;
    let (key, rate) = budget(&d, &c);
    Ok(state.throttle.reserve(&key, rate, estimate)?)
}

/// The account, once `action` on it is allowed; changes need it `Online`.
async fn account_for(caller: &Caller, action: &str, sub: &str, name: &str) -> Result<account::Model, AppError> {
    let row = authorized_account(caller, action, sub, name).await?;
    if action != actions::ACCOUNTS_READ && row.state != domain::AccountState::Online {
        return Err(AppError::Conflict(format!(
            "account {name:?} is {}; its data can be browsed and changed once it is Online",
            row.state
        )));
    }
    Ok(row)
}

async fn audited<T>(caller: &Caller, row: &account::Model, action: &str, what: &str, r: Result<T, AppError>) -> Result<T, AppError> {
    let scope = account_scope(row);
    caller.audited(action, &scope, &format!("{scope}/{what}"), r).await
}

pub async fn tree(state: &AppState, caller: &Caller, sub: String, name: String) -> Result<Vec<DatabaseNode>, AppError> {
    let row = account_for(caller, actions::ACCOUNTS_READ, &sub, &name).await?;
    let mut out = Vec::new();
    for d in store::list_databases(&state.db, &row.id).await? {
        let (_, colls) = store::list_containers(&state.db, &row.id, &d.id).await?;
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

pub async fn create_database(state: &AppState, caller: &Caller, sub: String, name: String, db: String) -> Result<(), AppError> {
    let row = account_for(caller, actions::ACCOUNTS_WRITE, &sub, &name).await?;
    let r = store::create_database(&state.db, &row.id, db.trim(), None).await.map(|_| ()).map_err(AppError::from);
    audited(caller, &row, actions::ACCOUNTS_WRITE, &format!("dbs/{db}"), r).await
}

pub async fn delete_database(state: &AppState, caller: &Caller, sub: String, name: String, db: String) -> Result<(), AppError> {
    let row = account_for(caller, actions::ACCOUNTS_WRITE, &sub, &name).await?;
    let r = store::delete_database(&state.db, &row.id, &db).await.map_err(AppError::from);
    audited(caller, &row, actions::ACCOUNTS_WRITE, &format!("dbs/{db} (delete)"), r).await
}

#[allow(clippy::too_many_arguments)] // the explorer form's fields, one by one
pub async fn create_container(
    state: &AppState,
    caller: &Caller,
    sub: String,
    name: String,
    db: String,
    container: String,
    partition_key: String,
    throughput: String,
) -> Result<(), AppError> {
    let row = account_for(caller, actions::ACCOUNTS_WRITE, &sub, &name).await?;
    let r = async {
        let mut spec =
            ContainerSpec::from_body(&json!({"id": container.trim(), "partitionKey": {"paths": [partition_key.trim()], "kind": "Hash"}}))?;
        let t = throughput.trim();
        if !t.is_empty() {
            spec.throughput = Some(t.parse().map_err(|_| AppError::invalid(format!("throughput must be a number of RU/s (got {t:?})")))?);
        }
        store::create_container(&state.db, &row.id, &db, spec).await?;
        Ok(())
    }
    .await;
    audited(caller, &row, actions::ACCOUNTS_WRITE, &format!("dbs/{db}/colls/{container}"), r).await
}

pub async fn delete_container(
    state: &AppState,
    caller: &Caller,
    sub: String,
    name: String,
    db: String,
    container: String,
) -> Result<(), AppError> {
    let row = account_for(caller, actions::ACCOUNTS_WRITE, &sub, &name).await?;
    let r = store::delete_container(&state.db, &row.id, &db, &container).await.map_err(AppError::from);
    audited(caller, &row, actions::ACCOUNTS_WRITE, &format!("dbs/{db}/colls/{container} (delete)"), r).await
}

pub async fn items(
    state: &AppState,
    caller: &Caller,
    sub: String,
    name: String,
    db: String,
    container: String,
    after: String,
) -> Result<ItemPage, AppError> {
    let row = account_for(caller, actions::DATA_READ, &sub, &name).await?;
    let after = if after.is_empty() {
        None
    } else {
        Some(serde_json::from_str::<Position>(&after).map_err(|_| AppError::invalid("bad page token"))?)
    };
    let (d, c, batch) = store::list_items(&state.db, &row.id, &db, &container, after, PAGE, MAX_PAGE_BYTES).await?;
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

#[allow(clippy::too_many_arguments)] // the explorer form's fields, one by one
pub async fn save_item(
    state: &AppState,
    caller: &Caller,
    sub: String,
    name: String,
    db: String,
    container: String,
    json_text: String,
    original_pk: String,
    original_id: String,
) -> Result<ItemRow, AppError> {
    let row = account_for(caller, actions::DATA_WRITE, &sub, &name).await?;
    let r = async {
        spend(state, &row, &db, &container, write_charge(json_text.len())).await?;
        let doc: Value = serde_json::from_str(&json_text).map_err(|e| AppError::invalid(format!("the item is not valid JSON: {e}")))?;
        let stored = if original_id.is_empty() {
            store::write_item(&state.db, &row.id, &db, &container, None, doc, WriteMode::Create).await?.0
        } else {
            store::replace_item(&state.db, &row.id, &db, &container, &original_pk, &original_id, doc, None).await?
        };
        Ok(ItemRow { id: stored.item.id.clone(), pk: stored.item.pk.clone(), json: pretty(&stored.to_json()?) })
    }
    .await;
    audited(caller, &row, actions::DATA_WRITE, &format!("dbs/{db}/colls/{container}/docs"), r).await
}

#[allow(clippy::too_many_arguments)] // the explorer form's fields, one by one
pub async fn delete_item(
    state: &AppState,
    caller: &Caller,
    sub: String,
    name: String,
    db: String,
    container: String,
    pk: String,
    id: String,
) -> Result<(), AppError> {
    let row = account_for(caller, actions::DATA_WRITE, &sub, &name).await?;
    let r = async {
        spend(state, &row, &db, &container, write_charge(0)).await?;
        Ok(store::delete_item(&state.db, &row.id, &db, &container, &pk, &id, None).await?)
    }
    .await;
    audited(caller, &row, actions::DATA_WRITE, &format!("dbs/{db}/colls/{container}/docs/{id} (delete)"), r).await
}

/// The query's first page, run and paid for exactly as on the data plane.
pub async fn query(
    state: &AppState,
    caller: &Caller,
    sub: String,
    name: String,
    db: String,
    container: String,
    sql: String,
) -> Result<QueryResult, AppError> {
    let row = account_for(caller, actions::DATA_READ, &sub, &name).await?;
    let q = engine::query::parse(&sql, &[])?;
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
