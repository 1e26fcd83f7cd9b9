//! Resource paths of the REST API and what each is signed over.

use engine::EngineError;

/// A resource the request addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    Account,
    Databases,
    Database(String),
    Containers(String),
    Container(String, String),
    Items(String, String),
    Item(String, String, String),
    PartitionKeyRanges(String, String),
}

impl Resource {
    /// Parses the path after `/cosmos/<account>/`.
    ///
    /// # Errors
    /// 400 for a path that is not a resource Rewind serves.
    pub fn parse(rest: &str) -> Result<Self, EngineError> {
        let segs: Vec<String> =
            rest.trim_matches('/').split('/').filter(|s| !s.is_empty()).map(engine::signature::percent_decode).collect();
        let s: Vec<&str> = segs.iter().map(String::as_str).collect();
        Ok(match s.as_slice() {
            [] => Resource::Account,
            ["dbs"] => Resource::Databases,
            ["dbs", d] => Resource::Database((*d).into()),
            ["dbs", d, "colls"] => Resource::Containers((*d).into()),
            ["dbs", d, "colls", c] => Resource::Container((*d).into(), (*c).into()),
            ["dbs", d, "colls", c, "docs"] => Resource::Items((*d).into(), (*c).into()),
            ["dbs", d, "colls", c, "docs", i] => Resource::Item((*d).into(), (*c).into(), (*i).into()),
            ["dbs", d, "colls", c, "pkranges"] => Resource::PartitionKeyRanges((*d).into(), (*c).into()),
            _ => {
                return Err(EngineError::BadRequest(format!(
                    "{rest:?} is not a resource this endpoint serves (databases, containers, items and partition key ranges are)"
                )));
            }
        })
    }

    /// The resource type and link a client signs for this resource (feeds sign their parent).
    pub fn signed_as(&self) -> (&'static str, String) {
        match self {
            Resource::Account => ("", String::new()),
            Resource::Databases => ("dbs", String::new()),
            Resource::Database(d) => ("dbs", format!("dbs/{d}")),
            Resource::Containers(d) => ("colls", format!("dbs/{d}")),
            Resource::Container(d, c) => ("colls", format!("dbs/{d}/colls/{c}")),
            Resource::Items(d, c) => ("docs", format!("dbs/{d}/colls/{c}")),
            Resource::Item(d, c, i) => ("docs", format!("dbs/{d}/colls/{c}/docs/{i}")),
            Resource::PartitionKeyRanges(d, c) => ("pkranges", format!("dbs/{d}/colls/{c}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_into_resources_and_sign_as_cosmos_does() {
        let r = Resource::parse("dbs/shop/colls/orders/docs/a%20b").unwrap();
        assert_eq!(r, Resource::Item("shop".into(), "orders".into(), "a b".into()));
        assert_eq!(r.signed_as(), ("docs", "dbs/shop/colls/orders/docs/a b".into()));
        assert_eq!(Resource::parse("dbs/shop/colls").unwrap().signed_as(), ("colls", "dbs/shop".into()));
        assert_eq!(Resource::parse("").unwrap(), Resource::Account);
        assert!(Resource::parse("dbs/shop/users").is_err());
    }
}
