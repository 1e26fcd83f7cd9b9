//! The Cosmos DB SQL subset real apps use: `SELECT` (`*`, projections, `VALUE`, `DISTINCT`,
//! `TOP`), `FROM <alias>`, `WHERE` with comparisons, `AND`/`OR`/`NOT`, `IN`, `BETWEEN`, the
//! common functions (`IS_DEFINED`, `CONTAINS`, `STARTSWITH`, …), `@parameters`, `ORDER BY`,
//! `OFFSET … LIMIT`, and whole-result aggregates (`VALUE COUNT(1)`, `SUM`, `MIN`, `MAX`, `AVG`).
//!
//! Queries run over one container's items on the server; results are then paged.

mod ast;
mod eval;
mod lexer;
mod parser;

pub use ast::Query;
pub use eval::run;

use serde_json::Value;

use crate::error::EngineError;

/// Parses `sql` with its `@name` parameters (`[{"name": "@x", "value": …}]`).
///
/// # Errors
/// [`EngineError::BadRequest`] saying where the query stops making sense.
pub fn parse(sql: &str, parameters: &[Value]) -> Result<Query, EngineError> {
    let tokens = lexer::lex(sql).map_err(|e| EngineError::BadRequest(format!("query syntax error: {e}")))?;
    let mut q = parser::Parser::new(tokens)
        .query()
        .map_err(|e| EngineError::BadRequest(format!("query syntax error: {e}")))?;
    for p in parameters {
        let name = p.get("name").and_then(Value::as_str).ok_or_else(|| {
            EngineError::BadRequest("each query parameter needs a \"name\" such as \"@id\"".into())
        })?;
        q.params.insert(name.to_owned(), p.get("value").cloned().unwrap_or(Value::Null));
    }
    Ok(q)
}
