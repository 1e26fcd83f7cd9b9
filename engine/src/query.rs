//! The Cosmos DB SQL subset real apps use: `SELECT` (`*`, projections, `VALUE`, `DISTINCT`,
//! `TOP`), `FROM <alias>`, `WHERE` with comparisons, `AND`/`OR`/`NOT`, `IN`, `BETWEEN`, the
//! common functions (`IS_DEFINED`, `CONTAINS`, `STARTSWITH`, …), `@parameters`, `ORDER BY`,
//! `OFFSET … LIMIT`, and whole-result aggregates (`VALUE COUNT(1)`, `SUM`, `MIN`, `MAX`, `AVG`).
//!
//! Parsing bounds the text, nesting and clause counts ([`crate::limits`]); a query then runs page
//! by page over a container's rows ([`exec`]) in memory bounded by the page.

mod ast;
mod eval;
pub mod exec;
pub mod gate;
mod lexer;
pub mod page;
mod parser;

pub use ast::Query;
pub use eval::Cx;
pub use exec::{PageLimits, run};
pub use gate::QueryGate;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::EngineError;
use crate::limits::{MAX_QUERY_BYTES, MAX_QUERY_PARAMETERS};

/// Parses `sql` with its `@name` parameters (`[{"name": "@x", "value": …}]`).
///
/// # Errors
/// [`EngineError::BadRequest`] saying where the query stops making sense, or which limit it
/// passes.
pub fn parse(sql: &str, parameters: &[Value]) -> Result<Query, EngineError> {
    if sql.len() > MAX_QUERY_BYTES {
        return Err(EngineError::BadRequest(format!("the query text is {} bytes; the limit is {MAX_QUERY_BYTES} bytes", sql.len())));
    }
    if parameters.len() > MAX_QUERY_PARAMETERS {
        return Err(EngineError::BadRequest(format!("the query has {} parameters; the limit is {MAX_QUERY_PARAMETERS}", parameters.len())));
    }
    let tokens = lexer::lex(sql).map_err(|e| EngineError::BadRequest(format!("query syntax error: {e}")))?;
    let mut q = parser::Parser::new(tokens).query().map_err(|e| EngineError::BadRequest(format!("query syntax error: {e}")))?;
    for p in parameters {
        let name = p
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| EngineError::BadRequest("each query parameter needs a \"name\" such as \"@id\"".into()))?;
        q.params.insert(name.to_owned(), p.get("value").cloned().unwrap_or(Value::Null));
    }
    let mut h = Sha256::new();
    h.update(sql.as_bytes());
    h.update(Value::Array(parameters.to_vec()).to_string().as_bytes());
    q.fingerprint = hex_prefix(&h.finalize());
    Ok(q)
}

fn hex_prefix(digest: &[u8]) -> String {
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}
