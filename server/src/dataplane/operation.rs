//! What a request asks for, decided once from its routed resource and method. Whether it only
//! reads — so a read-only key may sign it — follows from the operation, never from a header on
//! its own: a POST on the database feed creates a database whatever its headers say.

use http::{HeaderMap, Method};

use engine::store::WriteMode;

use super::path::Resource;
use super::reply::DataError;

/// One data-plane operation with the names it addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    ReadAccount,
    ListDatabases,
    CreateDatabase,
    ReadDatabase(String),
    DeleteDatabase(String),
    ListContainers(String),
    CreateContainer(String),
    ReadContainer(String, String),
    ReplaceContainer(String, String),
    DeleteContainer(String, String),
    ReadPartitionKeyRanges(String, String),
    /// The SDK's question before a cross-partition query; nothing is read.
    QueryPlan(String, String),
    Query(String, String),
    ListItems(String, String),
    WriteItem(String, String, WriteMode),
    ReadItem(String, String, String),
    ReplaceItem(String, String, String),
    PatchItem(String, String, String),
    DeleteItem(String, String, String),
}

fn flag(headers: &HeaderMap, name: &str) -> bool {
    headers.get(name).and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

impl Operation {
    /// The operation `method` on `resource` asks for. On an item feed, a POST is a query, a
    /// query plan or a write, as the Cosmos DB protocol's headers choose; nowhere else do
    /// headers change what a request does.
    ///
    /// # Errors
    /// 405 for a method the resource does not support.
    pub fn of(resource: Resource, method: &Method, headers: &HeaderMap) -> Result<Self, DataError> {
        use Operation as O;
        use Resource as R;
        let not_allowed = |what: &str| DataError::MethodNotAllowed(format!("{method} is not supported on {what}"));
        Ok(match (resource, method.clone()) {
            (R::Account, Method::GET) => O::ReadAccount,
            (R::Account, _) => return Err(not_allowed("the account")),
            (R::Databases, Method::GET) => O::ListDatabases,
            (R::Databases, Method::POST) => O::CreateDatabase,
            (R::Databases, _) => return Err(not_allowed("the database feed")),
            (R::Database(d), Method::GET) => O::ReadDatabase(d),
            (R::Database(d), Method::DELETE) => O::DeleteDatabase(d),
            (R::Database(_), _) => return Err(not_allowed("a database")),
            (R::Containers(d), Method::GET) => O::ListContainers(d),
            (R::Containers(d), Method::POST) => O::CreateContainer(d),
            (R::Containers(_), _) => return Err(not_allowed("the container feed")),
            (R::Container(d, c), Method::GET) => O::ReadContainer(d, c),
            (R::Container(d, c), Method::PUT) => O::ReplaceContainer(d, c),
            (R::Container(d, c), Method::DELETE) => O::DeleteContainer(d, c),
            (R::Container(..), _) => return Err(not_allowed("a container")),
            (R::PartitionKeyRanges(d, c), Method::GET) => O::ReadPartitionKeyRanges(d, c),
            (R::PartitionKeyRanges(..), _) => return Err(not_allowed("partition key ranges")),
            (R::Items(d, c), Method::POST) if flag(headers, "x-ms-cosmos-is-query-plan-request") => O::QueryPlan(d, c),
            (R::Items(d, c), Method::POST) if flag(headers, "x-ms-documentdb-isquery") => O::Query(d, c),
            (R::Items(d, c), Method::POST) => {
                O::WriteItem(d, c, if flag(headers, "x-ms-documentdb-is-upsert") { WriteMode::Upsert } else { WriteMode::Create })
            }
            (R::Items(d, c), Method::GET) => O::ListItems(d, c),
            (R::Items(..), _) => return Err(not_allowed("the item feed")),
            (R::Item(d, c, i), Method::GET) => O::ReadItem(d, c, i),
            (R::Item(d, c, i), Method::PUT) => O::ReplaceItem(d, c, i),
            (R::Item(d, c, i), Method::PATCH) => O::PatchItem(d, c, i),
            (R::Item(d, c, i), Method::DELETE) => O::DeleteItem(d, c, i),
            (R::Item(..), _) => return Err(not_allowed("an item")),
        })
    }

    /// Whether it changes nothing (a read-only key may sign it).
    pub fn is_read(&self) -> bool {
        use Operation as O;
        matches!(
            self,
            O::ReadAccount
                | O::ListDatabases
                | O::ReadDatabase(_)
                | O::ListContainers(_)
                | O::ReadContainer(..)
                | O::ReadPartitionKeyRanges(..)
                | O::QueryPlan(..)
                | O::Query(..)
                | O::ListItems(..)
                | O::ReadItem(..)
        )
    }

    /// The container whose throughput pays for it (item and query traffic), if any.
    pub fn container(&self) -> Option<(&str, &str)> {
        use Operation as O;
        match self {
            O::Query(d, c)
            | O::ListItems(d, c)
            | O::WriteItem(d, c, _)
            | O::ReadItem(d, c, _)
            | O::ReplaceItem(d, c, _)
            | O::PatchItem(d, c, _)
            | O::DeleteItem(d, c, _) => Some((d, c)),
            _ => None,
        }
    }

    /// For database and container changes, which the audit log records: the action and the
    /// resource path.
    pub fn audited(&self) -> Option<(&'static str, String)> {
        use Operation as O;
        match self {
            O::CreateDatabase => Some(("dataplane/databases/write", "dbs".to_owned())),
            O::DeleteDatabase(d) => Some(("dataplane/databases/delete", format!("dbs/{d}"))),
            O::CreateContainer(d) => Some(("dataplane/containers/write", format!("dbs/{d}/colls"))),
            O::ReplaceContainer(d, c) => Some(("dataplane/containers/write", format!("dbs/{d}/colls/{c}"))),
            O::DeleteContainer(d, c) => Some(("dataplane/containers/delete", format!("dbs/{d}/colls/{c}"))),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query_headers() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-ms-documentdb-isquery", "true".parse().unwrap());
        h.insert("x-ms-cosmos-is-query-plan-request", "True".parse().unwrap());
        h
    }

    #[test]
    fn query_headers_make_nothing_but_item_feed_posts_reads() {
        let h = query_headers();
        assert!(!Operation::of(Resource::Databases, &Method::POST, &h).unwrap().is_read());
        assert!(!Operation::of(Resource::Containers("d".into()), &Method::POST, &h).unwrap().is_read());
        assert!(Operation::of(Resource::Items("d".into(), "c".into()), &Method::POST, &h).unwrap().is_read());
        assert!(!Operation::of(Resource::Items("d".into(), "c".into()), &Method::POST, &HeaderMap::new()).unwrap().is_read());
        assert!(Operation::of(Resource::Database("d".into()), &Method::GET, &HeaderMap::new()).unwrap().is_read());
        assert!(Operation::of(Resource::Database("d".into()), &Method::HEAD, &h).is_err());
    }
}
