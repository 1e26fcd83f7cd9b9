//! Reading a container's live items in scan order, (partition key, id), a batch at a time.
//!
//! A batch is bounded by rows *and* by bytes: its row sizes are looked up first (an index-order
//! read of keys and lengths), then only the rows that fit are fetched, so no reader holds more
//! than one batch however large the items are.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};

use crate::entities::item;
use crate::error::EngineError;
use crate::store::now_ts;

pub use crate::query::exec::Position;

/// Which rows a scan reads.
#[derive(Debug, Clone, Copy)]
pub struct Range<'a> {
    pub container_rid: &'a str,
    /// One partition (canonical JSON), or all.
    pub partition_key: Option<&'a str>,
    /// Rows strictly after this position; from the start when `None`.
    pub after: Option<&'a Position>,
}

/// `(pk, id)`, the scan order.
fn position() -> Expr {
    Expr::tuple([Expr::col(item::Column::Pk), Expr::col(item::Column::Id)])
}

/// Items whose time to live has not run out.
pub fn live() -> Condition {
    Condition::any().add(item::Column::ExpiresAt.is_null()).add(item::Column::ExpiresAt.gt(now_ts()))
}

fn filtered(range: &Range<'_>) -> Select<item::Entity> {
    let mut q = item::Entity::find().filter(item::Column::ContainerRid.eq(range.container_rid)).filter(live());
    if let Some(pk) = range.partition_key {
        q = q.filter(item::Column::Pk.eq(pk));
    }
    if let Some(p) = range.after {
        // A row-value comparison, which both databases answer from the primary-key index; the
        // equivalent `pk > ? OR (pk = ? AND id > ?)` makes SQLite scan from the start each time.
        q = q.filter(position().gt(Expr::tuple([Expr::val(p.pk.clone()), Expr::val(p.id.clone())])));
    }
    q.order_by_asc(item::Column::Pk).order_by_asc(item::Column::Id)
}

/// A batch of rows in scan order.
#[derive(Debug, Default)]
pub struct Batch {
    pub items: Vec<item::Model>,
    /// Rows remain after these.
    pub more: bool,
}

/// The next rows of `range`: at most `max_rows`, and no more than `max_bytes` of bodies beyond
/// the first row (which is always returned, so a scan always advances).
///
/// # Errors
/// Database errors.
pub async fn batch(c: &impl ConnectionTrait, range: &Range<'_>, max_rows: u64, max_bytes: usize) -> Result<Batch, EngineError> {
    // `octet_length` reads the stored size (SQLite ≥ 3.43, PostgreSQL), not the text.
    let sizes: Vec<(String, String, i64)> = filtered(range)
        .select_only()
        .column(item::Column::Pk)
        .column(item::Column::Id)
        .column_as(Expr::cust("CAST(OCTET_LENGTH(body) AS BIGINT)"), "len")
        .limit(Ord::min(max_rows.saturating_add(1), i64::MAX as u64))
        .into_tuple()
        .all(c)
        .await?;
    let mut used = 0usize;
    let mut fit = 0usize;
    for (_, _, len) in &sizes {
        let len = usize::try_from(*len).unwrap_or(usize::MAX);
        if fit as u64 == max_rows || (fit > 0 && used.saturating_add(len) > max_bytes) {
            break;
        }
        used = used.saturating_add(len);
        fit += 1;
    }
    let Some((last_pk, last_id, _)) = fit.checked_sub(1).and_then(|i| sizes.get(i)) else { return Ok(Batch::default()) };
    // Only the rows sized above: nothing written meanwhile past the last of them slips in.
    let upto = position().lte(Expr::tuple([Expr::val(last_pk.clone()), Expr::val(last_id.clone())]));
    let items = filtered(range).filter(upto).limit(fit as u64).all(c).await?;
    Ok(Batch { items, more: sizes.len() > fit })
}
