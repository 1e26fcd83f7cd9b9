//! Recursive-descent parser for the query subset.
//!
//! Recursion follows the query's nesting only, and the nesting is bounded
//! ([`MAX_QUERY_NESTING`]), so no input can exhaust the stack; `AND`, `OR` and `IN` lists are
//! counted against Cosmos DB's clause limits.

use serde_json::{Value, json};
use std::collections::HashMap;

use super::ast::{Expr, Projection, Query, Seg};
use super::lexer::Tok;
use crate::limits::{MAX_IN_ITEMS, MAX_QUERY_ANDS, MAX_QUERY_NESTING, MAX_QUERY_ORS};

pub struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
    ands: usize,
    ors: usize,
}

type R<T> = Result<T, String>;

impl Parser {
    pub fn new(toks: Vec<Tok>) -> Self {
        Self { toks, pos: 0, depth: 0, ands: 0, ors: 0 }
    }

    /// Runs `f` one nesting level deeper, refusing past [`MAX_QUERY_NESTING`].
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> R<T>) -> R<T> {
        if self.depth >= MAX_QUERY_NESTING {
            return Err(format!(
                "the query nests expressions more than {MAX_QUERY_NESTING} levels deep (parentheses, function calls, NOT, array and object literals) {}",
                self.here()
            ));
        }
        self.depth += 1;
        let out = f(self);
        self.depth -= 1;
        out
    }

    fn count(counter: &mut usize, limit: usize, what: &str) -> R<()> {
        *counter += 1;
        if *counter > limit {
            return Err(format!("the query has more than {limit} {what} operators (the limit per query)"));
        }
        Ok(())
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(s)) if s.eq_ignore_ascii_case(kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_kw(&mut self, kw: &str) -> R<()> {
        if self.eat_kw(kw) { Ok(()) } else { Err(format!("expected {kw} {}", self.here())) }
    }

    fn is_sym(&self, s: &str) -> bool {
        matches!(self.peek(), Some(Tok::Sym(x)) if *x == s)
    }

    fn eat_sym(&mut self, s: &str) -> bool {
        if self.is_sym(s) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_sym(&mut self, s: &str) -> R<()> {
        if self.eat_sym(s) { Ok(()) } else { Err(format!("expected '{s}' {}", self.here())) }
    }

    fn here(&self) -> String {
        match self.peek() {
            None => "at the end of the query".into(),
            Some(Tok::Ident(s)) => format!("near {s:?}"),
            Some(Tok::Str(s)) => format!("near '{s}'"),
            Some(Tok::Num(n)) => format!("near {n}"),
            Some(Tok::Param(p)) => format!("near {p}"),
            Some(Tok::Sym(s)) => format!("near '{s}'"),
        }
    }

    fn ident(&mut self) -> R<String> {
        match self.next() {
            Some(Tok::Ident(s)) => Ok(s),
            _ => {
                self.pos -= 1;
                Err(format!("expected a name {}", self.here()))
            }
        }
    }

    /// `SELECT … FROM … [WHERE …] [ORDER BY …] [OFFSET n LIMIT m]`
    pub fn query(&mut self) -> R<Query> {
        self.expect_kw("SELECT")?;
        let distinct = self.eat_kw("DISTINCT");
        let top = if self.eat_kw("TOP") { Some(self.primary()?) } else { None };
        let projection = if self.eat_sym("*") {
            Projection::Star
        } else if self.eat_kw("VALUE") {
            Projection::Value(self.expr()?)
        } else {
            let mut fields = Vec::new();
            loop {
                let e = self.expr()?;
                let named = self.eat_kw("AS") || matches!(self.peek(), Some(Tok::Ident(s)) if !is_keyword(s));
                let alias = if named { Some(self.ident()?) } else { None };
                fields.push((e, alias));
                if !self.eat_sym(",") {
                    break;
                }
            }
            Projection::Fields(fields)
        };
        self.expect_kw("FROM")?;
        let source = self.ident()?;
        let named = self.eat_kw("AS") || matches!(self.peek(), Some(Tok::Ident(s)) if !is_keyword(s));
        let alias = if named { self.ident()? } else { source };
        let filter = if self.eat_kw("WHERE") { Some(self.expr()?) } else { None };
        let mut order_by = Vec::new();
        if self.eat_kw("ORDER") {
            self.expect_kw("BY")?;
            loop {
                let e = self.expr()?;
                let desc = if self.eat_kw("DESC") {
                    true
                } else {
                    self.eat_kw("ASC");
                    false
                };
                order_by.push((e, desc));
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        let (mut offset, mut limit) = (None, None);
        if self.eat_kw("OFFSET") {
            offset = Some(self.primary()?);
            self.expect_kw("LIMIT")?;
            limit = Some(self.primary()?);
        }
        if self.peek().is_some() {
            return Err(format!("unexpected input {}", self.here()));
        }
        Ok(Query { distinct, top, projection, alias, filter, order_by, offset, limit, params: HashMap::new(), fingerprint: String::new() })
    }

    fn expr(&mut self) -> R<Expr> {
        self.nested(|p| {
            let cond = p.or()?;
            if p.eat_sym("?") {
                let a = p.expr()?;
                p.expect_sym(":")?;
                let b = p.expr()?;
                return Ok(Expr::Ternary(Box::new(cond), Box::new(a), Box::new(b)));
            }
            Ok(cond)
        })
    }

    fn or(&mut self) -> R<Expr> {
        let first = self.and()?;
        let mut terms = Vec::new();
        while self.eat_kw("OR") {
            Self::count(&mut self.ors, MAX_QUERY_ORS, "OR")?;
            terms.push(self.and()?);
        }
        Ok(if terms.is_empty() { first } else { Expr::Or(std::iter::once(first).chain(terms).collect()) })
    }

    fn and(&mut self) -> R<Expr> {
        let first = self.not()?;
        let mut terms = Vec::new();
        while self.eat_kw("AND") {
            Self::count(&mut self.ands, MAX_QUERY_ANDS, "AND")?;
            terms.push(self.not()?);
        }
        Ok(if terms.is_empty() { first } else { Expr::And(std::iter::once(first).chain(terms).collect()) })
    }

    fn not(&mut self) -> R<Expr> {
        if self.eat_kw("NOT") {
            return Ok(Expr::Not(Box::new(self.nested(Self::not)?)));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> R<Expr> {
        let l = self.add()?;
        for op in ["=", "!=", "<=", ">=", "<", ">"] {
            if self.eat_sym(op) {
                return Ok(Expr::Cmp(op, Box::new(l), Box::new(self.add()?)));
            }
        }
        let negated = if self.is_kw("NOT") && matches!(self.toks.get(self.pos + 1), Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("IN")) {
            self.pos += 1;
            true
        } else {
            false
        };
        if self.eat_kw("IN") {
            self.expect_sym("(")?;
            let mut items = Vec::new();
            if !self.is_sym(")") {
                loop {
                    if items.len() == MAX_IN_ITEMS {
                        return Err(format!("an IN list may hold at most {MAX_IN_ITEMS} items"));
                    }
                    items.push(self.expr()?);
                    if !self.eat_sym(",") {
                        break;
                    }
                }
            }
            self.expect_sym(")")?;
            return Ok(Expr::In(Box::new(l), items, negated));
        }
        if self.eat_kw("BETWEEN") {
            let lo = self.add()?;
            self.expect_kw("AND")?;
            Self::count(&mut self.ands, MAX_QUERY_ANDS, "AND")?;
            let hi = self.add()?;
            return Ok(Expr::Between(Box::new(l), Box::new(lo), Box::new(hi)));
        }
        Ok(l)
    }

    fn add(&mut self) -> R<Expr> {
        self.chain(&["+", "-", "||"], Self::mul)
    }

    fn mul(&mut self) -> R<Expr> {
        self.chain(&["*", "/", "%"], Self::unary)
    }

    /// `operand (op operand)*` for one precedence level, kept flat.
    fn chain(&mut self, ops: &[&'static str], operand: fn(&mut Self) -> R<Expr>) -> R<Expr> {
        let first = operand(self)?;
        let mut rest = Vec::new();
        while let Some(op) = ops.iter().copied().find(|op| self.is_sym(op)) {
            self.pos += 1;
            rest.push((op, operand(self)?));
        }
        Ok(if rest.is_empty() { first } else { Expr::Chain(Box::new(first), rest) })
    }

    fn unary(&mut self) -> R<Expr> {
        if self.eat_sym("-") {
            return Ok(Expr::Neg(Box::new(self.nested(Self::unary)?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> R<Expr> {
        match self.next() {
            Some(Tok::Num(n)) => Ok(Expr::Lit(json!(n))),
            Some(Tok::Str(s)) => Ok(Expr::Lit(Value::String(s))),
            Some(Tok::Param(p)) => Ok(Expr::Param(p)),
            Some(Tok::Sym("(")) => {
                let e = self.expr()?;
                self.expect_sym(")")?;
                Ok(e)
            }
            Some(Tok::Sym("[")) => {
                let mut items = Vec::new();
                if !self.is_sym("]") {
                    loop {
                        items.push(self.expr()?);
                        if !self.eat_sym(",") {
                            break;
                        }
                    }
                }
                self.expect_sym("]")?;
                Ok(Expr::Array(items))
            }
            Some(Tok::Sym("{")) => {
                let mut fields = Vec::new();
                if !self.is_sym("}") {
                    loop {
                        let k = match self.next() {
                            Some(Tok::Str(s) | Tok::Ident(s)) => s,
                            _ => return Err(format!("expected a property name {}", self.here())),
                        };
                        self.expect_sym(":")?;
                        fields.push((k, self.expr()?));
                        if !self.eat_sym(",") {
                            break;
                        }
                    }
                }
                self.expect_sym("}")?;
                Ok(Expr::Object(fields))
            }
            Some(Tok::Ident(name)) => {
                match name.to_ascii_lowercase().as_str() {
                    "true" => return Ok(Expr::Lit(Value::Bool(true))),
                    "false" => return Ok(Expr::Lit(Value::Bool(false))),
                    "null" => return Ok(Expr::Lit(Value::Null)),
                    "undefined" => return Ok(Expr::Undefined),
                    _ => {}
                }
                if self.eat_sym("(") {
                    let mut args = Vec::new();
                    if !self.is_sym(")") {
                        loop {
                            args.push(self.expr()?);
                            if !self.eat_sym(",") {
                                break;
                            }
                        }
                    }
                    self.expect_sym(")")?;
                    return Ok(Expr::Call(name.to_ascii_uppercase(), args));
                }
                let mut segs = Vec::new();
                loop {
                    if self.eat_sym(".") {
                        segs.push(Seg::Key(self.ident()?));
                    } else if self.eat_sym("[") {
                        match self.next() {
                            Some(Tok::Str(s)) => segs.push(Seg::Key(s)),
                            Some(Tok::Num(n)) if n >= 0.0 && n.fract() == 0.0 => segs.push(Seg::Index(n as usize)),
                            _ => return Err(format!("expected a property name or index inside [] {}", self.here())),
                        }
                        self.expect_sym("]")?;
                    } else {
                        break;
                    }
                }
                Ok(Expr::Path(name, segs))
            }
            _ => {
                self.pos = self.pos.saturating_sub(1);
                Err(format!("expected a value {}", self.here()))
            }
        }
    }
}

fn is_keyword(s: &str) -> bool {
    ["FROM", "WHERE", "ORDER", "OFFSET", "LIMIT", "AND", "OR", "NOT", "IN", "BETWEEN", "ASC", "DESC", "JOIN", "GROUP"]
        .iter()
        .any(|k| s.eq_ignore_ascii_case(k))
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use crate::limits::{MAX_IN_ITEMS, MAX_QUERY_BYTES, MAX_QUERY_NESTING, MAX_QUERY_ORS};

    fn error(sql: &str) -> String {
        parse(sql, &[]).unwrap_err().to_string()
    }

    #[test]
    fn deep_nesting_is_refused_naming_the_limit() {
        let deep = format!("SELECT * FROM c WHERE {}1{}", "(".repeat(2000), ")".repeat(2000));
        let e = error(&deep);
        assert!(e.contains(&MAX_QUERY_NESTING.to_string()) && e.contains("levels deep"), "{e}");
        let nots = format!("SELECT * FROM c WHERE {} true", "NOT ".repeat(5000));
        assert!(error(&nots).contains("levels deep"));
        let minus = format!("SELECT VALUE {}1 FROM c", "- ".repeat(5000));
        assert!(error(&minus).contains("levels deep"));
        let arrays = format!("SELECT VALUE {}1{} FROM c", "[".repeat(3000), "]".repeat(3000));
        assert!(error(&arrays).contains("levels deep"));
        let ok = format!("SELECT * FROM c WHERE {}1{} = 1", "(".repeat(MAX_QUERY_NESTING - 2), ")".repeat(MAX_QUERY_NESTING - 2));
        assert!(parse(&ok, &[]).is_ok());
    }

    #[test]
    fn clause_counts_are_bounded() {
        let ors = |n: usize| format!("SELECT * FROM c WHERE {}", vec!["c.a = 1"; n + 1].join(" OR "));
        assert!(parse(&ors(MAX_QUERY_ORS), &[]).is_ok());
        let e = error(&format!("SELECT * FROM c WHERE {}", vec!["1"; 100_001].join(" OR ")));
        assert!(e.contains("OR") && e.contains(&MAX_QUERY_ORS.to_string()), "{e}");
        let ands = format!("SELECT * FROM c WHERE {}", vec!["c.a = 1"; 1000].join(" AND "));
        assert!(error(&ands).contains("AND"));
        let items = format!("SELECT * FROM c WHERE c.a IN ({})", vec!["1"; MAX_IN_ITEMS + 1].join(","));
        assert!(error(&items).contains(&MAX_IN_ITEMS.to_string()));
    }

    #[test]
    fn long_text_is_refused_before_it_is_read() {
        let long = format!("SELECT * FROM c WHERE c.a = '{}'", "x".repeat(MAX_QUERY_BYTES));
        let e = error(&long);
        assert!(e.contains(&MAX_QUERY_BYTES.to_string()) && e.contains("bytes"), "{e}");
    }

    #[test]
    fn long_flat_chains_are_wide_not_deep() {
        // 60 000 terms: parsing, evaluating and dropping it must not recurse per term.
        let sum = format!("SELECT VALUE {} FROM c", vec!["1"; 60_000].join(" + "));
        let q = parse(&sum, &[]).unwrap();
        let out = crate::query::run(&q, [serde_json::json!({"id": "x"})]).unwrap();
        assert_eq!(out, vec![serde_json::json!(60_000)]);
    }
}
