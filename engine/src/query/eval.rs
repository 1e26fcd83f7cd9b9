//! Evaluation with Cosmos DB's semantics: a missing property is *undefined*; comparing values of
//! different types is undefined; `WHERE` keeps a row only when its condition is exactly `true`.
//!
//! Recursion follows the expression tree, whose depth the parser bounds; every node evaluated is
//! counted, so a query is charged for the work it makes the server do, not only for what it reads.

use serde_json::{Map, Value, json};
use std::cell::Cell;
use std::cmp::Ordering;

use super::ast::{Expr, Projection, Query, Seg};
use crate::error::EngineError;

/// A value or *undefined*.
pub type V = Option<Value>;

pub const AGGREGATES: [&str; 5] = ["COUNT", "SUM", "MIN", "MAX", "AVG"];

/// Whether the projection is made only of aggregates (`SELECT VALUE COUNT(1)`, `SELECT MIN(…), MAX(…)`).
pub fn is_aggregate(p: &Projection) -> bool {
    let agg = |e: &Expr| matches!(e, Expr::Call(n, _) if AGGREGATES.contains(&n.as_str()));
    match p {
        Projection::Value(e) => agg(e),
        Projection::Fields(f) => !f.is_empty() && f.iter().all(|(e, _)| agg(e)),
        Projection::Star => false,
    }
}

/// Evaluates a query's expressions against documents, counting the nodes it visits.
pub struct Cx<'a> {
    pub q: &'a Query,
    steps: Cell<u64>,
}

impl<'a> Cx<'a> {
    pub fn new(q: &'a Query) -> Self {
        Self { q, steps: Cell::new(0) }
    }

    /// Expression nodes evaluated so far.
    pub fn steps(&self) -> u64 {
        self.steps.get()
    }

    /// Whether `doc` passes the `WHERE` clause.
    ///
    /// # Errors
    /// 400 for an expression that cannot be evaluated (an unknown function, a missing parameter).
    pub fn keeps(&self, doc: &Value) -> Result<bool, EngineError> {
        match &self.q.filter {
            Some(f) => Ok(self.eval(f, doc)? == Some(Value::Bool(true))),
            None => Ok(true),
        }
    }

    /// A whole-number argument of TOP, OFFSET or LIMIT.
    ///
    /// # Errors
    /// 400 naming the clause when it is not a whole number that is not negative.
    pub fn count_arg(&self, e: Option<&Expr>, what: &str) -> Result<Option<u64>, EngineError> {
        let Some(e) = e else { return Ok(None) };
        match self.eval(e, &Value::Null)? {
            Some(Value::Number(n)) if n.as_f64().is_some_and(|f| f >= 0.0 && f.fract() == 0.0) => Ok(n.as_f64().map(|f| f as u64)),
            other => Err(EngineError::BadRequest(format!("{what} needs a whole number that is not negative (got {})", show(&other)))),
        }
    }

    /// The ORDER BY keys of `doc`.
    ///
    /// # Errors
    /// As [`Cx::keeps`].
    pub fn sort_keys(&self, doc: &Value) -> Result<Vec<V>, EngineError> {
        self.q.order_by.iter().map(|(e, _)| self.eval(e, doc)).collect()
    }

    /// Orders two rows' ORDER BY keys, honouring `DESC`.
    pub fn compare_keys(&self, a: &[V], b: &[V]) -> Ordering {
        for (i, (_, desc)) in self.q.order_by.iter().enumerate() {
            let o = type_order(&a[i], &b[i]);
            let o = if *desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }

    /// What `SELECT` makes of `doc`; `None` when a `VALUE` projection is undefined (no row).
    ///
    /// # Errors
    /// As [`Cx::keeps`].
    pub fn project(&self, doc: &Value) -> Result<V, EngineError> {
        match &self.q.projection {
            Projection::Star => Ok(Some(doc.clone())),
            Projection::Value(e) => self.eval(e, doc),
            Projection::Fields(fields) => {
                let mut o = Map::new();
                for (i, (e, alias)) in fields.iter().enumerate() {
                    let name = alias.clone().unwrap_or_else(|| match e {
                        Expr::Path(root, segs) => match segs.last() {
                            Some(Seg::Key(k)) => k.clone(),
                            _ if segs.is_empty() => root.clone(),
                            _ => format!("${}", i + 1),
                        },
                        _ => format!("${}", i + 1),
                    });
                    if let Some(v) = self.eval(e, doc)? {
                        o.insert(name, v);
                    }
                }
                Ok(Some(Value::Object(o)))
            }
        }
    }

    /// Evaluates `e` against `doc`.
    ///
    /// # Errors
    /// As [`Cx::keeps`].
    pub fn eval(&self, e: &Expr, doc: &Value) -> Result<V, EngineError> {
        self.steps.set(self.steps.get() + 1);
        Ok(match e {
            Expr::Lit(v) => Some(v.clone()),
            Expr::Undefined => None,
            Expr::Param(p) => Some(
                self.q
                    .params
                    .get(p)
                    .cloned()
                    .ok_or_else(|| EngineError::BadRequest(format!("the query uses {p} but no parameter of that name was given")))?,
            ),
            Expr::Path(root, segs) => {
                if *root != self.q.alias {
                    return Err(EngineError::BadRequest(format!("{root:?} is not the FROM alias ({:?})", self.q.alias)));
                }
                let mut cur = Some(doc);
                for s in segs {
                    cur = match (cur, s) {
                        (Some(Value::Object(o)), Seg::Key(k)) => o.get(k),
                        (Some(Value::Array(a)), Seg::Index(i)) => a.get(*i),
                        _ => None,
                    };
                }
                cur.cloned()
            }
            Expr::Not(a) => match self.eval(a, doc)? {
                Some(Value::Bool(b)) => Some(Value::Bool(!b)),
                _ => None,
            },
            Expr::Neg(a) => self.eval(a, doc)?.and_then(|v| v.as_f64()).map(|f| num(-f)),
            // Undefined unless decided: AND is false if any operand is false, OR true if any is true.
            Expr::And(terms) => self.logical(terms, doc, false)?,
            Expr::Or(terms) => self.logical(terms, doc, true)?,
            Expr::Cmp(op, a, b) => binary(op, self.eval(a, doc)?, self.eval(b, doc)?),
            Expr::Chain(first, rest) => {
                let mut acc = self.eval(first, doc)?;
                for (op, e) in rest {
                    acc = binary(op, acc, self.eval(e, doc)?);
                }
                acc
            }
            Expr::In(a, items, negated) => {
                let x = self.eval(a, doc)?;
                let Some(x) = x else { return Ok(None) };
                let mut found = false;
                for i in items {
                    if self.eval(i, doc)?.as_ref().is_some_and(|v| same(v, &x)) {
                        found = true;
                        break;
                    }
                }
                Some(Value::Bool(found != *negated))
            }
            Expr::Between(a, lo, hi) => {
                let x = self.eval(a, doc)?;
                let ge = binary(">=", x.clone(), self.eval(lo, doc)?);
                let le = binary("<=", x, self.eval(hi, doc)?);
                match (ge, le) {
                    (Some(Value::Bool(p)), Some(Value::Bool(q))) => Some(Value::Bool(p && q)),
                    _ => None,
                }
            }
            Expr::Ternary(c, a, b) => match self.eval(c, doc)? {
                Some(Value::Bool(true)) => self.eval(a, doc)?,
                _ => self.eval(b, doc)?,
            },
            Expr::Array(items) => {
                Some(Value::Array(items.iter().map(|i| self.eval(i, doc)).collect::<Result<Vec<_>, _>>()?.into_iter().flatten().collect()))
            }
            Expr::Object(fields) => {
                let mut o = Map::new();
                for (k, e) in fields {
                    if let Some(v) = self.eval(e, doc)? {
                        o.insert(k.clone(), v);
                    }
                }
                Some(Value::Object(o))
            }
            Expr::Call(name, args) => {
                let vals = args.iter().map(|a| self.eval(a, doc)).collect::<Result<Vec<_>, _>>()?;
                call(name, &vals)?
            }
        })
    }

    /// `AND` (`decisive` = false) or `OR` (`decisive` = true) over `terms`: the decisive value
    /// wins as soon as it appears; otherwise the opposite when every term is it, else undefined.
    fn logical(&self, terms: &[Expr], doc: &Value, decisive: bool) -> Result<V, EngineError> {
        let mut all_opposite = true;
        for t in terms {
            match self.eval(t, doc)? {
                Some(Value::Bool(b)) if b == decisive => return Ok(Some(Value::Bool(decisive))),
                Some(Value::Bool(_)) => {}
                _ => all_opposite = false,
            }
        }
        Ok(all_opposite.then_some(Value::Bool(!decisive)))
    }
}

pub fn num(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.0e15 { json!(f as i64) } else { json!(f) }
}

pub fn show(v: &V) -> String {
    v.as_ref().map_or("undefined".into(), Value::to_string)
}

/// Deep equality with numbers compared by value (1 = 1.0).
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w))),
        _ => a == b,
    }
}

/// A 128-bit fingerprint of a value that agrees with [`same`]: numbers by value, object keys in
/// any order. `DISTINCT` keeps these instead of the values.
pub fn fingerprint(v: &Value) -> u128 {
    use std::hash::{Hash, Hasher};
    fn feed(h: &mut impl Hasher, v: &Value) {
        match v {
            Value::Null => 0u8.hash(h),
            Value::Bool(b) => (1u8, b).hash(h),
            Value::Number(n) => {
                let f = n.as_f64().unwrap_or(0.0);
                (2u8, if f == 0.0 { 0u64 } else { f.to_bits() }).hash(h);
            }
            Value::String(s) => (3u8, s).hash(h),
            Value::Array(a) => {
                (4u8, a.len()).hash(h);
                for x in a {
                    feed(h, x);
                }
            }
            Value::Object(o) => {
                (5u8, o.len()).hash(h);
                let mut keys: Vec<&String> = o.keys().collect();
                keys.sort();
                for k in keys {
                    k.hash(h);
                    feed(h, &o[k]);
                }
            }
        }
    }
    let (mut a, mut b) = (std::collections::hash_map::DefaultHasher::new(), std::collections::hash_map::DefaultHasher::new());
    b.write_u8(0xa5);
    feed(&mut a, v);
    feed(&mut b, v);
    (u128::from(a.finish()) << 64) | u128::from(b.finish())
}

fn rank(v: &V) -> u8 {
    match v {
        None => 0,
        Some(Value::Null) => 1,
        Some(Value::Bool(_)) => 2,
        Some(Value::Number(_)) => 3,
        Some(Value::String(_)) => 4,
        Some(Value::Array(_)) => 5,
        Some(Value::Object(_)) => 6,
    }
}

/// ORDER BY's total order: undefined < null < booleans < numbers < strings < arrays < objects.
pub fn type_order(a: &V, b: &V) -> Ordering {
    match (a, b) {
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        (Some(Value::Number(x)), Some(Value::Number(y))) => x.as_f64().partial_cmp(&y.as_f64()).unwrap_or(Ordering::Equal),
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

fn binary(op: &str, a: V, b: V) -> V {
    let (a, b) = (a?, b?);
    match op {
        "=" | "!=" => {
            let comparable = rank(&Some(a.clone())) == rank(&Some(b.clone()));
            if !comparable {
                return None;
            }
            let eq = same(&a, &b);
            Some(Value::Bool(if op == "=" { eq } else { !eq }))
        }
        "<" | "<=" | ">" | ">=" => {
            let o = match (&a, &b) {
                (Value::Number(_), Value::Number(_)) | (Value::String(_), Value::String(_)) | (Value::Bool(_), Value::Bool(_)) => {
                    type_order(&Some(a.clone()), &Some(b.clone()))
                }
                _ => return None,
            };
            Some(Value::Bool(match op {
                "<" => o == Ordering::Less,
                "<=" => o != Ordering::Greater,
                ">" => o == Ordering::Greater,
                _ => o != Ordering::Less,
            }))
        }
        "||" => match (a, b) {
            (Value::String(x), Value::String(y)) => Some(Value::String(x + &y)),
            _ => None,
        },
        _ => {
            let (x, y) = (a.as_f64()?, b.as_f64()?);
            Some(num(match op {
                "+" => x + y,
                "-" => x - y,
                "*" => x * y,
                "/" if y != 0.0 => x / y,
                "%" if y != 0.0 => x % y,
                _ => return None,
            }))
        }
    }
}

fn string_pair(args: &[V], name: &str) -> Result<Option<(String, String, bool)>, EngineError> {
    if args.len() < 2 {
        return Err(EngineError::BadRequest(format!("{name} needs two arguments")));
    }
    let ic = matches!(args.get(2), Some(Some(Value::Bool(true))));
    Ok(match (&args[0], &args[1]) {
        (Some(Value::String(a)), Some(Value::String(b))) => {
            if ic {
                Some((a.to_lowercase(), b.to_lowercase(), ic))
            } else {
                Some((a.clone(), b.clone(), ic))
            }
        }
        _ => None,
    })
}

fn call(name: &str, args: &[V]) -> Result<V, EngineError> {
    let first = args.first().cloned().flatten();
    let is = |f: fn(&Value) -> bool| Some(Value::Bool(first.as_ref().is_some_and(f)));
    Ok(match name {
        "IS_DEFINED" => Some(Value::Bool(first.is_some())),
        "IS_NULL" => is(Value::is_null),
        "IS_STRING" => is(Value::is_string),
        "IS_NUMBER" => is(Value::is_number),
        "IS_BOOL" => is(Value::is_boolean),
        "IS_ARRAY" => is(Value::is_array),
        "IS_OBJECT" => is(Value::is_object),
        "CONTAINS" => string_pair(args, name)?.map(|(a, b, _)| Value::Bool(a.contains(&b))),
        "STARTSWITH" => string_pair(args, name)?.map(|(a, b, _)| Value::Bool(a.starts_with(&b))),
        "ENDSWITH" => string_pair(args, name)?.map(|(a, b, _)| Value::Bool(a.ends_with(&b))),
        "INDEX_OF" => string_pair(args, name)?.map(|(a, b, _)| json!(a.find(&b).map_or(-1, |i| a[..i].chars().count() as i64))),
        "LOWER" => first.and_then(|v| v.as_str().map(|s| json!(s.to_lowercase()))),
        "UPPER" => first.and_then(|v| v.as_str().map(|s| json!(s.to_uppercase()))),
        "LENGTH" => first.and_then(|v| v.as_str().map(|s| json!(s.chars().count()))),
        "TRIM" => first.and_then(|v| v.as_str().map(|s| json!(s.trim()))),
        "CONCAT" => {
            let mut s = String::new();
            for a in args {
                match a {
                    Some(Value::String(x)) => s.push_str(x),
                    _ => return Ok(None),
                }
            }
            Some(json!(s))
        }
        "SUBSTRING" => match (first, args.get(1).cloned().flatten(), args.get(2).cloned().flatten()) {
            (Some(Value::String(s)), Some(st), Some(len)) => {
                let (st, len) = (st.as_f64().unwrap_or(0.0).max(0.0) as usize, len.as_f64().unwrap_or(0.0).max(0.0) as usize);
                Some(json!(s.chars().skip(st).take(len).collect::<String>()))
            }
            _ => None,
        },
        "TOSTRING" => first.map(|v| match v {
            Value::String(s) => json!(s),
            other => json!(other.to_string()),
        }),
        "ARRAY_LENGTH" => first.and_then(|v| v.as_array().map(|a| json!(a.len()))),
        "ARRAY_CONTAINS" => match (first, args.get(1).cloned().flatten()) {
            (Some(Value::Array(a)), Some(x)) => {
                let partial = matches!(args.get(2), Some(Some(Value::Bool(true))));
                Some(Value::Bool(a.iter().any(|v| {
                    same(v, &x)
                        || (partial
                            && matches!((v, &x), (Value::Object(o), Value::Object(p)) if p.iter().all(|(k, w)| o.get(k).is_some_and(|u| same(u, w)))))
                })))
            }
            _ => None,
        },
        "ABS" => first.and_then(|v| v.as_f64()).map(|f| num(f.abs())),
        "FLOOR" => first.and_then(|v| v.as_f64()).map(|f| num(f.floor())),
        "CEILING" => first.and_then(|v| v.as_f64()).map(|f| num(f.ceil())),
        "ROUND" => first.and_then(|v| v.as_f64()).map(|f| num(f.round())),
        other if AGGREGATES.contains(&other) => {
            return Err(EngineError::BadRequest(format!(
                "{other} is an aggregate; use it as the whole SELECT (SELECT VALUE {other}(…)) without GROUP BY"
            )));
        }
        other => return Err(EngineError::BadRequest(format!("the function {other} is not supported"))),
    })
}

#[cfg(test)]
mod tests {
    use super::super::{parse, run};
    use super::*;

    fn docs() -> Vec<Value> {
        vec![
            json!({"id": "1", "tenant": "a", "n": 3, "name": "Apple", "tags": ["x", "y"], "addr": {"city": "Oslo"}}),
            json!({"id": "2", "tenant": "a", "n": 1, "name": "banana"}),
            json!({"id": "3", "tenant": "b", "n": 2, "name": "Cherry", "tags": ["y"]}),
            json!({"id": "4", "tenant": "b", "name": "date", "n": null}),
        ]
    }

    fn q(sql: &str, params: &[Value]) -> Vec<Value> {
        run(&parse(sql, params).unwrap(), docs()).unwrap()
    }

    fn ids(v: &[Value]) -> Vec<&str> {
        v.iter().map(|d| d["id"].as_str().unwrap()).collect()
    }

    #[test]
    fn select_star_with_where_and_parameters() {
        let r = q("SELECT * FROM c WHERE c.tenant = @t AND c.n > 1", &[json!({"name": "@t", "value": "a"})]);
        assert_eq!(ids(&r), ["1"]);
    }

    #[test]
    fn order_by_puts_undefined_and_null_first_and_can_descend() {
        assert_eq!(ids(&q("SELECT * FROM c ORDER BY c.n", &[])), ["4", "2", "3", "1"]);
        assert_eq!(ids(&q("SELECT * FROM c ORDER BY c.n DESC", &[])), ["1", "3", "2", "4"]);
        assert_eq!(ids(&q("SELECT * FROM c ORDER BY c.tenant DESC, c.id", &[])), ["3", "4", "1", "2"]);
    }

    #[test]
    fn projections_values_top_offset_limit() {
        assert_eq!(q("SELECT c.id, c.addr.city FROM c WHERE c.id = '1'", &[]), vec![json!({"id": "1", "city": "Oslo"})]);
        assert_eq!(q("SELECT c.id AS key FROM c WHERE c.id = '2'", &[]), vec![json!({"key": "2"})]);
        assert_eq!(q("SELECT VALUE c.id FROM c ORDER BY c.id", &[]), vec![json!("1"), json!("2"), json!("3"), json!("4")]);
        assert_eq!(q("SELECT TOP 2 VALUE c.id FROM c ORDER BY c.id", &[]), vec![json!("1"), json!("2")]);
        assert_eq!(q("SELECT VALUE c.id FROM c ORDER BY c.id OFFSET 1 LIMIT 2", &[]), vec![json!("2"), json!("3")]);
        assert_eq!(q("SELECT DISTINCT VALUE c.tenant FROM c", &[]), vec![json!("a"), json!("b")]);
    }

    #[test]
    fn functions_in_not_and_is_defined() {
        assert_eq!(ids(&q("SELECT * FROM c WHERE IS_DEFINED(c.tags)", &[])), ["1", "3"]);
        assert_eq!(ids(&q("SELECT * FROM c WHERE NOT IS_DEFINED(c.tags)", &[])), ["2", "4"]);
        assert_eq!(ids(&q("SELECT * FROM c WHERE c.id IN ('2', '4')", &[])), ["2", "4"]);
        assert_eq!(ids(&q("SELECT * FROM c WHERE c.id NOT IN ('2', '4')", &[])), ["1", "3"]);
        assert_eq!(ids(&q("SELECT * FROM c WHERE CONTAINS(c.name, 'an')", &[])), ["2"]);
        assert_eq!(ids(&q("SELECT * FROM c WHERE STARTSWITH(c.name, 'c', true)", &[])), ["3"]);
        assert_eq!(ids(&q("SELECT * FROM c WHERE ARRAY_CONTAINS(c.tags, 'y') OR c.n = 1", &[])), ["1", "2", "3"]);
        assert_eq!(ids(&q("SELECT * FROM c WHERE c.n BETWEEN 2 AND 3", &[])), ["1", "3"]);
    }

    #[test]
    fn comparisons_across_types_are_undefined() {
        assert!(q("SELECT * FROM c WHERE c.n = '3'", &[]).is_empty());
        assert!(q("SELECT * FROM c WHERE c.name > 1", &[]).is_empty());
    }

    #[test]
    fn whole_result_aggregates() {
        assert_eq!(q("SELECT VALUE COUNT(1) FROM c", &[]), vec![json!(4)]);
        assert_eq!(q("SELECT VALUE COUNT(1) FROM c WHERE c.tenant = 'b'", &[]), vec![json!(2)]);
        assert_eq!(q("SELECT VALUE SUM(c.n) FROM c WHERE IS_NUMBER(c.n)", &[]), vec![json!(6)]);
        assert_eq!(q("SELECT COUNT(1) AS total, MAX(c.n) AS top FROM c", &[]), vec![json!({"total": 4, "top": 3})]);
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let e = parse("SELECT * FROM c WHERE", &[]).unwrap_err().to_string();
        assert!(e.contains("end of the query"), "{e}");
        let e = parse("SELEC * FROM c", &[]).unwrap_err().to_string();
        assert!(e.contains("SELECT"), "{e}");
        let e = run(&parse("SELECT * FROM c WHERE c.id = @missing", &[]).unwrap(), docs()).unwrap_err().to_string();
        assert!(e.contains("@missing"), "{e}");
        let e = run(&parse("SELECT * FROM c WHERE FOO(c.id)", &[]).unwrap(), docs()).unwrap_err().to_string();
        assert!(e.contains("FOO"), "{e}");
    }
}
