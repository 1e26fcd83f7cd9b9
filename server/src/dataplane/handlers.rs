//! Dispatch of data-plane requests to the engine, operation by operation.

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;

use control::accounts::endpoint;
use control::state::AppState;
use engine::EngineError;
use engine::limits::{MAX_IN_ITEMS, MAX_PAGE_BYTES, MAX_PAGE_ITEMS, MAX_QUERY_ANDS, MAX_QUERY_BYTES, MAX_QUERY_ORS};
use engine::query::PageLimits;
use engine::scan::Position;
use engine::store::{self, ContainerSpec};
use engine::throughput::{budget, read_charge, write_charge};

use super::DataPlane;
use super::audit;
use super::auth::{self, Authorized};
use super::operation::Operation;
use super::path::Resource;
use super::reply::{DataError, Reply};

/// Items per page when the client does not say (`x-ms-max-item-count`).
const DEFAULT_PAGE: usize = 100;

/// `/cosmos/<account>/`: the database account.
pub async fn handle_root(
    State(state): State<DataPlane>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(account): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    dispatch(state, peer, account, String::new(), method, headers, body).await
}

/// `/cosmos/<account>/<resource path>`.
pub async fn handle(
    State(state): State<DataPlane>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((account, rest)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    dispatch(state, peer, account, rest, method, headers, body).await
}

async fn dispatch(
    plane: DataPlane,
    peer: SocketAddr,
    account: String,
    rest: String,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let state = &plane.app;
    let ip = peer.ip().to_string();
    let result = async {
        let resource = Resource::parse(&rest)?;
        let operation = Operation::of(resource.clone(), &method, &headers)?;
        let row = auth::find_account(state, &account).await?;
        let key = match auth::verify_key(state, &row, &method, &headers, &resource, &operation) {
            Ok(key) => key,
            Err(e) => {
                audit::key_refused(state, &row, &ip, &operation, &e).await;
                return Err(e);
            }
        };
        let who = Authorized { account: row, key };
        // Item traffic spends the container's (or its database's) throughput; a query pays
        // batch by batch as it reads (see `engine::query::page`).
        let budget = match operation.container() {
            Some((d, c)) if !matches!(operation, Operation::Query(..)) => {
                let (dbm, coll) = store::get_container(&state.db, &who.account.id, d, c).await?;
                Some(budget(&dbm, &coll))
            }
            _ => None,
        };
        let estimate = if operation.is_read() { 1.0 } else { write_charge(body.len()) };
        if let Some((key, ru)) = &budget {
            state.throttle.reserve(key, *ru, estimate)?;
        }
        let audited = operation.audited();
        let reply = route(state, &who, operation, &headers, &body).await;
        if let Some((key, ru)) = &budget {
            let charge = reply.as_ref().map_or(1.0, Reply::charge);
            state.throttle.debit(key, *ru, charge - estimate, std::time::Instant::now());
        }
        if let Some((action, path)) = audited {
            audit::change(state, &who, &ip, action, &path, &reply).await;
        }
        reply
    }
    .await;
    match result {
        Ok(reply) => reply.into_response(),
        Err(e) => e.into_response(),
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn json_body(body: &Bytes) -> Result<Value, DataError> {
    serde_json::from_slice(body).map_err(|e| DataError::Engine(EngineError::BadRequest(format!("the request body is not valid JSON: {e}"))))
}

fn partition_key_header(headers: &HeaderMap) -> Result<&str, DataError> {
    header(headers, "x-ms-documentdb-partitionkey")
        .ok_or_else(|| DataError::Engine(EngineError::BadRequest("this operation needs the x-ms-documentdb-partitionkey header".into())))
}

/// `x-ms-max-item-count`, within [`MAX_PAGE_ITEMS`].
fn page_limits(headers: &HeaderMap) -> PageLimits {
    let max_items = header(headers, "x-ms-max-item-count")
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|n| *n > 0)
        .map_or(DEFAULT_PAGE, |n| usize::try_from(n).unwrap_or(MAX_PAGE_ITEMS).min(MAX_PAGE_ITEMS));
    PageLimits { max_items, max_bytes: MAX_PAGE_BYTES }
}

fn offer_throughput(headers: &HeaderMap) -> Result<(Option<i32>, Option<i32>), DataError> {
    let shown = engine::error::excerpt;
    let manual = match header(headers, "x-ms-offer-throughput") {
        Some(v) => Some(
            v.parse::<i32>()
                .map_err(|_| EngineError::BadRequest(format!("x-ms-offer-throughput must be a number of RU/s (got {})", shown(v))))?,
        ),
        None => None,
    };
    let autoscale = match header(headers, "x-ms-cosmos-offer-autopilot-settings") {
        Some(v) => serde_json::from_str::<Value>(v)
            .ok()
            .and_then(|s| s.get("maxThroughput").and_then(Value::as_i64))
            .map(|m| i32::try_from(m).unwrap_or(i32::MAX))
            .map(Some)
            .ok_or_else(|| {
                EngineError::BadRequest(format!("x-ms-cosmos-offer-autopilot-settings must be {{\"maxThroughput\":N}} (got {})", shown(v)))
            })?,
        None => None,
    };
    Ok((manual, autoscale))
}

/// The query text and parameters of a query body.
fn query_of(body: &Bytes) -> Result<engine::query::Query, DataError> {
    let b = json_body(body)?;
    let sql =
        b.get("query").and_then(Value::as_str).ok_or_else(|| EngineError::BadRequest("the query body needs a \"query\" string".into()))?;
    let params = b.get("parameters").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    Ok(engine::query::parse(sql, params)?)
}

/// The SDKs ask for a plan before running a query across partitions. Rewind runs the whole query
/// (ORDER BY, TOP, OFFSET/LIMIT, aggregates) on the server over its single partition key range,
/// so the plan asks the SDK for no client-side work: it passes the pages straight through.
fn query_plan(body: &Bytes) -> Result<Reply, DataError> {
    query_of(body)?;
    Ok(Reply::json(
        StatusCode::OK,
        json!({
            "partitionedQueryExecutionInfoVersion": 2,
            "queryInfo": {
                "distinctType": "None", "top": null, "offset": null, "limit": null,
                "orderBy": [], "orderByExpressions": [], "groupByExpressions": [], "groupByAliases": [],
                "aggregates": [], "groupByAliasToAggregateType": {}, "rewrittenQuery": "",
                "hasSelectValue": false, "hasNonStreamingOrderBy": false
            },
            "queryRanges": [{ "min": "", "max": "FF", "isMinInclusive": true, "isMaxInclusive": false }]
        }),
        1.0,
    ))
}

/// Runs one page of a query (see `engine::query::page`).
async fn run_query(state: &AppState, account_id: &str, d: &str, c: &str, headers: &HeaderMap, body: &Bytes) -> Result<Reply, DataError> {
    let q = query_of(body)?;
    let cx = engine::query::page::Context {
        gate: &state.queries,
        throttle: &state.throttle,
        account_id,
        database: d,
        container: c,
        partition_key: header(headers, "x-ms-documentdb-partitionkey"),
        batching: engine::query::page::Batching::DEFAULT,
    };
    let page = engine::query::page::page(&state.db, cx, Arc::new(q), header(headers, "x-ms-continuation"), page_limits(headers)).await?;
    let count = page.results.len();
    let mut reply =
        Reply::json(StatusCode::OK, json!({ "_rid": page.container_rid, "Documents": page.results, "_count": count }), page.charge)
            .header("x-ms-item-count", &count.to_string());
    if let Some(t) = page.continuation {
        reply = reply.header("x-ms-continuation", &t);
    }
    Ok(reply)
}

/// What the account tells the SDKs about its query limits: the ones Rewind enforces.
fn query_engine_configuration() -> String {
    json!({
        "maxSqlQueryInputLength": MAX_QUERY_BYTES,
        "maxJoinsPerSqlQuery": 0,
        "maxLogicalAndPerSqlQuery": MAX_QUERY_ANDS,
        "maxLogicalOrPerSqlQuery": MAX_QUERY_ORS,
        "maxUdfRefPerSqlQuery": 0,
        "maxInExpressionItemsCount": MAX_IN_ITEMS,
        "queryMaxInMemorySortDocumentCount": MAX_PAGE_ITEMS,
        "maxQueryRequestTimeoutFraction": 0.9,
        "sqlAllowNonFiniteNumbers": false,
        "sqlAllowAggregateFunctions": true,
        "sqlAllowSubQuery": false,
        "sqlAllowScalarSubQuery": false,
        "allowNewKeywords": true,
        "sqlAllowLike": false,
        "sqlAllowGroupByClause": false,
        "maxSpatialQueryCells": 12,
        "spatialMaxGeometryPointCount": 256,
        "sqlDisableOptimizationFlags": 0,
        "sqlAllowTop": true,
        "enableSpatialIndexing": false
    })
    .to_string()
}

async fn route(state: &AppState, who: &Authorized, operation: Operation, headers: &HeaderMap, body: &Bytes) -> Result<Reply, DataError> {
    let db = &state.db;
    let acct = &who.account;
    let a = acct.id.as_str();
    match operation {
        Operation::ReadAccount => {
            let ep = endpoint(&state.public_url, &acct.name);
            let location = json!([{ "name": acct.region, "databaseAccountEndpoint": ep }]);
            Ok(Reply::json(
                StatusCode::OK,
                json!({
                    "_self": "",
                    "id": acct.name,
                    "_rid": format!("{}.rewind", acct.name),
                    "media": "//media/",
                    "addresses": "//addresses/",
                    "_dbs": "//dbs/",
                    "writableLocations": location,
                    "readableLocations": location,
                    "enableMultipleWriteLocations": false,
                    "userReplicationPolicy": { "asyncReplication": false, "minReplicaSetSize": 1, "maxReplicasetSize": 4 },
                    "userConsistencyPolicy": { "defaultConsistencyLevel": "Session" },
                    "systemReplicationPolicy": { "minReplicaSetSize": 1, "maxReplicasetSize": 4 },
                    "readPolicy": { "primaryReadCoefficient": 1, "secondaryReadCoefficient": 1 },
                    "queryEngineConfiguration": query_engine_configuration(),
                }),
                1.0,
            ))
        }
        Operation::ListDatabases => {
            let list = store::list_databases(db, a).await?;
            let items: Vec<Value> = list.iter().map(store::database_json).collect();
            Ok(Reply::json(StatusCode::OK, json!({ "_rid": "", "Databases": items, "_count": list.len() }), 1.0))
        }
        Operation::CreateDatabase => {
            let b = json_body(body)?;
            let id =
                b.get("id").and_then(Value::as_str).ok_or_else(|| EngineError::BadRequest("database body needs a string \"id\"".into()))?;
            let (manual, autoscale) = offer_throughput(headers)?;
            let d = store::create_database(db, a, id, autoscale.or(manual)).await?;
            Ok(Reply::json(StatusCode::CREATED, store::database_json(&d), 5.0))
        }
        Operation::ReadDatabase(d) => {
            let row = store::get_database(db, a, &d).await?;
            Ok(Reply::json(StatusCode::OK, store::database_json(&row), 1.0))
        }
        Operation::DeleteDatabase(d) => {
            store::delete_database(db, a, &d).await?;
            Ok(Reply::empty(StatusCode::NO_CONTENT, 5.0))
        }
        Operation::ListContainers(d) => {
            let (dbm, list) = store::list_containers(db, a, &d).await?;
            let items: Vec<Value> = list.iter().map(|c| store::container_json(&dbm, c)).collect();
            Ok(Reply::json(StatusCode::OK, json!({ "_rid": dbm.rid, "DocumentCollections": items, "_count": list.len() }), 1.0))
        }
        Operation::CreateContainer(d) => {
            let mut spec = ContainerSpec::from_body(&json_body(body)?)?;
            let (manual, autoscale) = offer_throughput(headers)?;
            spec.throughput = manual;
            spec.autoscale_max = autoscale;
            let (dbm, c) = store::create_container(db, a, &d, spec).await?;
            Ok(Reply::json(StatusCode::CREATED, store::container_json(&dbm, &c), 5.0))
        }
        Operation::ReadContainer(d, c) => {
            let (dbm, coll) = store::get_container(db, a, &d, &c).await?;
            Ok(Reply::json(StatusCode::OK, store::container_json(&dbm, &coll), 1.0))
        }
        Operation::ReplaceContainer(d, c) => {
            let spec = ContainerSpec::from_body(&json_body(body)?)?;
            if spec.id != c {
                return Err(EngineError::BadRequest(format!("the body's id {:?} does not match the link's {c:?}", spec.id)).into());
            }
            let (dbm, coll) = store::replace_container(db, a, &d, spec).await?;
            Ok(Reply::json(StatusCode::OK, store::container_json(&dbm, &coll), 5.0))
        }
        Operation::DeleteContainer(d, c) => {
            store::delete_container(db, a, &d, &c).await?;
            Ok(Reply::empty(StatusCode::NO_CONTENT, 5.0))
        }
        Operation::ReadPartitionKeyRanges(d, c) => {
            let (_, coll) = store::get_container(db, a, &d, &c).await?;
            Ok(Reply::json(
                StatusCode::OK,
                json!({
                    "_rid": coll.rid,
                    "PartitionKeyRanges": [{
                        "_rid": coll.rid, "id": "0", "_etag": coll.etag, "minInclusive": "", "maxExclusive": "FF",
                        "ridPrefix": 0, "_self": format!("dbs/{}/colls/{}/pkranges/0/", d, c), "throughputFraction": 1,
                        "status": "online", "parents": [], "_ts": coll.ts
                    }],
                    "_count": 1
                }),
                1.0,
            ))
        }
        Operation::QueryPlan(..) => query_plan(body),
        Operation::Query(d, c) => run_query(state, a, &d, &c, headers, body).await,
        Operation::WriteItem(d, c, mode) => {
            let doc = json_body(body)?;
            let pk = header(headers, "x-ms-documentdb-partitionkey");
            let (stored, created) = store::write_item(db, a, &d, &c, pk, doc, mode).await?;
            let status = if created { StatusCode::CREATED } else { StatusCode::OK };
            let charge = write_charge(stored.item.body.len());
            Ok(Reply::json(status, stored.to_json()?, charge).header("etag", &stored.item.etag))
        }
        Operation::ListItems(d, c) => {
            let limits = page_limits(headers);
            let after = match header(headers, "x-ms-continuation") {
                Some(t) => Some(
                    serde_json::from_str::<Position>(t)
                        .map_err(|_| EngineError::BadRequest("x-ms-continuation is not a token this endpoint issued".into()))?,
                ),
                None => None,
            };
            let (dbm, coll, batch) = store::list_items(db, a, &d, &c, after, limits.max_items as u64, limits.max_bytes).await?;
            let (more, page) = (batch.more, batch.items);
            let docs = page.iter().map(|i| store::item_json(&dbm, &coll, i)).collect::<Result<Vec<Value>, _>>()?;
            let bytes: usize = page.iter().map(|i| i.body.len()).sum();
            let mut reply =
                Reply::json(StatusCode::OK, json!({ "_rid": coll.rid, "Documents": docs, "_count": page.len() }), read_charge(bytes));
            if more && let Some(last) = page.last() {
                let token = json!(Position { pk: last.pk.clone(), id: last.id.clone() }).to_string();
                reply = reply.header("x-ms-continuation", &token);
            }
            Ok(reply)
        }
        Operation::ReadItem(d, c, i) => {
            let stored = store::read_item(db, a, &d, &c, partition_key_header(headers)?, &i).await?;
            if header(headers, "if-none-match") == Some(stored.item.etag.as_str()) {
                return Ok(Reply::empty(StatusCode::NOT_MODIFIED, 1.0).header("etag", &stored.item.etag));
            }
            let charge = read_charge(stored.item.body.len());
            Ok(Reply::json(StatusCode::OK, stored.to_json()?, charge).header("etag", &stored.item.etag))
        }
        Operation::ReplaceItem(d, c, i) => {
            let doc = json_body(body)?;
            let stored = store::replace_item(db, a, &d, &c, partition_key_header(headers)?, &i, doc, header(headers, "if-match")).await?;
            let charge = write_charge(stored.item.body.len());
            Ok(Reply::json(StatusCode::OK, stored.to_json()?, charge).header("etag", &stored.item.etag))
        }
        Operation::PatchItem(d, c, i) => {
            // Either a bare array of operations or {"operations": [...], "condition": "from c where …"}.
            let b = json_body(body)?;
            let ops = b
                .as_array()
                .or_else(|| b.get("operations").and_then(Value::as_array))
                .ok_or_else(|| EngineError::BadRequest("a patch body needs an \"operations\" array".into()))?;
            let condition = b.get("condition").and_then(Value::as_str);
            let stored =
                store::patch_item(db, a, &d, &c, partition_key_header(headers)?, &i, ops, condition, header(headers, "if-match")).await?;
            let charge = write_charge(stored.item.body.len());
            Ok(Reply::json(StatusCode::OK, stored.to_json()?, charge).header("etag", &stored.item.etag))
        }
        Operation::DeleteItem(d, c, i) => {
            store::delete_item(db, a, &d, &c, partition_key_header(headers)?, &i, header(headers, "if-match")).await?;
            Ok(Reply::empty(StatusCode::NO_CONTENT, 5.71))
        }
    }
}
