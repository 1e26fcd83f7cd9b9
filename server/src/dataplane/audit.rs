//! The data plane's audit trail: database and container changes made through the REST API (who:
//! which account key), and requests refused for their key (401, 403) — those counted into one
//! row per kind and window (`control::audit_bursts::Bursts`), so that a stream of bad requests cannot grow
//! the log.

use control::audit::{Record, append_all};
use control::authz::account_scope;
use control::db::account;
use control::state::AppState;
use domain::audit::Outcome;
use std::time::Instant;

use super::auth::Authorized;
use super::operation::Operation;
use super::reply::{DataError, Reply};

/// What the audit log names as the actor of a data-plane request.
fn actor(key: &str) -> String {
    format!("account key ({key})")
}

/// Records a database or container change and how it ended.
pub async fn change(state: &AppState, who: &Authorized, ip: &str, action: &str, path: &str, reply: &Result<Reply, DataError>) {
    let scope = account_scope(&who.account);
    let (outcome, detail) = match reply {
        Ok(_) => (Outcome::Succeeded, String::new()),
        Err(e) => (Outcome::Failed, e.to_string()),
    };
    let rec = Record {
        user_id: String::new(),
        user_name: actor(who.key),
        client_ip: ip.to_owned(),
        action: action.to_owned(),
        scope: scope.to_string(),
        resource: format!("{scope}/{path}"),
        outcome,
        detail,
    };
    append_all(&state.db, vec![rec]).await;
}

/// Records a request refused for its key or signature, as one row per kind, address and window.
pub async fn key_refused(state: &AppState, row: &account::Model, ip: &str, operation: &Operation, error: &DataError) {
    let scope = account_scope(row);
    let kind = match error {
        DataError::Forbidden(_) => "dataplane/forbidden",
        _ => "dataplane/unauthorized",
    };
    let rec = Record {
        user_id: String::new(),
        user_name: actor("refused"),
        client_ip: ip.to_owned(),
        action: kind.to_owned(),
        scope: scope.to_string(),
        resource: format!("{scope} ({operation:?})"),
        outcome: Outcome::Denied,
        detail: error.to_string(),
    };
    let key = format!("{kind} {} {ip}", row.id);
    let rows = state.audit_bursts.admit(&key, rec, Instant::now());
    append_all(&state.db, rows).await;
}
