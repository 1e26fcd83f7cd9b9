//! Recursive-descent parser for the query subset.

use serde_json::{Value, json};
use std::collections::HashMap;

use super::ast::{Expr, Projection, Query, Seg};
use super::lexer::Tok;

pub struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

type R<T> = Result<T, String>;

impl Parser {
    pub fn new(toks: Vec<Tok>) -> Self {
        Self { toks, pos: 0 }
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
        Ok(Query { distinct, top, projection, alias, filter, order_by, offset, limit, params: HashMap::new() })
    }

    fn expr(&mut self) -> R<Expr> {
        let cond = self.or()?;
        if self.eat_sym("?") {
            let a = self.expr()?;
            self.expect_sym(":")?;
            let b = self.expr()?;
            return Ok(Expr::Ternary(Box::new(cond), Box::new(a), Box::new(b)));
        }
        Ok(cond)
    }

    fn or(&mut self) -> R<Expr> {
        let mut l = self.and()?;
        while self.eat_kw("OR") {
            l = Expr::Or(Box::new(l), Box::new(self.and()?));
        }
        Ok(l)
    }

    fn and(&mut self) -> R<Expr> {
        let mut l = self.not()?;
        while self.eat_kw("AND") {
            l = Expr::And(Box::new(l), Box::new(self.not()?));
        }
        Ok(l)
    }

    fn not(&mut self) -> R<Expr> {
        if self.eat_kw("NOT") {
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> R<Expr> {
        let l = self.add()?;
        for op in ["=", "!=", "<=", ">=", "<", ">"] {
            if self.eat_sym(op) {
                return Ok(Expr::Bin(op, Box::new(l), Box::new(self.add()?)));
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
            let hi = self.add()?;
            return Ok(Expr::Between(Box::new(l), Box::new(lo), Box::new(hi)));
        }
        Ok(l)
    }

    fn add(&mut self) -> R<Expr> {
        let mut l = self.mul()?;
        loop {
            let op = if self.eat_sym("+") {
                "+"
            } else if self.eat_sym("-") {
                "-"
            } else if self.eat_sym("||") {
                "||"
            } else {
                return Ok(l);
            };
            l = Expr::Bin(op, Box::new(l), Box::new(self.mul()?));
        }
    }

    fn mul(&mut self) -> R<Expr> {
        let mut l = self.unary()?;
        loop {
            let op = if self.eat_sym("*") {
                "*"
            } else if self.eat_sym("/") {
                "/"
            } else if self.eat_sym("%") {
                "%"
            } else {
                return Ok(l);
            };
            l = Expr::Bin(op, Box::new(l), Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> R<Expr> {
        if self.eat_sym("-") {
            return Ok(Expr::Neg(Box::new(self.unary()?)));
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
