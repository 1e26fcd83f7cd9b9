//! Running a query one page at a time with memory bounded by the page, not by the container.
//!
//! Rows arrive in scan order, (partition key, id), in batches ([`Run::feed`]); the run keeps
//! only what the page needs and says where the next page starts in a continuation token:
//! - a plain query keeps the page's results and resumes after the last row it consumed;
//! - an aggregate keeps one accumulator per aggregate and resumes with them;
//! - an `ORDER BY` query looks, in one pass over the container (a *round*), for the smallest
//!   rows after the last one it returned, keeping at most about a page of candidates; a token
//!   holds that row's sort keys and position;
//! - `DISTINCT` keeps a 16-byte fingerprint per distinct value, rebuilt on each page from the
//!   rows before the token's position, at most [`MAX_DISTINCT_VALUES`].
//!
//! `OFFSET`, `LIMIT` and `TOP` count the results passed so far, which the token carries.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::Arc;

use super::ast::{Expr, Projection, Query};
use super::eval::{Cx, V, fingerprint, is_aggregate, num, type_order};
use crate::error::EngineError;
use crate::limits::MAX_DISTINCT_VALUES;

/// Where a row sits in a container's scan order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Position {
    pub pk: String,
    pub id: String,
}

/// A row handed to a run: its position, the item as clients see it, and its size.
#[derive(Debug, Clone)]
pub struct Row {
    pub pos: Position,
    pub doc: Value,
    pub bytes: usize,
}

/// How much one page may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimits {
    pub max_items: usize,
    pub max_bytes: usize,
}

/// How a query is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Rows in scan order; a page resumes after the last row consumed.
    Stream,
    /// `ORDER BY`: every page makes one or more rounds over the whole container.
    Ordered,
    /// Aggregates over every row, one result at the end.
    Aggregate,
}

/// What a round or batch left to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Feed more rows (or, at the end of the rows, finish or start another round).
    More,
    /// The page is complete; stop scanning.
    Stop,
}

/// An ORDER BY candidate.
#[derive(Debug, Clone)]
struct Candidate {
    keys: Vec<V>,
    pos: Position,
    result: Value,
    fingerprint: u128,
    bytes: usize,
}

/// A partial aggregate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Acc {
    count: u64,
    numbers: u64,
    sum: f64,
    min: Option<Value>,
    max: Option<Value>,
}

impl Acc {
    fn add(&mut self, v: Value) {
        self.count += 1;
        if let Some(f) = v.as_f64() {
            self.numbers += 1;
            self.sum += f;
        }
        let v = Some(v);
        if self.min.is_none() || type_order(&v, &self.min) == Ordering::Less {
            self.min.clone_from(&v);
        }
        // Ties keep the first minimum and the last maximum.
        if self.max.is_none() || type_order(&v, &self.max) != Ordering::Less {
            self.max = v;
        }
    }

    fn result(&self, name: &str) -> V {
        match name {
            "COUNT" => Some(json!(self.count)),
            "SUM" => (self.numbers == self.count).then(|| num(self.sum)),
            "AVG" => (self.count > 0 && self.numbers == self.count).then(|| num(self.sum / self.numbers as f64)),
            "MIN" => self.min.clone(),
            "MAX" => self.max.clone(),
            _ => None,
        }
    }
}

/// The continuation token, as JSON in `x-ms-continuation`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Token {
    /// The query it continues (text and parameters), so a token is not applied to another.
    q: String,
    /// The last row consumed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at: Option<Position>,
    /// ORDER BY keys of that row: `[]` for undefined, `[v]` for a value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    keys: Option<Vec<Vec<Value>>>,
    /// Results passed so far (skipped by OFFSET or returned).
    #[serde(default)]
    n: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    agg: Option<Vec<Acc>>,
}

/// One page's run of a query.
#[derive(Debug)]
pub struct Run {
    q: Arc<Query>,
    shape: Shape,
    limits: PageLimits,
    offset: u64,
    take: u64,
    passed: u64,
    /// From the token: the last row the previous page consumed.
    resume: Option<Position>,
    resume_keys: Option<Vec<V>>,
    seen: HashSet<u128>,
    results: Vec<Value>,
    bytes: usize,
    last: Option<Position>,
    last_keys: Option<Vec<V>>,
    /// A result is waiting that no longer fits in the page.
    full: bool,
    /// `OFFSET`/`LIMIT`/`TOP` allow no more results.
    finished: bool,
    candidates: Vec<Candidate>,
    candidate_bytes: usize,
    /// The smallest candidate dropped this round: rows from it on wait for a later round.
    bound: Option<(Vec<V>, Position)>,
    accs: Vec<Acc>,
    steps: u64,
}

impl Run {
    /// Starts a page of `q`, continuing from `token` (one this module issued for the same query).
    ///
    /// # Errors
    /// 400 for a token that is not one of this query's, or a TOP/OFFSET/LIMIT that is not a whole
    /// number.
    pub fn new(q: Arc<Query>, token: Option<&str>, limits: PageLimits) -> Result<Self, EngineError> {
        let cx = Cx::new(&q);
        let offset = cx.count_arg(q.offset.as_ref(), "OFFSET")?.unwrap_or(0);
        let limit = cx.count_arg(q.limit.as_ref(), "LIMIT")?;
        let top = cx.count_arg(q.top.as_ref(), "TOP")?;
        let take = limit.unwrap_or(u64::MAX).min(top.unwrap_or(u64::MAX));
        let shape = if is_aggregate(&q.projection) {
            Shape::Aggregate
        } else if q.order_by.is_empty() {
            Shape::Stream
        } else {
            Shape::Ordered
        };
        let bad_token = || EngineError::BadRequest("x-ms-continuation is not a token this query issued".into());
        let t: Token = match token {
            Some(t) => serde_json::from_str(t).map_err(|_| bad_token())?,
            None => Token { q: q.fingerprint.clone(), ..Token::default() },
        };
        if t.q != q.fingerprint {
            return Err(bad_token());
        }
        let aggregates = aggregate_calls(&q).len();
        let accs = match t.agg {
            Some(a) if a.len() == aggregates => a,
            Some(_) => return Err(bad_token()),
            None => vec![Acc::default(); aggregates],
        };
        let resume_keys = match (shape, t.keys) {
            (Shape::Ordered, Some(k)) if k.len() == q.order_by.len() => Some(k.into_iter().map(|v| v.into_iter().next()).collect()),
            (Shape::Ordered, None) if t.at.is_none() => None,
            (Shape::Ordered, _) => return Err(bad_token()),
            _ => None,
        };
        let steps = cx.steps();
        Ok(Self {
            q,
            shape,
            limits,
            offset,
            take,
            passed: t.n,
            resume: t.at.clone(),
            resume_keys: resume_keys.clone(),
            seen: HashSet::new(),
            results: Vec::new(),
            bytes: 0,
            last: t.at,
            last_keys: resume_keys,
            full: false,
            finished: false,
            candidates: Vec::new(),
            candidate_bytes: 0,
            bound: None,
            accs,
            steps,
        })
    }

    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// Where a scan for this page starts: after the resume position for plain queries without
    /// `DISTINCT` and for aggregates; from the beginning otherwise (rounds, and `DISTINCT`, which
    /// must see what earlier pages returned).
    pub fn scan_from(&self) -> Option<Position> {
        match self.shape {
            Shape::Stream if !self.q.distinct => self.resume.clone(),
            Shape::Aggregate => self.resume.clone(),
            _ => None,
        }
    }

    /// Expression nodes evaluated so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Whether any row has been consumed since the page began.
    pub fn advanced(&self) -> bool {
        self.last != self.resume || !self.results.is_empty()
    }

    /// Takes the next rows in scan order.
    ///
    /// # Errors
    /// 400 when an expression cannot be evaluated or `DISTINCT` has seen too many values.
    pub fn feed(&mut self, rows: Vec<Row>) -> Result<Progress, EngineError> {
        let q = Arc::clone(&self.q);
        let cx = Cx::new(&q);
        let out = rows.into_iter().try_fold(Progress::More, |p, row| match p {
            Progress::Stop => Ok(Progress::Stop),
            Progress::More => match self.shape {
                Shape::Stream => self.stream_row(&cx, row),
                Shape::Ordered => self.ordered_row(&cx, row),
                Shape::Aggregate => self.aggregate_row(&cx, row),
            },
        });
        self.steps += cx.steps();
        out
    }

    fn remember(&mut self, fp: u128) -> Result<(), EngineError> {
        if self.seen.insert(fp) && self.seen.len() > MAX_DISTINCT_VALUES {
            return Err(EngineError::BadRequest(format!(
                "a DISTINCT query may see at most {MAX_DISTINCT_VALUES} distinct values; narrow it with WHERE"
            )));
        }
        Ok(())
    }

    fn page_has_room(&self, bytes: usize) -> bool {
        self.results.is_empty() || (self.results.len() < self.limits.max_items && self.bytes + bytes <= self.limits.max_bytes)
    }

    fn stream_row(&mut self, cx: &Cx<'_>, row: Row) -> Result<Progress, EngineError> {
        let distinct = self.q.distinct;
        let before_resume = self.resume.as_ref().is_some_and(|r| row.pos <= *r);
        let result = if before_resume && !distinct {
            None
        } else if cx.keeps(&row.doc)? {
            cx.project(&row.doc)?
        } else {
            None
        };
        let Some(result) = result else {
            if !before_resume {
                self.last = Some(row.pos);
            }
            return Ok(Progress::More);
        };
        let fp = if distinct { fingerprint(&result) } else { 0 };
        if before_resume {
            self.remember(fp)?;
            return Ok(Progress::More);
        }
        if distinct && self.seen.contains(&fp) {
            self.last = Some(row.pos);
            return Ok(Progress::More);
        }
        self.offer(result, fp, row.pos, None)
    }

    /// Passes one result through OFFSET, LIMIT/TOP and the page's room; `Stop` leaves it
    /// unconsumed for the next page.
    fn offer(&mut self, result: Value, fp: u128, pos: Position, keys: Option<Vec<V>>) -> Result<Progress, EngineError> {
        if self.passed >= self.offset.saturating_add(self.take) {
            self.finished = true;
            return Ok(Progress::Stop);
        }
        let bytes = if self.passed < self.offset { 0 } else { result.to_string().len() };
        if self.passed >= self.offset && !self.page_has_room(bytes) {
            self.full = true;
            return Ok(Progress::Stop);
        }
        if self.q.distinct {
            self.remember(fp)?;
        }
        if self.passed >= self.offset {
            self.results.push(result);
            self.bytes += bytes;
        }
        self.passed += 1;
        self.last = Some(pos);
        self.last_keys = keys;
        Ok(Progress::More)
    }

    fn ordered_row(&mut self, cx: &Cx<'_>, row: Row) -> Result<Progress, EngineError> {
        if !cx.keeps(&row.doc)? {
            return Ok(Progress::More);
        }
        let keys = cx.sort_keys(&row.doc)?;
        let after = |k: &[V], p: &Position, bk: &[V], bp: &Position| cx.compare_keys(k, bk).then_with(|| p.cmp(bp));
        let done = match (&self.resume_keys, &self.resume) {
            (Some(k), Some(p)) => after(&keys, &row.pos, k, p) != Ordering::Greater,
            _ => false,
        };
        if done {
            if self.q.distinct
                && let Some(r) = cx.project(&row.doc)?
            {
                self.remember(fingerprint(&r))?;
            }
            return Ok(Progress::More);
        }
        if self.bound.as_ref().is_some_and(|(bk, bp)| after(&keys, &row.pos, bk, bp) != Ordering::Less) {
            return Ok(Progress::More);
        }
        let Some(result) = cx.project(&row.doc)? else { return Ok(Progress::More) };
        let bytes = row.bytes.max(1);
        let fingerprint = if self.q.distinct { fingerprint(&result) } else { 0 };
        self.candidate_bytes += bytes;
        self.candidates.push(Candidate { keys, pos: row.pos, result, fingerprint, bytes });
        let (keep_items, keep_bytes) = self.round_room();
        if self.candidates.len() > 2 * keep_items || self.candidate_bytes > 2 * keep_bytes {
            self.trim_candidates(cx, keep_items, keep_bytes);
        }
        Ok(Progress::More)
    }

    /// How many candidates a round keeps: enough for what OFFSET still skips plus a page, within
    /// twice a page's bounds.
    fn round_room(&self) -> (usize, usize) {
        let skip = usize::try_from(self.offset.saturating_sub(self.passed)).unwrap_or(usize::MAX);
        let items = skip.saturating_add(self.limits.max_items).saturating_add(1).min(2 * self.limits.max_items + 1);
        (items, 2 * self.limits.max_bytes)
    }

    fn sort_candidates(&mut self, cx: &Cx<'_>) {
        self.candidates.sort_by(|a, b| cx.compare_keys(&a.keys, &b.keys).then_with(|| a.pos.cmp(&b.pos)));
    }

    fn trim_candidates(&mut self, cx: &Cx<'_>, items: usize, bytes: usize) {
        self.sort_candidates(cx);
        let mut kept = 0;
        let mut used = 0;
        for c in &self.candidates {
            if kept >= items || (kept > 0 && used + c.bytes > bytes) {
                break;
            }
            kept += 1;
            used += c.bytes;
        }
        if let Some(first_dropped) = self.candidates.get(kept) {
            self.bound = Some((first_dropped.keys.clone(), first_dropped.pos.clone()));
        }
        self.candidates.truncate(kept);
        self.candidate_bytes = used;
    }

    /// Ends an ORDER BY round: returns its candidates in order. `More` means another round is
    /// needed (the page has room and rows remain past what this round kept).
    ///
    /// # Errors
    /// As [`Run::feed`].
    pub fn end_round(&mut self) -> Result<Progress, EngineError> {
        let q = Arc::clone(&self.q);
        let cx = Cx::new(&q);
        let (items, bytes) = self.round_room();
        self.trim_candidates(&cx, items, bytes);
        let bounded = self.bound.take().is_some();
        let candidates = std::mem::take(&mut self.candidates);
        self.candidate_bytes = 0;
        for c in candidates {
            if self.q.distinct && self.seen.contains(&c.fingerprint) {
                self.last = Some(c.pos);
                self.last_keys = Some(c.keys);
                continue;
            }
            if self.offer(c.result, c.fingerprint, c.pos, Some(c.keys))? == Progress::Stop {
                return Ok(Progress::Stop);
            }
        }
        if !bounded {
            self.finished = true;
            return Ok(Progress::Stop);
        }
        // The next round starts after everything this one consumed.
        self.resume.clone_from(&self.last);
        self.resume_keys.clone_from(&self.last_keys);
        self.seen.clear();
        Ok(Progress::More)
    }

    fn aggregate_row(&mut self, cx: &Cx<'_>, row: Row) -> Result<Progress, EngineError> {
        if self.resume.as_ref().is_some_and(|r| row.pos <= *r) {
            return Ok(Progress::More);
        }
        if cx.keeps(&row.doc)? {
            for (acc, (_, args)) in self.accs.iter_mut().zip(aggregate_calls(&self.q)) {
                let v = match args.first() {
                    Some(a) => cx.eval(a, &row.doc)?,
                    None => Some(row.doc.clone()),
                };
                if let Some(v) = v {
                    acc.add(v);
                }
            }
        }
        self.last = Some(row.pos);
        Ok(Progress::More)
    }

    /// The page's results and, when more may follow, the token for the next page. `exhausted`
    /// says whether the scan reached the end of the rows (rather than stopping early).
    pub fn finish(self, exhausted: bool) -> (Vec<Value>, Option<String>) {
        if self.shape == Shape::Aggregate {
            if !exhausted {
                let t = Token { q: self.q.fingerprint.clone(), at: self.last.clone(), agg: Some(self.accs.clone()), ..Token::default() };
                return (Vec::new(), Some(json!(t).to_string()));
            }
            return (aggregate_result(&self.q, &self.accs), None);
        }
        let more = !self.finished && (self.full || !exhausted);
        let token = more.then(|| {
            let keys = self.last_keys.as_ref().map(|k| k.iter().map(|v| v.iter().cloned().collect()).collect());
            json!(Token { q: self.q.fingerprint.clone(), at: self.last.clone(), keys, n: self.passed, agg: None }).to_string()
        });
        (self.results, token)
    }
}

/// The aggregate calls of an aggregate projection, in order.
fn aggregate_calls(q: &Query) -> Vec<(&str, &[Expr])> {
    fn call(e: &Expr) -> Option<(&str, &[Expr])> {
        match e {
            Expr::Call(name, args) => Some((name.as_str(), args.as_slice())),
            _ => None,
        }
    }
    if !is_aggregate(&q.projection) {
        return Vec::new();
    }
    match &q.projection {
        Projection::Value(e) => call(e).into_iter().collect(),
        Projection::Fields(fields) => fields.iter().filter_map(|(e, _)| call(e)).collect(),
        Projection::Star => Vec::new(),
    }
}

fn aggregate_result(q: &Query, accs: &[Acc]) -> Vec<Value> {
    let calls = aggregate_calls(q);
    match &q.projection {
        Projection::Value(_) => calls.first().zip(accs.first()).and_then(|((name, _), acc)| acc.result(name)).into_iter().collect(),
        Projection::Fields(fields) => {
            let mut o = Map::new();
            for (i, (((name, _), acc), (_, alias))) in calls.iter().zip(accs).zip(fields).enumerate() {
                if let Some(v) = acc.result(name) {
                    o.insert(alias.clone().unwrap_or_else(|| format!("${}", i + 1)), v);
                }
            }
            vec![Value::Object(o)]
        }
        Projection::Star => Vec::new(),
    }
}

/// Runs `q` over `docs` (each a full item as returned to clients) and returns every result, page
/// after page: the in-memory form, for a handful of documents (a patch condition, tests).
///
/// # Errors
/// 400 for a query that cannot be evaluated.
pub fn run(q: &Query, docs: impl IntoIterator<Item = Value>) -> Result<Vec<Value>, EngineError> {
    let rows: Vec<Row> = docs
        .into_iter()
        .enumerate()
        .map(|(i, doc)| Row { pos: Position { pk: String::new(), id: format!("{i:020}") }, bytes: doc.to_string().len(), doc })
        .collect();
    let q = Arc::new(q.clone());
    let limits = PageLimits { max_items: crate::limits::MAX_PAGE_ITEMS, max_bytes: crate::limits::MAX_PAGE_BYTES };
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut run = Run::new(Arc::clone(&q), token.as_deref(), limits)?;
        let from = run.scan_from();
        let mut exhausted;
        loop {
            let batch: Vec<Row> = rows.iter().filter(|r| from.as_ref().is_none_or(|f| r.pos > *f)).cloned().collect();
            exhausted = run.feed(batch)? == Progress::More;
            if run.shape() != Shape::Ordered || !exhausted || run.end_round()? == Progress::Stop {
                break;
            }
        }
        let (page, next) = run.finish(exhausted);
        out.extend(page);
        match next {
            Some(t) => token = Some(t),
            None => return Ok(out),
        }
    }
}
