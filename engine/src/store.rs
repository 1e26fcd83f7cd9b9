//! Databases, containers and items of an account. Every write runs in one transaction that first
//! takes the account's next change-log number (see [`crate::changelog`]) and appends the change
//! before committing, so data and log never disagree.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use domain::resource::ResourceType;
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};
use serde_json::{Map, Value, json};

use crate::changelog::{self, Change, ChangeOp};
use crate::entities::{container, database, item};
use crate::error::EngineError;
use crate::limits::{MAX_ID_CHARS, MAX_ITEM_BYTES, MAX_ITEM_DEPTH, MAX_PARTITION_KEY_BYTES, MAX_THROUGHPUT, MIN_THROUGHPUT};
use crate::scan;
/// RU/s one physical partition serves; more throughput means more partitions.
const RUS_PER_PARTITION: i32 = 10_000;
const SYSTEM_PROPERTIES: [&str; 5] = ["_rid", "_self", "_etag", "_ts", "_attachments"];

/// Current time in Unix seconds, as `_ts`.
pub fn now_ts() -> i64 {
    chrono::Utc::now().timestamp()
}

fn new_rid() -> String {
    let mut b = [0u8; 8];
    rand::rng().fill_bytes(&mut b);
    // Cosmos DB rids are base64 with '/' replaced, so they are safe inside links.
    B64.encode(b).replace('/', "-")
}

fn new_etag() -> String {
    format!("\"{}\"", uuid::Uuid::new_v4())
}

/// Begins a transaction that will write. On SQLite it takes the write lock at `BEGIN`
/// (`IMMEDIATE`), so a transaction that reads before it writes cannot fail with "database is
/// locked" because another connection wrote meanwhile; elsewhere it is a plain transaction.
///
/// # Errors
/// Database errors.
pub async fn begin_write(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    db.begin_with_options(sea_orm::TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..sea_orm::TransactionOptions::default()
    })
    .await
}

/// Checks a database, container or item id against Cosmos DB's rules.
///
/// # Errors
/// [`EngineError::BadRequest`] naming the rule.
pub fn check_id(kind: &str, id: &str) -> Result<(), EngineError> {
    if id.is_empty() || id.chars().count() > MAX_ID_CHARS {
        return Err(EngineError::BadRequest(format!("{kind} id must be 1 to {MAX_ID_CHARS} characters long")));
    }
    if let Some(c) = id.chars().find(|c| matches!(c, '/' | '\\' | '?' | '#')) {
        return Err(EngineError::BadRequest(format!("{kind} id {id:?} must not contain {c:?}")));
    }
    if id.ends_with(' ') {
        return Err(EngineError::BadRequest(format!("{kind} id {id:?} must not end with a space")));
    }
    Ok(())
}

// ---------------------------------------------------------------- databases

/// Creates a database.
///
/// # Errors
/// 400 for a bad id, 409 if it exists.
pub async fn create_database(
    db: &DatabaseConnection,
    account_id: &str,
    id: &str,
    throughput: Option<i32>,
) -> Result<database::Model, EngineError> {
    create_database_as(db, account_id, id, throughput, None).await
}

/// [`create_database`] with a chosen resource id: a restore gives what it creates ids derived
/// from its job, so that it can later tell its own resources from ones somebody made since.
///
/// # Errors
/// As [`create_database`].
pub async fn create_database_as(
    db: &DatabaseConnection,
    account_id: &str,
    id: &str,
    throughput: Option<i32>,
    rid: Option<String>,
) -> Result<database::Model, EngineError> {
    check_id("database", id)?;
    check_throughput(throughput)?;
    let (txn, seq) = changelog::begin(db, account_id).await?;
    if find_database(&txn, account_id, id).await?.is_some() {
        return Err(EngineError::Conflict(format!("database {id:?} already exists")));
    }
    let row = database::ActiveModel {
        rid: Set(rid.unwrap_or_else(new_rid)),
        account_id: Set(account_id.to_owned()),
        id: Set(id.to_owned()),
        throughput: Set(throughput),
        ts: Set(now_ts()),
        etag: Set(new_etag()),
    }
    .insert(&txn)
    .await?;
    let change = Change {
        op: ChangeOp::Create,
        resource_type: ResourceType::Database,
        database_id: id.to_owned(),
        container_id: String::new(),
        pk: None,
        item_id: None,
        body: Some(database_log_body(&row).to_string()),
    };
    changelog::commit(txn, account_id, seq, change).await?;
    Ok(row)
}

async fn find_database(c: &impl ConnectionTrait, account_id: &str, id: &str) -> Result<Option<database::Model>, EngineError> {
    Ok(database::Entity::find().filter(database::Column::AccountId.eq(account_id)).filter(database::Column::Id.eq(id)).one(c).await?)
}

/// A database by id.
///
/// # Errors
/// 404 if there is none.
pub async fn get_database(c: &impl ConnectionTrait, account_id: &str, id: &str) -> Result<database::Model, EngineError> {
    find_database(c, account_id, id).await?.ok_or_else(|| EngineError::NotFound(format!("database {id:?} does not exist")))
}

/// The account's databases, by id.
///
/// # Errors
/// Database errors.
pub async fn list_databases(c: &impl ConnectionTrait, account_id: &str) -> Result<Vec<database::Model>, EngineError> {
    Ok(database::Entity::find().filter(database::Column::AccountId.eq(account_id)).order_by_asc(database::Column::Id).all(c).await?)
}

/// Deletes a database with its containers and items (one change-log entry: the tombstone
/// implies its children).
///
/// # Errors
/// 404 if there is none.
pub async fn delete_database(db: &DatabaseConnection, account_id: &str, id: &str) -> Result<(), EngineError> {
    delete_database_if(db, account_id, id, None).await.map(|_| ())
}

/// Deletes database `id` only if its resource id is `rid` (when given); `Ok(false)` when it
/// does not exist or is another one of that name.
///
/// # Errors
/// 404 if there is none and no `rid` was given.
pub async fn delete_database_if(db: &DatabaseConnection, account_id: &str, id: &str, rid: Option<&str>) -> Result<bool, EngineError> {
    let (txn, seq) = changelog::begin(db, account_id).await?;
    let d = match (find_database(&txn, account_id, id).await?, rid) {
        (Some(d), Some(r)) if d.rid != r => return Ok(false),
        (Some(d), _) => d,
        (None, Some(_)) => return Ok(false),
        (None, None) => return Err(EngineError::NotFound(format!("database {id:?} does not exist"))),
    };
    let colls = container::Entity::find().filter(container::Column::DatabaseRid.eq(&d.rid)).all(&txn).await?;
    for c in &colls {
        item::Entity::delete_many().filter(item::Column::ContainerRid.eq(&c.rid)).exec(&txn).await?;
    }
    container::Entity::delete_many().filter(container::Column::DatabaseRid.eq(&d.rid)).exec(&txn).await?;
    database::Entity::delete_by_id(d.rid.clone()).exec(&txn).await?;
    let change = Change {
        op: ChangeOp::Delete,
        resource_type: ResourceType::Database,
        database_id: id.to_owned(),
        container_id: String::new(),
        pk: None,
        item_id: None,
        body: None,
    };
    changelog::commit(txn, account_id, seq, change).await?;
    Ok(true)
}

/// The database as Cosmos DB returns it.
pub fn database_json(d: &database::Model) -> Value {
    json!({
        "id": d.id,
        "_rid": d.rid,
        "_self": format!("dbs/{}/", d.rid),
        "_etag": d.etag,
        "_colls": "colls/",
        "_users": "users/",
        "_ts": d.ts,
    })
}

/// What the change log keeps of a database: its Cosmos body plus the shared throughput a
/// restore must bring back.
pub fn database_log_body(d: &database::Model) -> Value {
    let mut v = database_json(d);
    v["throughput"] = json!(d.throughput);
    v
}

fn check_throughput(t: Option<i32>) -> Result<(), EngineError> {
    match t {
        Some(v) if !(MIN_THROUGHPUT..=MAX_THROUGHPUT).contains(&v) => {
            Err(EngineError::BadRequest(format!("throughput must be {MIN_THROUGHPUT} to {MAX_THROUGHPUT} RU/s (got {v})")))
        }
        Some(v) if v % 100 != 0 => Err(EngineError::BadRequest(format!("throughput must be a multiple of 100 RU/s (got {v})"))),
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------- containers

/// What a container is created or replaced with.
#[derive(Debug, Clone)]
pub struct ContainerSpec {
    pub id: String,
    /// `{"paths": ["/tenantId"], "kind": "Hash", …}`.
    pub partition_key: Value,
    pub throughput: Option<i32>,
    pub autoscale_max: Option<i32>,
    pub default_ttl: Option<i32>,
    pub indexing_policy: Option<Value>,
    pub unique_key_policy: Option<Value>,
    /// The resource id to give it (a restore's own, see [`create_database_as`]); fresh when `None`.
    pub rid: Option<String>,
}

impl ContainerSpec {
    /// Reads a container body as the REST API and SDKs send it.
    ///
    /// # Errors
    /// 400 naming the missing or malformed field.
    pub fn from_body(body: &Value) -> Result<Self, EngineError> {
        let id =
            body.get("id").and_then(Value::as_str).ok_or_else(|| EngineError::BadRequest("container body needs a string \"id\"".into()))?;
        let partition_key = body
            .get("partitionKey")
            .cloned()
            .ok_or_else(|| EngineError::BadRequest("container body needs a \"partitionKey\" with \"paths\"".into()))?;
        let paths = partition_key
            .get("paths")
            .and_then(Value::as_array)
            .ok_or_else(|| EngineError::BadRequest("partitionKey.paths must be an array".into()))?;
        if paths.is_empty() || paths.len() > 3 || !paths.iter().all(|p| p.as_str().is_some_and(|p| p.starts_with('/') && p.len() > 1)) {
            return Err(EngineError::BadRequest("partitionKey.paths must hold 1 to 3 paths like \"/tenantId\"".into()));
        }
        let default_ttl = match body.get("defaultTtl") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_i64() {
                Some(t) if t == -1 || (t > 0 && t <= i64::from(i32::MAX)) => i32::try_from(t).ok(),
                _ => return Err(EngineError::BadRequest(format!("defaultTtl must be -1 or a positive number of seconds (got {v})"))),
            },
        };
        Ok(Self {
            id: id.to_owned(),
            partition_key,
            throughput: None,
            autoscale_max: None,
            default_ttl,
            indexing_policy: body.get("indexingPolicy").cloned(),
            unique_key_policy: body.get("uniqueKeyPolicy").cloned(),
            rid: None,
        })
    }
}

fn default_indexing_policy() -> Value {
    json!({
        "indexingMode": "consistent",
        "automatic": true,
        "includedPaths": [{ "path": "/*" }],
        "excludedPaths": [{ "path": "/\"_etag\"/?" }]
    })
}

/// Creates a container in database `db_id`.
///
/// # Errors
/// 400 for bad settings, 404 without the database, 409 if the container exists.
pub async fn create_container(
    db: &DatabaseConnection,
    account_id: &str,
    db_id: &str,
    spec: ContainerSpec,
) -> Result<(database::Model, container::Model), EngineError> {
    check_id("container", &spec.id)?;
    check_throughput(spec.throughput)?;
    if let Some(a) = spec.autoscale_max
        && (!(1000..=MAX_THROUGHPUT).contains(&a) || a % 1000 != 0)
    {
        return Err(EngineError::BadRequest(format!(
            "autoscale maximum must be a multiple of 1000 RU/s from 1000 to {MAX_THROUGHPUT} (got {a})"
        )));
    }
    let (txn, seq) = changelog::begin(db, account_id).await?;
    let d = get_database(&txn, account_id, db_id).await?;
    if find_container(&txn, &d.rid, &spec.id).await?.is_some() {
        return Err(EngineError::Conflict(format!("container {:?} already exists in database {db_id:?}", spec.id)));
    }
    let ru = spec.autoscale_max.or(spec.throughput).or(d.throughput).unwrap_or(400);
    let row = container::ActiveModel {
        rid: Set(spec.rid.clone().unwrap_or_else(new_rid)),
        account_id: Set(account_id.to_owned()),
        database_rid: Set(d.rid.clone()),
        id: Set(spec.id.clone()),
        partition_key: Set(spec.partition_key.to_string()),
        throughput: Set(if d.throughput.is_some() && spec.throughput.is_none() && spec.autoscale_max.is_none() {
            None
        } else {
            spec.throughput.or(if spec.autoscale_max.is_none() { Some(400) } else { None })
        }),
        autoscale_max: Set(spec.autoscale_max),
        physical_partitions: Set(((ru + RUS_PER_PARTITION - 1) / RUS_PER_PARTITION).max(1)),
        default_ttl: Set(spec.default_ttl),
        indexing_policy: Set(spec.indexing_policy.unwrap_or_else(default_indexing_policy).to_string()),
        unique_key_policy: Set(spec.unique_key_policy.unwrap_or_else(|| json!({"uniqueKeys": []})).to_string()),
        ts: Set(now_ts()),
        etag: Set(new_etag()),
    }
    .insert(&txn)
    .await?;
    let change = Change {
        op: ChangeOp::Create,
        resource_type: ResourceType::Container,
        database_id: db_id.to_owned(),
        container_id: row.id.clone(),
        pk: None,
        item_id: None,
        body: Some(container_log_body(&d, &row).to_string()),
    };
    changelog::commit(txn, account_id, seq, change).await?;
    Ok((d, row))
}

async fn find_container(c: &impl ConnectionTrait, db_rid: &str, id: &str) -> Result<Option<container::Model>, EngineError> {
    Ok(container::Entity::find().filter(container::Column::DatabaseRid.eq(db_rid)).filter(container::Column::Id.eq(id)).one(c).await?)
}

/// A container and its database.
///
/// # Errors
/// 404 naming whichever is missing.
pub async fn get_container(
    c: &impl ConnectionTrait,
    account_id: &str,
    db_id: &str,
    coll_id: &str,
) -> Result<(database::Model, container::Model), EngineError> {
    // Every item operation — read, write, query, feed — starts by finding its container.
    crate::activity::note();
    let d = get_database(c, account_id, db_id).await?;
    let coll = find_container(c, &d.rid, coll_id)
        .await?
        .ok_or_else(|| EngineError::NotFound(format!("container {coll_id:?} does not exist in database {db_id:?}")))?;
    Ok((d, coll))
}

/// The containers of a database, by id.
///
/// # Errors
/// 404 without the database.
pub async fn list_containers(
    c: &impl ConnectionTrait,
    account_id: &str,
    db_id: &str,
) -> Result<(database::Model, Vec<container::Model>), EngineError> {
    let d = get_database(c, account_id, db_id).await?;
    let list =
        container::Entity::find().filter(container::Column::DatabaseRid.eq(&d.rid)).order_by_asc(container::Column::Id).all(c).await?;
    Ok((d, list))
}

/// Deletes a container and its items.
///
/// # Errors
/// 404 if it does not exist.
pub async fn delete_container(db: &DatabaseConnection, account_id: &str, db_id: &str, coll_id: &str) -> Result<(), EngineError> {
    delete_container_if(db, account_id, db_id, coll_id, None).await.map(|_| ())
}

/// Deletes the container only if its resource id is `rid` (when given); `Ok(false)` when it
/// does not exist or is another one of that name.
///
/// # Errors
/// 404 if there is none and no `rid` was given.
pub async fn delete_container_if(
    db: &DatabaseConnection,
    account_id: &str,
    db_id: &str,
    coll_id: &str,
    rid: Option<&str>,
) -> Result<bool, EngineError> {
    let (txn, seq) = changelog::begin(db, account_id).await?;
    let coll = match (get_container(&txn, account_id, db_id, coll_id).await, rid) {
        (Ok((_, c)), Some(r)) if c.rid != r => return Ok(false),
        (Ok((_, c)), _) => c,
        (Err(EngineError::NotFound(_)), Some(_)) => return Ok(false),
        (Err(e), _) => return Err(e),
    };
    item::Entity::delete_many().filter(item::Column::ContainerRid.eq(&coll.rid)).exec(&txn).await?;
    container::Entity::delete_by_id(coll.rid.clone()).exec(&txn).await?;
    let change = Change {
        op: ChangeOp::Delete,
        resource_type: ResourceType::Container,
        database_id: db_id.to_owned(),
        container_id: coll_id.to_owned(),
        pk: None,
        item_id: None,
        body: None,
    };
    changelog::commit(txn, account_id, seq, change).await?;
    Ok(true)
}

/// Replaces a container's settings (TTL, indexing policy). The partition key cannot change.
///
/// # Errors
/// 400 for a changed partition key, 404 if it does not exist.
pub async fn replace_container(
    db: &DatabaseConnection,
    account_id: &str,
    db_id: &str,
    spec: ContainerSpec,
) -> Result<(database::Model, container::Model), EngineError> {
    let (txn, seq) = changelog::begin(db, account_id).await?;
    let (d, coll) = get_container(&txn, account_id, db_id, &spec.id).await?;
    let old_pk: Value = serde_json::from_str(&coll.partition_key).unwrap_or(Value::Null);
    if old_pk.get("paths") != spec.partition_key.get("paths") {
        return Err(EngineError::BadRequest("the partition key of a container cannot be changed".into()));
    }
    let mut active: container::ActiveModel = coll.into();
    active.default_ttl = Set(spec.default_ttl);
    if let Some(ip) = spec.indexing_policy {
        active.indexing_policy = Set(ip.to_string());
    }
    active.ts = Set(now_ts());
    active.etag = Set(new_etag());
    let row = active.update(&txn).await?;
    let change = Change {
        op: ChangeOp::Replace,
        resource_type: ResourceType::Container,
        database_id: db_id.to_owned(),
        container_id: row.id.clone(),
        pk: None,
        item_id: None,
        body: Some(container_log_body(&d, &row).to_string()),
    };
    changelog::commit(txn, account_id, seq, change).await?;
    Ok((d, row))
}

/// The container as Cosmos DB returns it.
pub fn container_json(d: &database::Model, c: &container::Model) -> Value {
    let mut v = json!({
        "id": c.id,
        "indexingPolicy": serde_json::from_str::<Value>(&c.indexing_policy).unwrap_or(Value::Null),
        "partitionKey": serde_json::from_str::<Value>(&c.partition_key).unwrap_or(Value::Null),
        "uniqueKeyPolicy": serde_json::from_str::<Value>(&c.unique_key_policy).unwrap_or(Value::Null),
        "conflictResolutionPolicy": { "mode": "LastWriterWins", "conflictResolutionPath": "/_ts", "conflictResolutionProcedure": "" },
        "geospatialConfig": { "type": "Geography" },
        "_rid": c.rid,
        "_ts": c.ts,
        "_self": format!("dbs/{}/colls/{}/", d.rid, c.rid),
        "_etag": c.etag,
        "_docs": "docs/",
        "_sprocs": "sprocs/",
        "_triggers": "triggers/",
        "_udfs": "udfs/",
        "_conflicts": "conflicts/",
    });
    if let Some(ttl) = c.default_ttl {
        v["defaultTtl"] = json!(ttl);
    }
    v
}

/// What the change log keeps of a container: its Cosmos body plus the throughput and partition
/// layout a restore must bring back.
pub fn container_log_body(d: &database::Model, c: &container::Model) -> Value {
    let mut v = container_json(d, c);
    v["throughput"] = json!(c.throughput);
    v["autoscaleMax"] = json!(c.autoscale_max);
    v["physicalPartitions"] = json!(c.physical_partitions);
    v
}

/// The partition key paths of a container.
pub fn partition_key_paths(c: &container::Model) -> Vec<String> {
    serde_json::from_str::<Value>(&c.partition_key)
        .ok()
        .and_then(|v| v.get("paths").and_then(Value::as_array).cloned())
        .map(|a| a.iter().filter_map(|p| p.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

// ---------------------------------------------------------------- items

/// The partition key value of `doc` under the container's paths, as canonical JSON (an array,
/// as the `x-ms-documentdb-partitionkey` header carries it; a missing value is `{}`).
///
/// # Errors
/// 400 when the value is longer than [`MAX_PARTITION_KEY_BYTES`].
pub fn partition_key_of(c: &container::Model, doc: &Value) -> Result<String, EngineError> {
    match doc {
        Value::Object(fields) => partition_key_in(c, fields),
        _ => partition_key_in(c, &Map::new()),
    }
}

/// [`partition_key_of`] for a document's fields.
fn partition_key_in(c: &container::Model, fields: &Map<String, Value>) -> Result<String, EngineError> {
    let values: Vec<Value> = partition_key_paths(c)
        .iter()
        .map(|path| {
            let mut segs = path.trim_start_matches('/').split('/');
            let top = segs.next().and_then(|seg| fields.get(seg));
            top.and_then(|v| segs.try_fold(v, |v, seg| v.get(seg))).cloned().unwrap_or_else(|| json!({}))
        })
        .collect();
    checked_partition_key(Value::Array(values).to_string())
}

fn checked_partition_key(pk: String) -> Result<String, EngineError> {
    if pk.len() > MAX_PARTITION_KEY_BYTES {
        return Err(EngineError::BadRequest(format!(
            "the partition key value is {} bytes; the limit is {MAX_PARTITION_KEY_BYTES} bytes",
            pk.len()
        )));
    }
    Ok(pk)
}

/// Normalises an `x-ms-documentdb-partitionkey` header to the canonical form.
///
/// # Errors
/// 400 if it is not a JSON array, or is longer than [`MAX_PARTITION_KEY_BYTES`].
pub fn canonical_partition_key(header: &str) -> Result<String, EngineError> {
    match serde_json::from_str::<Value>(header) {
        Ok(Value::Array(a)) => checked_partition_key(Value::Array(a).to_string()),
        _ => Err(EngineError::BadRequest(format!(
            "the partition key header must be a JSON array such as [\"value\"] (got {})",
            crate::error::excerpt(header)
        ))),
    }
}

/// Whether an item is being created or upserted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    Create,
    Upsert,
}

/// An item with its container and database, ready to render.
#[derive(Debug, Clone)]
pub struct StoredItem {
    pub database: database::Model,
    pub container: container::Model,
    pub item: item::Model,
}

impl StoredItem {
    /// The item as Cosmos DB returns it: the user's fields plus system properties.
    ///
    /// # Errors
    /// 500 if the stored body is unreadable (see [`item_json`]).
    pub fn to_json(&self) -> Result<Value, EngineError> {
        item_json(&self.database, &self.container, &self.item)
    }

    /// [`Self::to_json`] as text, spliced from the stored text (which every write path made).
    pub fn text(&self) -> String {
        item_text(&self.database, &self.container, &self.item.body, &self.item.rid, &self.item.etag, self.item.ts)
    }
}

/// The item as Cosmos DB returns it.
///
/// # Errors
/// [`EngineError::Corrupt`] if the stored body is not a JSON object: every write path checks
/// items before storing them, so this names damage done outside Rewind, never an empty item.
pub fn item_json(d: &database::Model, c: &container::Model, i: &item::Model) -> Result<Value, EngineError> {
    let mut o = match serde_json::from_str::<Value>(&i.body) {
        Ok(Value::Object(o)) => o,
        Ok(_) => return Err(corrupt(c, i, "is not a JSON object".into())),
        Err(e) => return Err(corrupt(c, i, format!("is not readable JSON ({e})"))),
    };
    o.insert("_rid".into(), json!(i.rid));
    o.insert("_self".into(), json!(format!("dbs/{}/colls/{}/docs/{}/", d.rid, c.rid, i.rid)));
    o.insert("_etag".into(), json!(i.etag));
    o.insert("_attachments".into(), json!("attachments/"));
    o.insert("_ts".into(), json!(i.ts));
    Ok(Value::Object(o))
}

fn corrupt(c: &container::Model, i: &item::Model, why: String) -> EngineError {
    EngineError::Corrupt(format!("stored item {:?} (partition {}) of container {:?} {why}", i.id, i.pk, c.id))
}

/// How deeply objects and arrays nest in `v` (a scalar is 0, `{}` is 1), without recursion.
fn depth(v: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(v, 1usize)];
    while let Some((v, d)) = stack.pop() {
        match v {
            Value::Object(o) => stack.extend(o.values().map(|c| (c, d + 1))),
            Value::Array(a) => stack.extend(a.iter().map(|c| (c, d + 1))),
            _ => continue,
        }
        deepest = deepest.max(d);
    }
    deepest
}

/// Checks a document and strips system properties; returns it with its id. Every write path
/// (create, upsert, replace, patch, restore) goes through here, so whatever is stored can be
/// read back, queried and restored.
fn prepare_doc(doc: Value) -> Result<PreparedDoc, EngineError> {
    let Value::Object(mut o) = doc else {
        return Err(EngineError::BadRequest("an item must be a JSON object".into()));
    };
    for p in SYSTEM_PROPERTIES {
        o.remove(p);
    }
    let id = match o.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(EngineError::BadRequest(format!(
                "the item's \"id\" must be a string (got {})",
                crate::error::excerpt(&other.to_string())
            )));
        }
        None => return Err(EngineError::BadRequest("the item needs an \"id\"".into())),
    };
    check_id("item", &id)?;
    let text = serde_json::to_string(&o).map_err(|e| EngineError::BadRequest(format!("the item does not serialise: {e}")))?;
    let size = text.len();
    if size > MAX_ITEM_BYTES {
        return Err(EngineError::TooLarge(format!("the item is {size} bytes; the limit is {MAX_ITEM_BYTES}")));
    }
    let levels = o.values().map(depth).max().unwrap_or(0) + 1;
    if levels > MAX_ITEM_DEPTH {
        return Err(EngineError::BadRequest(format!(
            "the item nests objects and arrays {levels} levels deep; the limit is {MAX_ITEM_DEPTH}"
        )));
    }
    Ok(PreparedDoc { body: o, id, text })
}

/// An item checked for writing: its user fields (no system properties), id, and the fields as
/// stored (compact JSON, serialised once).
struct PreparedDoc {
    body: Map<String, Value>,
    id: String,
    text: String,
}

/// The item as read back, from its stored text: the system properties appended as
/// [`item_json`] appends them (the stored text holds none, so they come last), without parsing
/// and serialising the item again.
fn item_text(d: &database::Model, c: &container::Model, stored: &str, rid: &str, etag: &str, ts: i64) -> String {
    let quoted = |s: &str| Value::from(s).to_string();
    let open = stored.strip_suffix('}').unwrap_or(stored);
    let mut out = String::with_capacity(stored.len() + 160);
    out.push_str(open);
    if open.len() > 1 {
        out.push(',');
    }
    out.push_str(&format!(
        "\"_rid\":{},\"_self\":{},\"_etag\":{},\"_attachments\":\"attachments/\",\"_ts\":{ts}}}",
        quoted(rid),
        quoted(&format!("dbs/{}/colls/{}/docs/{}/", d.rid, c.rid, rid)),
        quoted(etag)
    ));
    out
}

fn expires_at(c: &container::Model, doc: &Map<String, Value>, ts: i64) -> Option<i64> {
    let default = c.default_ttl?;
    let ttl = doc.get("ttl").and_then(Value::as_i64).unwrap_or(i64::from(default));
    (ttl > 0).then_some(ts + ttl)
}

async fn find_item(c: &impl ConnectionTrait, coll_rid: &str, pk: &str, id: &str) -> Result<Option<item::Model>, EngineError> {
    Ok(item::Entity::find_by_id((coll_rid.to_owned(), pk.to_owned(), id.to_owned())).filter(scan::live()).one(c).await?)
}

/// Creates (or upserts) an item. `pk_header` is checked against the document's own value.
///
/// # Errors
/// 400 for a malformed item or a mismatched partition key, 404 without the container, 409 if
/// an item with that id and partition key exists (create), 413 when too large.
pub async fn write_item(
    db: &DatabaseConnection,
    account_id: &str,
    db_id: &str,
    coll_id: &str,
    pk_header: Option<&str>,
    doc: Value,
    mode: WriteMode,
) -> Result<(StoredItem, bool), EngineError> {
    let PreparedDoc { body, id, text: body_text } = prepare_doc(doc)?;
    let (txn, seq) = changelog::begin(db, account_id).await?;
    let (d, coll) = get_container(&txn, account_id, db_id, coll_id).await?;
    let pk = partition_key_in(&coll, &body)?;
    if let Some(h) = pk_header
        && canonical_partition_key(h)? != pk
    {
        return Err(EngineError::BadRequest(format!("the partition key in the header ({h}) does not match the item's ({pk})")));
    }
    let existing = item::Entity::find_by_id((coll.rid.clone(), pk.clone(), id.clone())).one(&txn).await?;
    let now = now_ts();
    let is_live = existing.as_ref().is_some_and(|e| e.expires_at.is_none_or(|t| t > now));
    if is_live && mode == WriteMode::Create {
        return Err(EngineError::Conflict(format!("an item with id {id:?} already exists in this partition")));
    }
    let row = item::Model {
        container_rid: coll.rid.clone(),
        pk: pk.clone(),
        id: id.clone(),
        rid: existing.as_ref().filter(|_| is_live).map(|e| e.rid.clone()).unwrap_or_else(new_rid),
        body: body_text,
        ts: now,
        etag: new_etag(),
        expires_at: expires_at(&coll, &body, now),
    };
    let active: item::ActiveModel = row.clone().into();
    let saved = if existing.is_some() { active.reset_all().update(&txn).await? } else { item::ActiveModel::from(row).insert(&txn).await? };
    let stored = StoredItem { database: d, container: coll, item: saved };
    let change = Change {
        op: if mode == WriteMode::Upsert { ChangeOp::Upsert } else { ChangeOp::Create },
        resource_type: ResourceType::Item,
        database_id: db_id.to_owned(),
        container_id: coll_id.to_owned(),
        pk: Some(pk),
        item_id: Some(id),
        body: Some(stored.text()),
    };
    changelog::commit(txn, account_id, seq, change).await?;
    Ok((stored, !is_live))
}

/// Reads one live item.
///
/// # Errors
/// 404 for a missing container or item.
pub async fn read_item(
    c: &impl ConnectionTrait,
    account_id: &str,
    db_id: &str,
    coll_id: &str,
    pk_header: &str,
    id: &str,
) -> Result<StoredItem, EngineError> {
    let (d, coll) = get_container(c, account_id, db_id, coll_id).await?;
    let pk = canonical_partition_key(pk_header)?;
    let it = find_item(c, &coll.rid, &pk, id)
        .await?
        .ok_or_else(|| EngineError::NotFound(format!("item {id:?} does not exist in partition {pk}")))?;
    Ok(StoredItem { database: d, container: coll, item: it })
}

fn check_etag(current: &item::Model, if_match: Option<&str>) -> Result<(), EngineError> {
    match if_match {
        Some(e) if e != current.etag && e != "*" => {
            Err(EngineError::PreconditionFailed(format!("the item has changed: its etag is {} but the request expected {e}", current.etag)))
        }
        _ => Ok(()),
    }
}

/// Replaces an existing item (the id in the body must match the one in the link).
///
/// # Errors
/// 400, 404, 412 for a stale `If-Match`, 413.
#[allow(clippy::too_many_arguments)]
pub async fn replace_item(
    db: &DatabaseConnection,
    account_id: &str,
    db_id: &str,
    coll_id: &str,
    pk_header: &str,
    id: &str,
    doc: Value,
    if_match: Option<&str>,
) -> Result<StoredItem, EngineError> {
    let prepared = prepare_doc(doc)?;
    let body_id = &prepared.id;
    if body_id != id {
        return Err(EngineError::BadRequest(format!("the item's id {body_id:?} does not match the link's {id:?}")));
    }
    let pk = canonical_partition_key(pk_header)?;
    let (txn, seq) = changelog::begin(db, account_id).await?;
    let (d, coll) = get_container(&txn, account_id, db_id, coll_id).await?;
    if partition_key_in(&coll, &prepared.body)? != pk {
        return Err(EngineError::BadRequest("the partition key of an item cannot be changed by a replace".into()));
    }
    let current = find_item(&txn, &coll.rid, &pk, id)
        .await?
        .ok_or_else(|| EngineError::NotFound(format!("item {id:?} does not exist in partition {pk}")))?;
    check_etag(&current, if_match)?;
    let update = ItemUpdate { account_id, seq, db_id, coll_id, op: ChangeOp::Replace };
    update.finish(txn, d, coll, current, prepared).await
}

/// The shared end of replace and patch: store the new body, log it, commit.
struct ItemUpdate<'a> {
    account_id: &'a str,
    seq: i64,
    db_id: &'a str,
    coll_id: &'a str,
    op: ChangeOp,
}

impl ItemUpdate<'_> {
    async fn finish(
        self,
        txn: sea_orm::DatabaseTransaction,
        d: database::Model,
        coll: container::Model,
        current: item::Model,
        prepared: PreparedDoc,
    ) -> Result<StoredItem, EngineError> {
        let now = now_ts();
        let (pk, id) = (current.pk.clone(), current.id.clone());
        let mut active: item::ActiveModel = current.into();
        active.expires_at = Set(expires_at(&coll, &prepared.body, now));
        active.body = Set(prepared.text);
        active.ts = Set(now);
        active.etag = Set(new_etag());
        let saved = active.update(&txn).await?;
        let stored = StoredItem { database: d, container: coll, item: saved };
        let change = Change {
            op: self.op,
            resource_type: ResourceType::Item,
            database_id: self.db_id.to_owned(),
            container_id: self.coll_id.to_owned(),
            pk: Some(pk),
            item_id: Some(id),
            body: Some(stored.text()),
        };
        changelog::commit(txn, self.account_id, self.seq, change).await?;
        Ok(stored)
    }
}

/// Deletes an item.
///
/// # Errors
/// 404, 412 for a stale `If-Match`.
pub async fn delete_item(
    db: &DatabaseConnection,
    account_id: &str,
    db_id: &str,
    coll_id: &str,
    pk_header: &str,
    id: &str,
    if_match: Option<&str>,
) -> Result<(), EngineError> {
    let pk = canonical_partition_key(pk_header)?;
    let (txn, seq) = changelog::begin(db, account_id).await?;
    let (_, coll) = get_container(&txn, account_id, db_id, coll_id).await?;
    let current = find_item(&txn, &coll.rid, &pk, id)
        .await?
        .ok_or_else(|| EngineError::NotFound(format!("item {id:?} does not exist in partition {pk}")))?;
    check_etag(&current, if_match)?;
    item::Entity::delete_by_id((coll.rid.clone(), pk.clone(), id.to_owned())).exec(&txn).await?;
    let change = Change {
        op: ChangeOp::Delete,
        resource_type: ResourceType::Item,
        database_id: db_id.to_owned(),
        container_id: coll_id.to_owned(),
        pk: Some(pk),
        item_id: Some(id.to_owned()),
        body: None,
    };
    changelog::commit(txn, account_id, seq, change).await?;
    Ok(())
}

/// A page of live items in (partition key, id) order, after the given position: at most
/// `max_rows` rows and, beyond the first, at most `max_bytes` of item bodies; with whether more
/// follow.
///
/// # Errors
/// 404 without the container.
#[allow(clippy::too_many_arguments)]
pub async fn list_items(
    c: &impl ConnectionTrait,
    account_id: &str,
    db_id: &str,
    coll_id: &str,
    after: Option<scan::Position>,
    max_rows: u64,
    max_bytes: usize,
) -> Result<(database::Model, container::Model, scan::Batch), EngineError> {
    let (d, coll) = get_container(c, account_id, db_id, coll_id).await?;
    let range = scan::Range { container_rid: &coll.rid, partition_key: None, after: after.as_ref() };
    let batch = scan::batch(c, &range, max_rows, max_bytes).await?;
    Ok((d, coll, batch))
}

/// How many rows the container holds (expired but not yet purged ones included): what a
/// restore checks its writes against.
///
/// # Errors
/// 404 without the container.
pub async fn count_items(c: &impl ConnectionTrait, account_id: &str, db_id: &str, coll_id: &str) -> Result<u64, EngineError> {
    use sea_orm::PaginatorTrait;
    let (_, coll) = get_container(c, account_id, db_id, coll_id).await?;
    Ok(item::Entity::find().filter(item::Column::ContainerRid.eq(&coll.rid)).count(c).await?)
}

/// Applies patch operations to an item (all or nothing), optionally only if `condition` (a
/// `FROM c WHERE …` filter) holds for the current item.
///
/// # Errors
/// 400 for bad operations, 404, 412 for a stale `If-Match` or a false condition.
#[allow(clippy::too_many_arguments)]
pub async fn patch_item(
    db: &DatabaseConnection,
    account_id: &str,
    db_id: &str,
    coll_id: &str,
    pk_header: &str,
    id: &str,
    operations: &[Value],
    condition: Option<&str>,
    if_match: Option<&str>,
) -> Result<StoredItem, EngineError> {
    let pk = canonical_partition_key(pk_header)?;
    let (txn, seq) = changelog::begin(db, account_id).await?;
    let (d, coll) = get_container(&txn, account_id, db_id, coll_id).await?;
    let current = find_item(&txn, &coll.rid, &pk, id)
        .await?
        .ok_or_else(|| EngineError::NotFound(format!("item {id:?} does not exist in partition {pk}")))?;
    check_etag(&current, if_match)?;
    let doc = item_json(&d, &coll, &current)?;
    if let Some(cond) = condition {
        let q = crate::query::parse(&format!("SELECT * {cond}"), &[])?;
        if !crate::query::Cx::new(&q).keeps(&doc)? {
            return Err(EngineError::PreconditionFailed(format!("the patch condition {} is not met", crate::error::excerpt(cond))));
        }
    }
    let mut body = doc;
    if let Some(o) = body.as_object_mut() {
        o.retain(|k, _| !SYSTEM_PROPERTIES.contains(&k.as_str()));
    }
    let patched = crate::patch::apply(&body, operations, &partition_key_paths(&coll))?;
    let prepared = prepare_doc(patched)?;
    let update = ItemUpdate { account_id, seq, db_id, coll_id, op: ChangeOp::Patch };
    update.finish(txn, d, coll, current, prepared).await
}

/// Removes up to `limit` items whose TTL ran out by `now` (Unix seconds), each with an `expire`
/// change-log entry, and returns how many it removed. Expired items already vanish from reads;
/// this reclaims their space and records their end for backups.
///
/// # Errors
/// Database errors.
pub async fn purge_expired(db: &DatabaseConnection, now: i64, limit: u64) -> Result<usize, EngineError> {
    let expired = item::Entity::find().filter(item::Column::ExpiresAt.lte(now)).limit(limit).all(db).await?;
    let mut purged = 0;
    for it in expired {
        let Some(coll) = container::Entity::find_by_id(it.container_rid.clone()).one(db).await? else {
            continue;
        };
        let Some(d) = database::Entity::find_by_id(coll.database_rid.clone()).one(db).await? else {
            continue;
        };
        let (txn, seq) = changelog::begin(db, &coll.account_id).await?;
        let gone = item::Entity::delete_many()
            .filter(item::Column::ContainerRid.eq(&it.container_rid))
            .filter(item::Column::Pk.eq(&it.pk))
            .filter(item::Column::Id.eq(&it.id))
            .filter(item::Column::ExpiresAt.lte(now))
            .exec(&txn)
            .await?;
        if gone.rows_affected == 0 {
            // Rewritten since we looked: it lives on; drop the sequence number with the transaction.
            txn.rollback().await?;
            continue;
        }
        let change = Change {
            op: ChangeOp::Expire,
            resource_type: ResourceType::Item,
            database_id: d.id.clone(),
            container_id: coll.id.clone(),
            pk: Some(it.pk.clone()),
            item_id: Some(it.id.clone()),
            body: None,
        };
        changelog::commit(txn, &coll.account_id, seq, change).await?;
        purged += 1;
    }
    Ok(purged)
}

// ---------------------------------------------------------------- restore

/// Whether imported items get change-log entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportLog {
    /// Each item is recorded as a `create` in the account's change log and shipped like any
    /// write (an in-place restore: the account takes other writes meanwhile).
    Logged,
    /// No log entries: the caller records the items in backup storage itself (a restore into a
    /// new account seeds its backup with a snapshot of what it wrote). Only for an account that
    /// takes no other writes until the import is done.
    Unlogged,
}

/// An imported item as stored: what its change-log entry holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub pk: String,
    pub id: String,
    /// The item with its system properties, as JSON.
    pub json: String,
}

/// Restored items checked and made ready to write: the CPU half of an import, which a restore
/// runs for one batch while the database writes the one before.
#[derive(Debug)]
pub struct PreparedImport {
    account_id: String,
    database_id: String,
    container_id: String,
    container_rid: String,
    rows: Vec<item::Model>,
    /// The items as they will be stored, in the order given.
    pub items: Vec<Imported>,
}

/// Prepares restored items for container `coll` of database `d`. Documents are whole items as a
/// backup holds them; system properties are issued afresh, user fields kept as they are, and
/// every check of a write applies.
///
/// # Errors
/// 400 for a malformed document.
pub fn prepare_import(d: &database::Model, coll: &container::Model, docs: Vec<Value>) -> Result<PreparedImport, EngineError> {
    let now = now_ts();
    let mut rows = Vec::with_capacity(docs.len());
    let mut items = Vec::with_capacity(docs.len());
    for doc in docs {
        let PreparedDoc { body, id, text } = prepare_doc(doc)?;
        let pk = partition_key_in(coll, &body)?;
        let (rid, etag) = (new_rid(), new_etag());
        let expires = expires_at(coll, &body, now);
        items.push(Imported { pk: pk.clone(), id: id.clone(), json: item_text(d, coll, &text, &rid, &etag, now) });
        rows.push(item::Model { container_rid: coll.rid.clone(), pk, id, rid, body: text, ts: now, etag, expires_at: expires });
    }
    Ok(PreparedImport {
        account_id: coll.account_id.clone(),
        database_id: d.id.clone(),
        container_id: coll.id.clone(),
        container_rid: coll.rid.clone(),
        rows,
        items,
    })
}

/// How many items one [`write_import`] into `db` logged as `log` should carry at most: a
/// thousand through a multi-row `INSERT` (its parameters grow with the rows), more through
/// PostgreSQL's `COPY`, where each batch costs a round trip and a commit whatever its rows
/// (callers bound a batch's bytes as well).
pub fn import_batch_items(db: &DatabaseConnection, log: ImportLog) -> usize {
    if uses_copy(db, log) { 8_000 } else { 1_000 }
}

/// Whether [`write_import`] writes through `COPY`.
fn uses_copy(db: &DatabaseConnection, log: ImportLog) -> bool {
    log == ImportLog::Unlogged && db.get_database_backend() == DbBackend::Postgres
}

/// Writes prepared items in one transaction, logged as `log` says (unlogged on PostgreSQL with
/// `COPY`, see [`crate::bulk`]); returns how many were
/// written. The container must not hold items with the same ids (restores write into new
/// containers).
///
/// # Errors
/// 404 if the container is gone, database errors (a duplicate id).
pub async fn write_import(db: &DatabaseConnection, prepared: PreparedImport, log: ImportLog) -> Result<usize, EngineError> {
    let PreparedImport { account_id, database_id, container_id, container_rid, rows, items } = prepared;
    let n = rows.len();
    if n == 0 {
        return Ok(0);
    }
    let gone = || EngineError::NotFound(format!("container {container_id:?} does not exist in database {database_id:?}"));
    if uses_copy(db, log) {
        return if crate::bulk::copy_items(db.get_postgres_connection_pool(), &container_rid, &rows).await? { Ok(n) } else { Err(gone()) };
    }
    // A write comes first (the sequence, or the rows themselves): on SQLite a transaction that
    // reads first cannot become a writer once another connection has written.
    let txn = db.begin().await?;
    let first_seq = match log {
        ImportLog::Logged => Some(changelog::reserve(&txn, &account_id, i64::try_from(n).unwrap_or(i64::MAX)).await?),
        ImportLog::Unlogged => None,
    };
    item::Entity::insert_many(rows.into_iter().map(item::ActiveModel::from)).exec(&txn).await?;
    let live = container::Entity::find().filter(container::Column::Rid.eq(&container_rid)).one(&txn).await?;
    if live.is_none() {
        return Err(gone());
    }
    if let Some(first_seq) = first_seq {
        let changes = items.into_iter().map(|i| Change {
            op: ChangeOp::Create,
            resource_type: ResourceType::Item,
            database_id: database_id.clone(),
            container_id: container_id.clone(),
            pk: Some(i.pk),
            item_id: Some(i.id),
            body: Some(i.json),
        });
        changelog::append_many(&txn, &account_id, first_seq, changes.collect()).await?;
    }
    txn.commit().await?;
    Ok(n)
}

/// Prepares and writes restored items in one go (see [`prepare_import`], [`write_import`]);
/// returns them as stored.
///
/// # Errors
/// As those two, and 404 without the container.
pub async fn import_items(
    db: &DatabaseConnection,
    account_id: &str,
    db_id: &str,
    coll_id: &str,
    docs: Vec<Value>,
    log: ImportLog,
) -> Result<Vec<Imported>, EngineError> {
    let (d, coll) = get_container(db, account_id, db_id, coll_id).await?;
    let prepared = prepare_import(&d, &coll, docs)?;
    let items = prepared.items.clone();
    write_import(db, prepared, log).await?;
    Ok(items)
}

// ---------------------------------------------------------------- deleted accounts

/// Removes up to `batch` rows of a deleted account's data — items first, container by
/// container, then its containers, databases and change log — without logging (the account is
/// gone and its backup holds it). Returns `true` once nothing is left. Its sequence row stays,
/// so its change numbers are never handed out again. Call it only when backup storage holds the
/// account through its deletion.
///
/// # Errors
/// Database errors.
pub async fn purge_account(db: &DatabaseConnection, account_id: &str, batch: u64) -> Result<bool, EngineError> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    if let Some(coll) = container::Entity::find().filter(container::Column::AccountId.eq(account_id)).one(db).await? {
        let range = scan::Range { container_rid: &coll.rid, partition_key: None, after: None };
        // Bounded by bytes too: the rows are read only to find where this batch ends.
        let last = scan::batch(db, &range, batch, 8 << 20).await?.items.pop();
        match last {
            Some(last) => {
                let position = Expr::tuple([Expr::col(item::Column::Pk), Expr::col(item::Column::Id)]);
                item::Entity::delete_many()
                    .filter(item::Column::ContainerRid.eq(&coll.rid))
                    .filter(position.lte(Expr::tuple([Expr::val(last.pk), Expr::val(last.id)])))
                    .exec(db)
                    .await?;
            }
            None => {
                // Expired items the purge worker has not reached are not "live": clear them too.
                item::Entity::delete_many().filter(item::Column::ContainerRid.eq(&coll.rid)).exec(db).await?;
                container::Entity::delete_by_id(coll.rid).exec(db).await?;
            }
        }
        return Ok(false);
    }
    database::Entity::delete_many().filter(database::Column::AccountId.eq(account_id)).exec(db).await?;
    Ok(changelog::prune(db, account_id, i64::MAX, i64::try_from(batch).unwrap_or(i64::MAX)).await? == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_text_is_item_json_without_the_round_trip() {
        let d = database::Model { rid: "dR".into(), account_id: "a".into(), id: "d".into(), throughput: None, ts: 1, etag: "\"e\"".into() };
        let c = container::Model {
            rid: "cR".into(),
            account_id: "a".into(),
            database_rid: "dR".into(),
            id: "c".into(),
            partition_key: "{}".into(),
            throughput: None,
            autoscale_max: None,
            physical_partitions: 1,
            default_ttl: None,
            indexing_policy: "{}".into(),
            unique_key_policy: "{}".into(),
            ts: 1,
            etag: "\"e\"".into(),
        };
        for doc in [
            json!({"id": "x"}),
            json!({"id": "ü \"q\"", "n": [1, {"a": null}], "t": "tab\tnew\nline"}),
            json!({"id": "y", "z": {}, "a": 1.5}),
        ] {
            let prepared = prepare_doc(doc).unwrap();
            let row = item::Model {
                container_rid: "cR".into(),
                pk: "[]".into(),
                id: prepared.id.clone(),
                rid: "r+1".into(),
                body: prepared.text.clone(),
                ts: 1_700_000_000,
                etag: "\"00000000-0000-0000-0000-000000000000\"".into(),
                expires_at: None,
            };
            let spliced = item_text(&d, &c, &row.body, &row.rid, &row.etag, row.ts);
            assert_eq!(spliced, item_json(&d, &c, &row).unwrap().to_string());
        }
        // A document with no fields but its system properties still reads back whole.
        assert_eq!(
            item_text(&d, &c, "{}", "r", "e", 2),
            r#"{"_rid":"r","_self":"dbs/dR/colls/cR/docs/r/","_etag":"e","_attachments":"attachments/","_ts":2}"#
        );
    }
}
