//! The one enforcement point: who is calling, what they may do where, and the audit trail of
//! it. Every operation on a resource — a portal server function, a REST endpoint — goes through
//! [`Caller::authorize`].

use domain::audit::Outcome;
use domain::error::AppError;
use domain::rbac::{Permissions, Scope, ScopeKind, action_matches, builtin_role};
use http::HeaderMap;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use std::collections::HashSet;

use crate::api_tokens;
use crate::audit::{Record, append_all};
use crate::db::{account, role, role_assignment, subscription, user};
use crate::session::{self, SessionPolicy};

/// The prefix marking a built-in role in `role_assignments.role_id`.
pub const BUILTIN_PREFIX: &str = "builtin:";

/// A signed-in user making this request: every operation on a resource asks it first.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The service database (a cheap handle), where grants are read and the audit is written.
    pub db: DatabaseConnection,
    pub user: user::Model,
    pub via: Credential,
    pub ip: String,
}

/// How the caller signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// The portal's session cookie (the hash of its token).
    Session { hash: String },
    /// An API token, by id and name.
    Token { id: String, name: String },
}

impl Caller {
    /// The signed-in user behind the request's session cookie, coming from `ip`.
    ///
    /// # Errors
    /// 401 without a valid session.
    pub async fn from_session(db: &DatabaseConnection, policy: &SessionPolicy, headers: &HeaderMap, ip: String) -> Result<Self, AppError> {
        match session::authenticate(db, policy, headers).await? {
            Some(auth) => Ok(Self { db: db.clone(), user: auth.user, via: Credential::Session { hash: auth.session_hash }, ip }),
            None => Err(AppError::Unauthenticated("your session has ended; sign in again".into())),
        }
    }

    /// The user behind the request's `Authorization: Bearer` API token, coming from `ip`.
    ///
    /// # Errors
    /// 401 without a token, or with one that is unknown, revoked, expired or whose user is
    /// disabled (one message for all: a guess learns nothing).
    pub async fn from_token(db: &DatabaseConnection, headers: &HeaderMap, ip: String) -> Result<Self, AppError> {
        let Some(secret) = api_tokens::presented(headers) else {
            return Err(AppError::Unauthenticated("send an API token as Authorization: Bearer rwd_…".into()));
        };
        match api_tokens::authenticate(db, secret).await? {
            Some(auth) => {
                Ok(Self { db: db.clone(), user: auth.user, via: Credential::Token { id: auth.token.id, name: auth.token.name }, ip })
            }
            None => Err(AppError::Unauthenticated("the API token is unknown, revoked or expired".into())),
        }
    }

    /// The session this caller came with, if it came with one (not with a token).
    pub fn session_hash(&self) -> Option<&str> {
        match &self.via {
            Credential::Session { hash } => Some(hash),
            Credential::Token { .. } => None,
        }
    }

    /// Refuses with 403 while the user must still change a first-time password.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] while a password change is pending.
    pub fn password_changed(self) -> Result<Self, AppError> {
        if self.user.must_change_password {
            return Err(AppError::Forbidden("change your password before you go on (Change password, top right)".into()));
        }
        Ok(self)
    }

    /// Action patterns granted to the caller at `target`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn permissions(&self, target: &Scope) -> Result<Permissions, AppError> {
        granted(&self.db, &self.user.id, target).await
    }

    /// Whether the caller may do `action` at `target`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn can(&self, action: &str, target: &Scope) -> Result<bool, AppError> {
        Ok(self.permissions(target).await?.allows(action))
    }

    /// Refuses with 403 naming the missing action, and audits the denial.
    ///
    /// The denial is recorded under `target` only if that scope exists and the caller holds
    /// some role in its subscription; otherwise at the root, with what was asked for in the
    /// detail. Nobody can plant rows in the audit view of a subscription they have no part in
    /// by naming it (or something that is not one) in a request.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when not allowed.
    pub async fn authorize(&self, action: &str, target: &Scope, resource: &str) -> Result<(), AppError> {
        if self.can(action, target).await? {
            return Ok(());
        }
        let message = format!("you do not have permission {action} on {resource}");
        let recorded = self.recorded_scope(target).await?;
        let (resource, detail) = if recorded == *target {
            (resource.to_owned(), message.clone())
        } else {
            (recorded.to_string(), format!("{message} (asked at {target})"))
        };
        self.audit(action, &recorded, &resource, Outcome::Denied, &detail).await;
        tracing::info!(user = %self.user.name, %action, %resource, "denied");
        Err(AppError::Forbidden(message))
    }

    /// Where a denial at `target` is recorded: `target` itself when it exists and the caller
    /// sees its subscription, else the root.
    async fn recorded_scope(&self, target: &Scope) -> Result<Scope, AppError> {
        let db = &self.db;
        let (sub, exists) = match target {
            Scope::Root => return Ok(Scope::Root),
            Scope::Subscription(sub) => (sub, subscription::Entity::find_by_id(sub.clone()).one(db).await?.is_some()),
            Scope::Account { subscription_id, account_id } => (
                subscription_id,
                account::Entity::find_by_id(account_id.clone())
                    .filter(account::Column::SubscriptionId.eq(subscription_id))
                    .one(db)
                    .await?
                    .is_some(),
            ),
        };
        Ok(if exists && self.sees_subscription(sub).await? { target.clone() } else { Scope::Root })
    }

    /// Records an entry; a failure to record is logged, never shown to the caller. What a token
    /// did says which token in its detail.
    pub async fn audit(&self, action: &str, target: &Scope, resource: &str, outcome: Outcome, detail: &str) {
        let detail = match &self.via {
            Credential::Session { .. } => detail.to_owned(),
            Credential::Token { name, .. } if detail.is_empty() => format!("with API token {name:?}"),
            Credential::Token { name, .. } => format!("with API token {name:?}: {detail}"),
        };
        let rec = Record {
            user_id: self.user.id.clone(),
            user_name: self.user.name.clone(),
            client_ip: self.ip.clone(),
            action: action.to_owned(),
            scope: target.to_string(),
            resource: resource.to_owned(),
            outcome,
            detail,
        };
        append_all(&self.db, vec![rec]).await;
    }

    /// Audits the outcome of a state-changing action and passes the result on.
    pub async fn audited<T>(&self, action: &str, target: &Scope, resource: &str, result: Result<T, AppError>) -> Result<T, AppError> {
        match &result {
            Ok(_) => self.audit(action, target, resource, Outcome::Succeeded, "").await,
            Err(e) => self.audit(action, target, resource, Outcome::Failed, &e.to_string()).await,
        }
        result
    }

    /// Whether the caller holds any role in or over the subscription (so may see it).
    ///
    /// # Errors
    /// Database errors.
    pub async fn sees_subscription(&self, subscription_id: &str) -> Result<bool, AppError> {
        let rows = assignments_of(&self.db, &self.user.id).await?;
        Ok(rows.iter().any(|a| a.scope_kind == ScopeKind::Root || a.subscription_id == subscription_id))
    }

    /// Ids of subscriptions the caller may see, or `None` for all (a root assignment).
    ///
    /// # Errors
    /// Database errors.
    pub async fn visible_subscriptions(&self) -> Result<Option<HashSet<String>>, AppError> {
        let rows = assignments_of(&self.db, &self.user.id).await?;
        if rows.iter().any(|a| a.scope_kind == ScopeKind::Root) {
            return Ok(None);
        }
        Ok(Some(rows.into_iter().map(|a| a.subscription_id).collect()))
    }
}

/// The scope of an account row.
pub fn account_scope(row: &account::Model) -> Scope {
    row.scope()
}

/// A stored assignment's scope.
pub fn assignment_scope(a: &role_assignment::Model) -> Scope {
    match a.scope_kind {
        ScopeKind::Root => Scope::Root,
        ScopeKind::Subscription => Scope::Subscription(a.subscription_id.clone()),
        ScopeKind::Account => Scope::Account { subscription_id: a.subscription_id.clone(), account_id: a.account_id.clone() },
    }
}

async fn assignments_of(db: &impl ConnectionTrait, user_id: &str) -> Result<Vec<role_assignment::Model>, AppError> {
    Ok(role_assignment::Entity::find().filter(role_assignment::Column::UserId.eq(user_id)).all(db).await?)
}

/// The action patterns of a role id (built-in or custom).
///
/// # Errors
/// Database errors.
pub async fn role_actions(db: &impl ConnectionTrait, role_id: &str) -> Result<Vec<String>, AppError> {
    if let Some(name) = role_id.strip_prefix(BUILTIN_PREFIX) {
        return Ok(builtin_role(name).map(|r| r.actions.iter().map(|a| (*a).to_owned()).collect()).unwrap_or_default());
    }
    let Some(custom) = role::Entity::find_by_id(role_id.to_owned()).one(db).await? else {
        return Ok(Vec::new());
    };
    Ok(serde_json::from_str(&custom.actions).unwrap_or_default())
}

/// Everything `user_id` is granted at `target`, through assignments at or above it.
///
/// # Errors
/// Database errors.
pub async fn granted(db: &impl ConnectionTrait, user_id: &str, target: &Scope) -> Result<Permissions, AppError> {
    let mut granted = Vec::new();
    for a in assignments_of(db, user_id).await? {
        if assignment_scope(&a).covers(target) {
            granted.extend(role_actions(db, &a.role_id).await?);
        }
    }
    granted.sort();
    granted.dedup();
    Ok(Permissions { granted })
}

/// Whether any of `patterns` covers `action` (re-exported for callers holding patterns).
pub fn allows(patterns: &[String], action: &str) -> bool {
    patterns.iter().any(|g| action_matches(g, action))
}
