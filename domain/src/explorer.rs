//! The portal's data explorer as the browser sees it: an account's databases and containers, a
//! page of items, a query's first page.

use serde::{Deserialize, Serialize};

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
