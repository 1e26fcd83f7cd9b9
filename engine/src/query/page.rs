//! One page of a query over a container: rows read in bounded batches ([`crate::scan`]),
//! evaluated on the blocking pool under the [`QueryGate`], paid for batch by batch from the
//! container's throughput bucket.
//!
//! What a page costs is what it read (1 RU per KB) plus the expression work it did, plus a fixed
//! overhead. Each batch is admitted by the bucket before it is evaluated. A plain query or an
//! aggregate that runs out of throughput part-way returns what it has with a continuation (a page
//! may be short, even empty, as in Cosmos DB); one that cannot start gets a 429. An `ORDER BY`
//! round, which must see every row, runs to its end once admitted and leaves the bucket in debt,
//! so the container's next requests wait until it is paid off.

use sea_orm::ConnectionTrait;
use serde_json::Value;
use std::sync::Arc;

use super::Query;
use super::exec::{PageLimits, Position, Progress, Row, Run, Shape};
use super::gate::QueryGate;
use crate::error::EngineError;
use crate::scan;
use crate::store;
use crate::throughput::{QUERY_OVERHEAD, Throttle, budget, eval_charge, read_charge};

/// How much a scan reads (and evaluates, and pays for) at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batching {
    pub rows: u64,
    pub bytes: usize,
}

impl Batching {
    /// What the server uses.
    pub const DEFAULT: Self = Self { rows: 256, bytes: 1024 * 1024 };
}
/// ORDER BY rounds one request may run before it answers with what it has.
const MAX_ROUNDS: usize = 4;

/// What a query page needs besides the query.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub gate: &'a QueryGate,
    pub throttle: &'a Throttle,
    pub account_id: &'a str,
    pub database: &'a str,
    pub container: &'a str,
    /// One partition (the `x-ms-documentdb-partitionkey` header), or all.
    pub partition_key: Option<&'a str>,
    pub batching: Batching,
}

/// A page of results.
#[derive(Debug, Clone)]
pub struct Page {
    pub container_rid: String,
    pub results: Vec<Value>,
    pub continuation: Option<String>,
    /// Request units charged.
    pub charge: f64,
}

/// Runs one page of `q`, continuing from `token`.
///
/// # Errors
/// 400 for a bad query or token, 404 without the container, 429 when the container's
/// throughput or the account's share of query work is used up.
pub async fn page(
    db: &impl ConnectionTrait,
    cx: Context<'_>,
    q: Arc<Query>,
    token: Option<&str>,
    limits: PageLimits,
) -> Result<Page, EngineError> {
    let (d, coll) = store::get_container(db, cx.account_id, cx.database, cx.container).await?;
    let partition_key = cx.partition_key.map(store::canonical_partition_key).transpose()?;
    let (key, rate) = budget(&d, &coll);
    let mut run = Run::new(q, token, limits)?;
    let _turn = cx.gate.turn(cx.account_id).await?;
    cx.throttle.reserve(&key, rate, QUERY_OVERHEAD)?;
    let mut charge = QUERY_OVERHEAD;
    let mut rounds = 0;
    let exhausted = 'rounds: loop {
        rounds += 1;
        let mut round_charge = 0.0;
        let mut after = run.scan_from();
        loop {
            let range = scan::Range { container_rid: &coll.rid, partition_key: partition_key.as_deref(), after: after.as_ref() };
            let items = scan::batch(db, &range, cx.batching.rows, cx.batching.bytes).await?.items;
            let Some(last) = items.last() else { break };
            after = Some(Position { pk: last.pk.clone(), id: last.id.clone() });
            let bytes: usize = items.iter().map(|i| i.body.len()).sum();
            let cost = read_charge(bytes);
            let round_started = run.shape() == Shape::Ordered && round_charge > 0.0;
            if let Err(e) = cx.throttle.reserve(&key, rate, cost) {
                if round_started {
                    // An ORDER BY round cannot stop half-way: finish it on credit.
                    cx.throttle.debit(&key, rate, cost, std::time::Instant::now());
                } else if run.advanced() {
                    break 'rounds false;
                } else {
                    return Err(e);
                }
            }
            charge += cost;
            round_charge += cost;
            let steps_before = run.steps();
            // Reading the items' JSON is query work too: it happens off the async threads.
            let (d, c) = (d.clone(), coll.clone());
            let (back, progress) = cx
                .gate
                .run(move || {
                    let rows = items
                        .into_iter()
                        .map(|i| {
                            let bytes = i.body.len();
                            let doc = store::item_json(&d, &c, &i)?;
                            Ok(Row { pos: Position { pk: i.pk, id: i.id }, doc, bytes })
                        })
                        .collect::<Result<Vec<_>, EngineError>>();
                    let p = rows.and_then(|rows| run.feed(rows));
                    (run, p)
                })
                .await?;
            run = back;
            let work = eval_charge(run.steps() - steps_before);
            cx.throttle.debit(&key, rate, work, std::time::Instant::now());
            charge += work;
            if progress? == Progress::Stop {
                break 'rounds false;
            }
        }
        if run.shape() != Shape::Ordered || run.end_round()? == Progress::Stop {
            break true;
        }
        if rounds == MAX_ROUNDS {
            break false;
        }
    };
    let (results, continuation) = run.finish(exhausted);
    Ok(Page { container_rid: coll.rid, results, continuation, charge })
}
