//! The parsed form of a query.

use serde_json::Value;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Lit(Value),
    Undefined,
    Param(String),
    /// A path from the FROM alias: `c.address.city`, `c["x"]`, `c.tags[0]`.
    Path(String, Vec<Seg>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Bin(&'static str, Box<Expr>, Box<Expr>),
    In(Box<Expr>, Vec<Expr>, bool),
    Between(Box<Expr>, Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
    Array(Vec<Expr>),
    Object(Vec<(String, Expr)>),
    Ternary(Box<Expr>, Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Projection {
    Star,
    Value(Expr),
    Fields(Vec<(Expr, Option<String>)>),
}

/// A parsed query with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub distinct: bool,
    pub top: Option<Expr>,
    pub projection: Projection,
    pub alias: String,
    pub filter: Option<Expr>,
    pub order_by: Vec<(Expr, bool)>,
    pub offset: Option<Expr>,
    pub limit: Option<Expr>,
    pub params: HashMap<String, Value>,
}
