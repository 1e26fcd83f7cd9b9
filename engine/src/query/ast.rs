//! The parsed form of a query.
//!
//! Chains of the same operator (`a AND b AND c`, `a + b - c`) are kept flat, one node with a list
//! of operands, so a long chain is wide rather than deep: evaluating or dropping a tree never
//! recurses deeper than the query's nesting, which the parser bounds.

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
    /// Every operand is `true`.
    And(Vec<Expr>),
    /// Some operand is `true`.
    Or(Vec<Expr>),
    /// A comparison: `=`, `!=`, `<`, `<=`, `>`, `>=`.
    Cmp(&'static str, Box<Expr>, Box<Expr>),
    /// `first op₁ e₁ op₂ e₂ …` for the left-associative `+ - || * / %`, applied left to right.
    Chain(Box<Expr>, Vec<(&'static str, Expr)>),
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
    /// Identifies the query text and parameters, so that a continuation token issued for one
    /// query is refused by another.
    pub fingerprint: String,
}
