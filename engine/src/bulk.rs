//! Writing a batch of new items with PostgreSQL's `COPY … FROM STDIN`, for restores into new
//! containers. A multi-row `INSERT` of a thousand items binds eight thousand parameters, and the
//! server spends more on parsing and binding them than on storing the rows: through it a restore
//! reached 62 % of a bare insert's rate on two cores, where the server's own process shares the
//! cores with Rewind. (On SQLite, in process, a multi-row `INSERT` is as fast as it gets.)

use sea_orm::sqlx::{self, PgPool};
use sea_orm::{DbErr, RuntimeErr};

use crate::entities::item;
use crate::error::EngineError;

/// Writes `rows` (all new items of container `container_rid`) with `COPY` in a transaction of
/// its own, which commits only if the container still exists; answers whether it did (nothing
/// is written when not). The whole batch or nothing: a duplicate id fails it.
///
/// # Errors
/// Database errors.
pub(crate) async fn copy_items(pool: &PgPool, container_rid: &str, rows: &[item::Model]) -> Result<bool, EngineError> {
    copy(pool, container_rid, rows).await.map_err(|e| EngineError::Db(DbErr::Exec(RuntimeErr::SqlxError(e.into()))))
}

async fn copy(pool: &PgPool, container_rid: &str, rows: &[item::Model]) -> Result<bool, sqlx::Error> {
    let mut data = Vec::with_capacity(rows.iter().map(|r| r.body.len() + 128).sum());
    for r in rows {
        copy_line(&mut data, r);
    }
    let mut txn = pool.begin().await?;
    let mut copy = txn.copy_in_raw("COPY items (container_rid, pk, id, rid, body, ts, etag, expires_at) FROM STDIN").await?;
    if let Err(e) = copy.send(data).await {
        let _ = copy.abort("the batch could not be sent").await;
        return Err(e);
    }
    copy.finish().await?;
    // Locked against a deletion until this commits (which then finds these rows).
    let live: Option<(i32,)> =
        sqlx::query_as("SELECT 1 FROM containers WHERE rid = $1 FOR KEY SHARE").bind(container_rid).fetch_optional(&mut *txn).await?;
    if live.is_none() {
        return Ok(false);
    }
    txn.commit().await?;
    Ok(true)
}

/// One row in `COPY`'s text format: tab-separated, `\N` for null, and backslash, tab, newline
/// and carriage return escaped.
fn copy_line(out: &mut Vec<u8>, r: &item::Model) {
    let ts = r.ts.to_string();
    let expires = r.expires_at.map(|e| e.to_string());
    let fields = [
        Some(r.container_rid.as_str()),
        Some(&r.pk),
        Some(&r.id),
        Some(&r.rid),
        Some(&r.body),
        Some(&ts),
        Some(&r.etag),
        expires.as_deref(),
    ];
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        match field {
            None => out.extend_from_slice(b"\\N"),
            Some(text) => escape(out, text),
        }
    }
    out.push(b'\n');
}

fn escape(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    let mut from = 0;
    for (i, b) in bytes.iter().enumerate() {
        let escaped: &[u8] = match b {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            _ => continue,
        };
        out.extend_from_slice(&bytes[from..i]);
        out.extend_from_slice(escaped);
        from = i + 1;
    }
    out.extend_from_slice(&bytes[from..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_lines_escape_what_the_text_format_reserves() {
        let row = item::Model {
            container_rid: "c".into(),
            pk: "[\"a\\tb\"]".into(),
            id: "x\ty\nz\r".into(),
            rid: "r".into(),
            body: r#"{"path":"C:\\dir"}"#.into(),
            ts: 7,
            etag: "\"e\"".into(),
            expires_at: None,
        };
        let mut out = Vec::new();
        copy_line(&mut out, &row);
        assert_eq!(String::from_utf8(out).unwrap(), "c\t[\"a\\\\tb\"]\tx\\ty\\nz\\r\tr\t{\"path\":\"C:\\\\\\\\dir\"}\t7\t\"e\"\t\\N\n");
    }
}
