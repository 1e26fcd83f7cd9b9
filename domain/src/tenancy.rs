//! The tenancy and access-control wire types the portal and the REST API show: subscriptions,
//! users, roles and role assignments.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::rbac::ScopeKind;

/// A subscription as the portal lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Subscription {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// Live (not deleted) accounts in it.
    pub account_count: u64,
}

/// A user as the users page lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserSummary {
    pub id: String,
    pub name: String,
    pub disabled: bool,
    pub must_change_password: bool,
    pub created_at: DateTime<Utc>,
}

/// A role as the access-control pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleDefinition {
    /// `builtin:<name>` or a custom role's id.
    pub id: String,
    pub name: String,
    pub description: String,
    pub actions: Vec<String>,
    pub builtin: bool,
}

/// A role assignment, as seen from one scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assignment {
    pub id: String,
    pub user_name: String,
    pub role_id: String,
    pub role_name: String,
    pub scope_kind: ScopeKind,
    /// Granted at a scope above the one being viewed (and managed there).
    pub inherited: bool,
}
