//! The audit ledger (SPEC §5): every state-changing action and every denied attempt, appended
//! to a hash chain so that a row altered or removed behind the service's back is detected; the
//! chain's check; queries and the CSV export. It needs only the database: who may read it is
//! decided by the callers above.

use chrono::{NaiveDate, SecondsFormat, SubsecRound, Utc};
use domain::audit::{AuditEntry, AuditFilter, ChainReport, Outcome};
use domain::error::AppError;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use crate::db::audit_entry;

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// One appender per process; across processes the unique `prev_hash` makes a forked chain
/// impossible (the loser retries on top of the winner).
static APPEND: Mutex<()> = Mutex::const_new(());

/// What happened, by whom, where.
#[derive(Debug, Clone)]
pub struct Record {
    pub user_id: String,
    pub user_name: String,
    pub client_ip: String,
    pub action: String,
    pub scope: String,
    pub resource: String,
    pub outcome: Outcome,
    pub detail: String,
}

/// The longest each field may be, in characters: whatever a caller sends, a row stays small
/// (user id, user, client address, action, scope, resource, detail).
const FIELD_CHARS: [usize; 7] = [64, 128, 64, 128, 256, 512, 2000];

/// `s` cut to `max` characters, marked as cut.
fn capped(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_owned(),
    }
}

fn row_hash(row: &audit_entry::Model) -> String {
    let canonical = serde_json::json!([
        row.seq,
        row.at.to_rfc3339_opts(SecondsFormat::Micros, true),
        row.user_id,
        row.user_name,
        row.client_ip,
        row.action,
        row.scope,
        row.resource,
        row.outcome,
        row.detail,
        row.prev_hash,
    ]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// Appends one entry at the end of the chain.
///
/// # Errors
/// [`AppError::Internal`] if the database refuses the insert five times running.
pub async fn append(db: &DatabaseConnection, rec: Record) -> Result<(), AppError> {
    let _guard = APPEND.lock().await;
    let mut last_err = None;
    for _ in 0..5 {
        let last = audit_entry::Entity::find().order_by_desc(audit_entry::Column::Seq).one(db).await?;
        let (seq, prev_hash) = match last {
            Some(l) => (l.seq + 1, l.hash),
            None => (1, GENESIS.to_owned()),
        };
        let [user_id, user, ip, action, scope, resource, detail] = FIELD_CHARS;
        let mut row = audit_entry::Model {
            seq,
            // Microseconds: what PostgreSQL keeps, so the hash survives the round trip.
            at: Utc::now().trunc_subsecs(6),
            user_id: capped(&rec.user_id, user_id),
            user_name: capped(&rec.user_name, user),
            client_ip: capped(&rec.client_ip, ip),
            action: capped(&rec.action, action),
            scope: capped(&rec.scope, scope),
            resource: capped(&rec.resource, resource),
            outcome: rec.outcome,
            detail: capped(&rec.detail, detail),
            prev_hash,
            hash: String::new(),
        };
        row.hash = row_hash(&row);
        let active: audit_entry::ActiveModel = row.into();
        match active.insert(db).await {
            Ok(_) => return Ok(()),
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err.map(AppError::from).unwrap_or(AppError::Internal))
}

/// Appends each of `records` in order; failures are logged, never shown to a caller.
pub async fn append_all(db: &DatabaseConnection, records: Vec<Record>) {
    for rec in records {
        let action = rec.action.clone();
        if let Err(e) = append(db, rec).await {
            tracing::error!(error = %e, %action, "could not write the audit log");
        }
    }
}

/// Walks the whole chain in order and reports the first row that does not fit.
///
/// # Errors
/// Database errors, as [`AppError::Internal`].
pub async fn verify(db: &DatabaseConnection) -> Result<ChainReport, AppError> {
    let mut expected_prev = GENESIS.to_owned();
    let mut expected_seq = 1i64;
    let mut checked = 0u64;
    loop {
        let page = audit_entry::Entity::find()
            .filter(audit_entry::Column::Seq.gte(expected_seq))
            .order_by_asc(audit_entry::Column::Seq)
            .limit(1000)
            .all(db)
            .await?;
        if page.is_empty() {
            return Ok(ChainReport { rows_checked: checked, problem: None });
        }
        for row in page {
            let problem = if row.seq != expected_seq {
                Some(format!("row {expected_seq} is missing"))
            } else if row.prev_hash != expected_prev {
                Some("does not link to the row before it".to_owned())
            } else if row_hash(&row) != row.hash {
                Some("contents were altered after it was written".to_owned())
            } else {
                None
            };
            if let Some(p) = problem {
                return Ok(ChainReport { rows_checked: checked, problem: Some((row.seq, p)) });
            }
            checked += 1;
            expected_seq += 1;
            expected_prev = row.hash;
        }
    }
}

fn parse_bound(field: &str, value: &str, end_of_day: bool) -> Result<Option<chrono::DateTime<Utc>>, AppError> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    let date = NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map_err(|_| AppError::invalid(format!("{field} must be a date (YYYY-MM-DD) or an RFC 3339 time (got {v:?})")))?;
    let time = if end_of_day { date.and_hms_micro_opt(23, 59, 59, 999_999) } else { date.and_hms_opt(0, 0, 0) };
    Ok(time.map(|t| t.and_utc()))
}

/// Entries matching `filter`, newest first, at most `limit`; `scope_prefix` restricts to one
/// subscription's entries.
///
/// # Errors
/// [`AppError::Invalid`] for a malformed time bound.
pub async fn query(
    db: &DatabaseConnection,
    filter: &AuditFilter,
    scope_prefix: Option<&str>,
    limit: u64,
) -> Result<Vec<AuditEntry>, AppError> {
    let mut q = audit_entry::Entity::find();
    if let Some(from) = parse_bound("from", &filter.from, false)? {
        q = q.filter(audit_entry::Column::At.gte(from));
    }
    if let Some(to) = parse_bound("to", &filter.to, true)? {
        q = q.filter(audit_entry::Column::At.lte(to));
    }
    if !filter.user.trim().is_empty() {
        q = q.filter(audit_entry::Column::UserName.eq(filter.user.trim()));
    }
    let action = filter.action.trim();
    if let Some(prefix) = action.strip_suffix('*') {
        q = q.filter(audit_entry::Column::Action.starts_with(prefix));
    } else if !action.is_empty() {
        q = q.filter(audit_entry::Column::Action.eq(action));
    }
    match filter.outcome.trim() {
        "" => {}
        o => q = q.filter(audit_entry::Column::Outcome.eq(o.parse::<Outcome>()?)),
    }
    if let Some(prefix) = scope_prefix {
        // Whole path segments: `/subscriptions/ab` must not match `/subscriptions/abc`.
        q = q.filter(
            sea_orm::Condition::any()
                .add(audit_entry::Column::Scope.eq(prefix))
                .add(audit_entry::Column::Scope.starts_with(format!("{prefix}/"))),
        );
    }
    let rows = q.order_by_desc(audit_entry::Column::Seq).limit(limit).all(db).await?;
    Ok(rows
        .into_iter()
        .map(|r| AuditEntry {
            seq: r.seq,
            at: r.at,
            user_name: r.user_name,
            client_ip: r.client_ip,
            action: r.action,
            scope: r.scope,
            resource: r.resource,
            outcome: r.outcome,
            detail: r.detail,
        })
        .collect())
}

/// The entries as CSV (RFC 4180 quoting). A cell that a spreadsheet would take for a formula
/// (it starts with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`, so that
/// opening the export never runs what somebody typed into a user name.
pub fn to_csv(entries: &[AuditEntry]) -> String {
    fn field(s: &str) -> String {
        let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_owned() };
        if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
    }
    let mut out = String::from("seq,time,user,client_ip,action,scope,resource,outcome,detail\r\n");
    for e in entries {
        let cols = [
            e.seq.to_string(),
            e.at.to_rfc3339_opts(SecondsFormat::Micros, true),
            e.user_name.clone(),
            e.client_ip.clone(),
            e.action.clone(),
            e.scope.clone(),
            e.resource.clone(),
            e.outcome.to_string(),
            e.detail.clone(),
        ];
        out.push_str(&cols.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let e = AuditEntry {
            seq: 1,
            at: Utc::now(),
            user_name: "a".into(),
            client_ip: "127.0.0.1".into(),
            action: "accounts/write".into(),
            scope: "/".into(),
            resource: "x".into(),
            outcome: Outcome::Failed,
            detail: "name \"x\", taken".into(),
        };
        let csv = to_csv(&[e]);
        assert!(csv.ends_with(",failed,\"name \"\"x\"\", taken\"\r\n"), "{csv}");
    }

    #[test]
    fn csv_cells_never_start_a_formula() {
        let e = AuditEntry {
            seq: 1,
            at: Utc::now(),
            user_name: "=HYPERLINK(\"http://evil\",\"x\")".into(),
            client_ip: "127.0.0.1".into(),
            action: "auth/login".into(),
            scope: "/".into(),
            resource: "@SUM(1)".into(),
            outcome: Outcome::Failed,
            detail: "-2+3".into(),
        };
        let csv = to_csv(&[e]);
        assert!(csv.contains(",\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\","), "{csv}");
        assert!(csv.contains(",'@SUM(1),failed,'-2+3\r\n"), "{csv}");
    }

    #[test]
    fn fields_are_capped() {
        assert_eq!(capped("abcdef", 3), "abc…");
        assert_eq!(capped("abc", 3), "abc");
        assert!(FIELD_CHARS.iter().all(|n| *n <= 2000));
    }

    #[test]
    fn time_bounds_accept_dates_and_rfc3339_and_name_the_field() {
        assert!(parse_bound("from", "2026-11-24", false).unwrap().is_some());
        assert!(parse_bound("to", "2026-11-24T10:00:00Z", true).unwrap().is_some());
        let err = parse_bound("from", "yesterday", false).unwrap_err().to_string();
        assert!(err.contains("from") && err.contains("yesterday"), "{err}");
    }
}
