//! Dispatch of data-plane requests to the engine, resource by resource.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};

use app::accounts::ssr::endpoint;
use app::state::AppState;
use std::time::Instant;
use engine::EngineError;
use engine::store::{self, ContainerSpec, WriteMode};

use super::DataPlane;
use super::auth::{self, Authorized};
use super::path::Resource;
use super::reply::{DataError, Reply, read_charge, write_charge};

/// Items per page when the client does not say (`x-ms-max-item-count`).
const DEFAULT_PAGE: u64 = 100;
const MAX_PAGE: u64 = 1000;

/// `/cosmos/<account>/`: the database account.
pub async fn handle_root(
    State(state): State<DataPlane>,
    Path(account): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    dispatch(state, account, String::new(), method, headers, body).await
}

/// `/cosmos/<account>/<resource path>`.
pub async fn handle(
    State(state): State<DataPlane>,
    Path((account, rest)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    dispatch(state, account, rest, method, headers, body).await
}

async fn dispatch(plane: DataPlane, account: String, rest: String, method: Method, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let state = &plane.app;
        let resource = Resource::parse(&rest)?;
        let who = auth::authorize(state, &account, &method, &headers, &resource).await?;
        // Item and query traffic spends the container's (or its database's) throughput.
        let budget = match &resource {
            Resource::Items(d, c) | Resource::Item(d, c, _) => throughput_of(state, &who.account.id, d, c).await?,
            _ => None,
        };
        let estimate = if auth::is_read(&method, &headers) { 1.0 } else { write_charge(body.len()) };
        if let Some((key, ru)) = &budget
            && let Err(wait) = plane.throttle.admit(key, *ru, estimate, Instant::now())
        {
            return Err(DataError::Throttled(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1)));
        }
        let reply = route(state, &who, resource, &method, &headers, &body).await;
        if let Some((key, ru)) = &budget {
            let charge = reply.as_ref().map_or(1.0, Reply::charge);
            plane.throttle.debit(key, *ru, charge - estimate, Instant::now());
        }
        reply
    }
    .await;
    match result {
        Ok(reply) => reply.into_response(),
        Err(e) => e.into_response(),
    }
}

/// The bucket key and RU/s that pay for requests to a container: its own throughput (manual or
/// autoscale maximum) or, for a container in a shared-throughput database, the database's.
async fn throughput_of(state: &AppState, account_id: &str, d: &str, c: &str) -> Result<Option<(String, u32)>, DataError> {
    let (dbm, coll) = store::get_container(&state.db, account_id, d, c).await?;
    let own = coll.autoscale_max.or(coll.throughput);
    let (key, ru) = match (own, dbm.throughput) {
        (Some(ru), _) => (coll.rid, ru),
        (None, Some(ru)) => (dbm.rid, ru),
        (None, None) => (coll.rid, 400),
    };
    Ok(Some((key, u32::try_from(ru).unwrap_or(400))))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn flag(headers: &HeaderMap, name: &str) -> bool {
    header(headers, name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

fn json_body(body: &Bytes) -> Result<Value, DataError> {
    serde_json::from_slice(body).map_err(|e| DataError::Engine(EngineError::BadRequest(format!("the request body is not valid JSON: {e}"))))
}

fn partition_key_header(headers: &HeaderMap) -> Result<&str, DataError> {
    header(headers, "x-ms-documentdb-partitionkey").ok_or_else(|| {
        DataError::Engine(EngineError::BadRequest("this operation needs the x-ms-documentdb-partitionkey header".into()))
    })
}

fn offer_throughput(headers: &HeaderMap) -> Result<(Option<i32>, Option<i32>), DataError> {
    let manual = match header(headers, "x-ms-offer-throughput") {
        Some(v) => Some(v.parse::<i32>().map_err(|_| EngineError::BadRequest(format!("x-ms-offer-throughput must be a number (got {v:?})")))?),
        None => None,
    };
    let autoscale = match header(headers, "x-ms-cosmos-offer-autopilot-settings") {
        Some(v) => serde_json::from_str::<Value>(v)
            .ok()
            .and_then(|s| s.get("maxThroughput").and_then(Value::as_i64))
            .and_then(|m| i32::try_from(m).ok())
            .map(Some)
            .ok_or_else(|| EngineError::BadRequest(format!("x-ms-cosmos-offer-autopilot-settings must be {{\"maxThroughput\":N}} (got {v:?})")))?,
        None => None,
    };
    Ok((manual, autoscale))
}

/// The SDKs ask for a plan before running a query across partitions. Rewind runs the whole query
/// (ORDER BY, TOP, OFFSET/LIMIT, aggregates) on the server over its single partition key range,
/// so the plan asks the SDK for no client-side work: it passes the pages straight through.
fn query_plan(body: &Bytes) -> Result<Reply, DataError> {
    let b = json_body(body)?;
    let sql = b.get("query").and_then(Value::as_str).unwrap_or_default();
    let params = b.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
    engine::query::parse(sql, &params)?;
    Ok(Reply::json(StatusCode::OK, json!({
        "partitionedQueryExecutionInfoVersion": 2,
        "queryInfo": {
            "distinctType": "None", "top": null, "offset": null, "limit": null,
            "orderBy": [], "orderByExpressions": [], "groupByExpressions": [], "groupByAliases": [],
            "aggregates": [], "groupByAliasToAggregateType": {}, "rewrittenQuery": "",
            "hasSelectValue": false, "hasNonStreamingOrderBy": false
        },
        "queryRanges": [{ "min": "", "max": "FF", "isMinInclusive": true, "isMaxInclusive": false }]
    }), 1.0))
}

/// Runs a query and returns one page; the continuation token is the number of results already
/// returned.
async fn run_query(
    db: &sea_orm::DatabaseConnection,
    account_id: &str,
    d: &str,
    c: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Reply, DataError> {
    let b = json_body(body)?;
    let sql = b
        .get("query")
        .and_then(Value::as_str)
        .ok_or_else(|| EngineError::BadRequest("the query body needs a \"query\" string".into()))?;
    let params = b.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
    let q = engine::query::parse(sql, &params)?;
    let (coll, docs) = store::items_for_query(db, account_id, d, c, header(headers, "x-ms-documentdb-partitionkey")).await?;
    let scanned: usize = docs.iter().map(|v| v.to_string().len()).sum();
    let results = engine::query::run(&q, docs)?;
    let skip = match header(headers, "x-ms-continuation") {
        Some(t) => serde_json::from_str::<Value>(t)
            .ok()
            .and_then(|v| v.get("skip").and_then(Value::as_u64))
            .ok_or_else(|| EngineError::BadRequest(format!("x-ms-continuation {t:?} is not a token this endpoint issued")))?,
        None => 0,
    } as usize;
    let limit = header(headers, "x-ms-max-item-count")
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|n| *n > 0)
        .map_or(DEFAULT_PAGE, |n| (n as u64).min(MAX_PAGE)) as usize;
    let total = results.len();
    let page: Vec<Value> = results.into_iter().skip(skip).take(limit).collect();
    let count = page.len();
    // A scan costs like reading what it touched, plus a fixed query overhead.
    let charge = 2.3 + read_charge(scanned);
    let mut reply = Reply::json(StatusCode::OK, json!({ "_rid": coll.rid, "Documents": page, "_count": count }), charge)
        .header("x-ms-item-count", &count.to_string());
    if skip + count < total {
        reply = reply.header("x-ms-continuation", &json!({ "skip": skip + count }).to_string());
    }
    Ok(reply)
}

fn not_allowed(method: &Method, what: &str) -> DataError {
    DataError::MethodNotAllowed(format!("{method} is not supported on {what}"))
}

async fn route(
    state: &AppState,
    who: &Authorized,
    resource: Resource,
    method: &Method,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Reply, DataError> {
    let db = &state.db;
    let acct = &who.account;
    let a = acct.id.as_str();
    match (resource, method.clone()) {
        (Resource::Account, Method::GET) => {
            let ep = endpoint(&state.public_url, &acct.name);
            let location = json!([{ "name": acct.region, "databaseAccountEndpoint": ep }]);
            Ok(Reply::json(StatusCode::OK, json!({
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
                "queryEngineConfiguration": "{\"maxSqlQueryInputLength\":262144,\"maxJoinsPerSqlQuery\":5,\"maxLogicalAndPerSqlQuery\":500,\"maxLogicalOrPerSqlQuery\":500,\"maxUdfRefPerSqlQuery\":10,\"maxInExpressionItemsCount\":16000,\"queryMaxInMemorySortDocumentCount\":500,\"maxQueryRequestTimeoutFraction\":0.9,\"sqlAllowNonFiniteNumbers\":false,\"sqlAllowAggregateFunctions\":true,\"sqlAllowSubQuery\":true,\"sqlAllowScalarSubQuery\":true,\"allowNewKeywords\":true,\"sqlAllowLike\":true,\"sqlAllowGroupByClause\":true,\"maxSpatialQueryCells\":12,\"spatialMaxGeometryPointCount\":256,\"sqlDisableOptimizationFlags\":0,\"sqlAllowTop\":true,\"enableSpatialIndexing\":true}",
            }), 1.0))
        }
        (Resource::Account, m) => Err(not_allowed(&m, "the account")),

        (Resource::Databases, Method::GET) => {
            let list = store::list_databases(db, a).await?;
            let items: Vec<Value> = list.iter().map(store::database_json).collect();
            Ok(Reply::json(StatusCode::OK, json!({ "_rid": "", "Databases": items, "_count": list.len() }), 1.0))
        }
        (Resource::Databases, Method::POST) => {
            let b = json_body(body)?;
            let id = b.get("id").and_then(Value::as_str).ok_or_else(|| EngineError::BadRequest("database body needs a string \"id\"".into()))?;
            let (manual, autoscale) = offer_throughput(headers)?;
            let d = store::create_database(db, a, id, autoscale.or(manual)).await?;
            Ok(Reply::json(StatusCode::CREATED, store::database_json(&d), 5.0))
        }
        (Resource::Databases, m) => Err(not_allowed(&m, "the database feed")),

        (Resource::Database(d), Method::GET) => {
            let row = store::get_database(db, a, &d).await?;
            Ok(Reply::json(StatusCode::OK, store::database_json(&row), 1.0))
        }
        (Resource::Database(d), Method::DELETE) => {
            store::delete_database(db, a, &d).await?;
            Ok(Reply::empty(StatusCode::NO_CONTENT, 5.0))
        }
        (Resource::Database(_), m) => Err(not_allowed(&m, "a database")),

        (Resource::Containers(d), Method::GET) => {
            let (dbm, list) = store::list_containers(db, a, &d).await?;
            let items: Vec<Value> = list.iter().map(|c| store::container_json(&dbm, c)).collect();
            Ok(Reply::json(StatusCode::OK, json!({ "_rid": dbm.rid, "DocumentCollections": items, "_count": list.len() }), 1.0))
        }
        (Resource::Containers(d), Method::POST) => {
            let mut spec = ContainerSpec::from_body(&json_body(body)?)?;
            let (manual, autoscale) = offer_throughput(headers)?;
            spec.throughput = manual;
            spec.autoscale_max = autoscale;
            let (dbm, c) = store::create_container(db, a, &d, spec).await?;
            Ok(Reply::json(StatusCode::CREATED, store::container_json(&dbm, &c), 5.0))
        }
        (Resource::Containers(_), m) => Err(not_allowed(&m, "the container feed")),

        (Resource::Container(d, c), Method::GET) => {
            let (dbm, coll) = store::get_container(db, a, &d, &c).await?;
            Ok(Reply::json(StatusCode::OK, store::container_json(&dbm, &coll), 1.0))
        }
        (Resource::Container(d, c), Method::PUT) => {
            let spec = ContainerSpec::from_body(&json_body(body)?)?;
            if spec.id != c {
                return Err(EngineError::BadRequest(format!("the body's id {:?} does not match the link's {c:?}", spec.id)).into());
            }
            let (dbm, coll) = store::replace_container(db, a, &d, spec).await?;
            Ok(Reply::json(StatusCode::OK, store::container_json(&dbm, &coll), 5.0))
        }
        (Resource::Container(d, c), Method::DELETE) => {
            store::delete_container(db, a, &d, &c).await?;
            Ok(Reply::empty(StatusCode::NO_CONTENT, 5.0))
        }
        (Resource::Container(..), m) => Err(not_allowed(&m, "a container")),

        (Resource::PartitionKeyRanges(d, c), Method::GET) => {
            let (_, coll) = store::get_container(db, a, &d, &c).await?;
            Ok(Reply::json(StatusCode::OK, json!({
                "_rid": coll.rid,
                "PartitionKeyRanges": [{
                    "_rid": coll.rid, "id": "0", "_etag": coll.etag, "minInclusive": "", "maxExclusive": "FF",
                    "ridPrefix": 0, "_self": format!("dbs/{}/colls/{}/pkranges/0/", d, c), "throughputFraction": 1,
                    "status": "online", "parents": [], "_ts": coll.ts
                }],
                "_count": 1
            }), 1.0))
        }
        (Resource::PartitionKeyRanges(..), m) => Err(not_allowed(&m, "partition key ranges")),

        (Resource::Items(d, c), Method::POST) => {
            if flag(headers, "x-ms-cosmos-is-query-plan-request") {
                return query_plan(body);
            }
            if flag(headers, "x-ms-documentdb-isquery") {
                return run_query(db, a, &d, &c, headers, body).await;
            }
            let mode = if flag(headers, "x-ms-documentdb-is-upsert") { WriteMode::Upsert } else { WriteMode::Create };
            let doc = json_body(body)?;
            let pk = header(headers, "x-ms-documentdb-partitionkey");
            let (stored, created) = store::write_item(db, a, &d, &c, pk, doc, mode).await?;
            let out = stored.to_json();
            let status = if created { StatusCode::CREATED } else { StatusCode::OK };
            let charge = write_charge(stored.item.body.len());
            Ok(Reply::json(status, out, charge).header("etag", &stored.item.etag))
        }
        (Resource::Items(d, c), Method::GET) => {
            let limit = header(headers, "x-ms-max-item-count")
                .and_then(|v| v.parse::<i64>().ok())
                .filter(|n| *n > 0)
                .map_or(DEFAULT_PAGE, |n| (n as u64).min(MAX_PAGE));
            let after = match header(headers, "x-ms-continuation") {
                Some(t) => Some(
                    serde_json::from_str::<(String, String)>(t)
                        .map_err(|_| EngineError::BadRequest(format!("x-ms-continuation {t:?} is not a token this endpoint issued")))?,
                ),
                None => None,
            };
            let (dbm, coll, items) = store::list_items(db, a, &d, &c, after, limit + 1).await?;
            let more = items.len() as u64 > limit;
            let page: Vec<_> = items.into_iter().take(limit as usize).collect();
            let docs: Vec<Value> = page.iter().map(|i| store::item_json(&dbm, &coll, i)).collect();
            let bytes: usize = page.iter().map(|i| i.body.len()).sum();
            let mut reply = Reply::json(StatusCode::OK, json!({ "_rid": coll.rid, "Documents": docs, "_count": page.len() }), read_charge(bytes));
            if more && let Some(last) = page.last() {
                reply = reply.header("x-ms-continuation", &serde_json::to_string(&(&last.pk, &last.id)).unwrap_or_default());
            }
            Ok(reply)
        }
        (Resource::Items(..), m) => Err(not_allowed(&m, "the item feed")),

        (Resource::Item(d, c, i), Method::GET) => {
            let stored = store::read_item(db, a, &d, &c, partition_key_header(headers)?, &i).await?;
            if header(headers, "if-none-match") == Some(stored.item.etag.as_str()) {
                return Ok(Reply::empty(StatusCode::NOT_MODIFIED, 1.0).header("etag", &stored.item.etag));
            }
            let charge = read_charge(stored.item.body.len());
            Ok(Reply::json(StatusCode::OK, stored.to_json(), charge).header("etag", &stored.item.etag))
        }
        (Resource::Item(d, c, i), Method::PUT) => {
            let doc = json_body(body)?;
            let stored = store::replace_item(db, a, &d, &c, partition_key_header(headers)?, &i, doc, header(headers, "if-match")).await?;
            let charge = write_charge(stored.item.body.len());
            Ok(Reply::json(StatusCode::OK, stored.to_json(), charge).header("etag", &stored.item.etag))
        }
        (Resource::Item(d, c, i), Method::PATCH) => {
            // Either a bare array of operations or {"operations": [...], "condition": "from c where …"}.
            let b = json_body(body)?;
            let ops = b.as_array().or_else(|| b.get("operations").and_then(Value::as_array)).ok_or_else(|| {
                EngineError::BadRequest("a patch body needs an \"operations\" array".into())
            })?;
            let condition = b.get("condition").and_then(Value::as_str);
            let stored = store::patch_item(db, a, &d, &c, partition_key_header(headers)?, &i, ops, condition, header(headers, "if-match")).await?;
            let charge = write_charge(stored.item.body.len());
            Ok(Reply::json(StatusCode::OK, stored.to_json(), charge).header("etag", &stored.item.etag))
        }
        (Resource::Item(d, c, i), Method::DELETE) => {
            store::delete_item(db, a, &d, &c, partition_key_header(headers)?, &i, header(headers, "if-match")).await?;
            Ok(Reply::empty(StatusCode::NO_CONTENT, 5.71))
        }
        (Resource::Item(..), m) => Err(not_allowed(&m, "an item")),
    }
}
