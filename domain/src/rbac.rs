//! The permission model (SPEC §5): actions, built-in roles, scopes. Pure data shared with the
//! browser, which uses it only to hide what a user cannot do; the server decides (`authz`).

#[cfg(feature = "db")]
use sea_orm::sea_query::StringLen;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Every action Rewind checks, modelled on Cosmos DB's resource-provider operations.
pub mod actions {
    pub const SUBSCRIPTIONS_READ: &str = "subscriptions/read";
    pub const SUBSCRIPTIONS_WRITE: &str = "subscriptions/write";
    pub const ACCOUNTS_READ: &str = "accounts/read";
    pub const ACCOUNTS_WRITE: &str = "accounts/write";
    pub const ACCOUNTS_DELETE: &str = "accounts/delete";
    pub const ACCOUNTS_LIST_KEYS: &str = "accounts/listKeys/action";
    pub const ACCOUNTS_REGENERATE_KEY: &str = "accounts/regenerateKey/action";
    pub const ACCOUNTS_BACKUP_POLICY_WRITE: &str = "accounts/backupPolicy/write";
    pub const BACKUPS_READ: &str = "backups/read";
    pub const BACKUPS_VERIFY: &str = "backups/verify/action";
    pub const RESTORABLE_READ: &str = "restorableAccounts/read";
    pub const RESTORE: &str = "restorableAccounts/restore/action";
    pub const RESTORE_REQUESTS_READ: &str = "restoreRequests/read";
    pub const RESTORE_REQUESTS_WRITE: &str = "restoreRequests/write";
    pub const RESTORE_REQUESTS_APPROVE: &str = "restoreRequests/approve/action";
    pub const ROLE_ASSIGNMENTS_READ: &str = "roleAssignments/read";
    pub const ROLE_ASSIGNMENTS_WRITE: &str = "roleAssignments/write";
    pub const ROLE_DEFINITIONS_READ: &str = "roleDefinitions/read";
    pub const ROLE_DEFINITIONS_WRITE: &str = "roleDefinitions/write";
    pub const USERS_READ: &str = "users/read";
    pub const USERS_WRITE: &str = "users/write";
    pub const AUDIT_LOG_READ: &str = "auditLog/read";
    pub const DATA_READ: &str = "data/read";
    pub const DATA_WRITE: &str = "data/write";
}

use actions::*;

/// An action with the words the role editor shows for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionInfo {
    pub name: &'static str,
    pub group: &'static str,
    pub description: &'static str,
}

/// All actions, grouped for the custom-role editor.
pub const ALL_ACTIONS: &[ActionInfo] = &[
    ActionInfo { name: SUBSCRIPTIONS_READ, group: "Subscriptions", description: "See the subscription" },
    ActionInfo { name: SUBSCRIPTIONS_WRITE, group: "Subscriptions", description: "Create and rename subscriptions" },
    ActionInfo { name: ACCOUNTS_READ, group: "Accounts", description: "See accounts and their settings (not keys or data)" },
    ActionInfo { name: ACCOUNTS_WRITE, group: "Accounts", description: "Create and change accounts, databases and containers" },
    ActionInfo { name: ACCOUNTS_DELETE, group: "Accounts", description: "Delete accounts" },
    ActionInfo { name: ACCOUNTS_LIST_KEYS, group: "Accounts", description: "Read account keys (full data access)" },
    ActionInfo {
        name: ACCOUNTS_REGENERATE_KEY,
        group: "Accounts",
        description: "Regenerate an account key (the old one stops working at once)",
    },
    ActionInfo {
        name: ACCOUNTS_BACKUP_POLICY_WRITE,
        group: "Backup",
        description: "Change backup policy and redundancy, migrate to continuous",
    },
    ActionInfo { name: BACKUPS_READ, group: "Backup", description: "See backups, storage used and verification status" },
    ActionInfo { name: BACKUPS_VERIFY, group: "Backup", description: "Run backup verification" },
    ActionInfo { name: RESTORABLE_READ, group: "Restore", description: "See restorable accounts, their events and restore points" },
    ActionInfo { name: RESTORE, group: "Restore", description: "Start restores from the account" },
    ActionInfo { name: RESTORE_REQUESTS_READ, group: "Restore", description: "See periodic-mode restore requests" },
    ActionInfo { name: RESTORE_REQUESTS_WRITE, group: "Restore", description: "File periodic-mode restore requests" },
    ActionInfo { name: RESTORE_REQUESTS_APPROVE, group: "Restore", description: "Approve or reject restore requests" },
    ActionInfo { name: ROLE_ASSIGNMENTS_READ, group: "Access control", description: "See who holds which role" },
    ActionInfo { name: ROLE_ASSIGNMENTS_WRITE, group: "Access control", description: "Grant and remove roles" },
    ActionInfo { name: ROLE_DEFINITIONS_READ, group: "Access control", description: "See role definitions" },
    ActionInfo { name: ROLE_DEFINITIONS_WRITE, group: "Access control", description: "Create and delete custom roles" },
    ActionInfo { name: USERS_READ, group: "Users", description: "See users" },
    ActionInfo { name: USERS_WRITE, group: "Users", description: "Create, disable and enable users" },
    ActionInfo { name: AUDIT_LOG_READ, group: "Audit", description: "Read and export the audit log" },
    ActionInfo { name: DATA_READ, group: "Data", description: "Read items through the portal" },
    ActionInfo { name: DATA_WRITE, group: "Data", description: "Write items through the portal" },
];

/// Whether a granted action pattern covers `wanted`: `*` covers everything, `accounts/*` every
/// action under `accounts/`, anything else only itself.
pub fn action_matches(granted: &str, wanted: &str) -> bool {
    if granted == "*" || granted == wanted {
        return true;
    }
    granted.strip_suffix("/*").is_some_and(|prefix| wanted.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/')))
}

/// A built-in role: fixed, the same everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltinRole {
    pub name: &'static str,
    pub description: &'static str,
    pub actions: &'static [&'static str],
}

pub const OWNER: &str = "Owner";

/// The built-in roles of SPEC §5.
pub const BUILTIN_ROLES: &[BuiltinRole] = &[
    BuiltinRole { name: OWNER, description: "Everything, including role assignments at its scope", actions: &["*"] },
    BuiltinRole {
        name: "Account Contributor",
        description: "Create, change and delete accounts, databases and containers; read keys",
        actions: &[
            SUBSCRIPTIONS_READ,
            ACCOUNTS_READ,
            ACCOUNTS_WRITE,
            ACCOUNTS_DELETE,
            ACCOUNTS_LIST_KEYS,
            ACCOUNTS_REGENERATE_KEY,
            BACKUPS_READ,
            DATA_READ,
            DATA_WRITE,
        ],
    },
    BuiltinRole {
        name: "Account Operator",
        description: "Manage accounts and containers, but never read keys or data",
        actions: &[SUBSCRIPTIONS_READ, ACCOUNTS_READ, ACCOUNTS_WRITE, ACCOUNTS_DELETE, BACKUPS_READ],
    },
    BuiltinRole {
        name: "Backup Operator",
        description: "Change backup policy and redundancy, migrate to continuous, run verification",
        actions: &[SUBSCRIPTIONS_READ, ACCOUNTS_READ, ACCOUNTS_BACKUP_POLICY_WRITE, BACKUPS_READ, BACKUPS_VERIFY],
    },
    BuiltinRole {
        name: "Restore Operator",
        description: "Read restorable resources and start restores",
        actions: &[ACCOUNTS_READ, RESTORABLE_READ, RESTORE, RESTORE_REQUESTS_READ, RESTORE_REQUESTS_WRITE],
    },
    BuiltinRole {
        name: "Support",
        description: "Approve or reject periodic-mode restore requests",
        actions: &[ACCOUNTS_READ, RESTORE_REQUESTS_READ, RESTORE_REQUESTS_APPROVE],
    },
    BuiltinRole {
        name: "Reader",
        description: "Read everything except keys and data",
        actions: &[SUBSCRIPTIONS_READ, ACCOUNTS_READ, BACKUPS_READ, RESTORE_REQUESTS_READ, ROLE_ASSIGNMENTS_READ, ROLE_DEFINITIONS_READ],
    },
];

/// The built-in role of this name.
pub fn builtin_role(name: &str) -> Option<&'static BuiltinRole> {
    BUILTIN_ROLES.iter().find(|r| r.name == name)
}

/// Where a role assignment applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// The whole installation (the first admin's Owner assignment).
    Root,
    /// A subscription and every account in it, live or deleted.
    Subscription(String),
    /// One account (by id) in a subscription.
    Account { subscription_id: String, account_id: String },
}

/// What a role assignment is made at, as stored and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "db", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(feature = "db", sea_orm(rs_type = "String", db_type = "String(StringLen::None)"))]
pub enum ScopeKind {
    #[cfg_attr(feature = "db", sea_orm(string_value = "root"))]
    Root,
    #[cfg_attr(feature = "db", sea_orm(string_value = "subscription"))]
    Subscription,
    #[cfg_attr(feature = "db", sea_orm(string_value = "account"))]
    Account,
}

impl ScopeKind {
    /// As stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeKind::Root => "root",
            ScopeKind::Subscription => "subscription",
            ScopeKind::Account => "account",
        }
    }
}

impl Scope {
    /// Which kind of scope this is.
    pub fn kind(&self) -> ScopeKind {
        match self {
            Scope::Root => ScopeKind::Root,
            Scope::Subscription(_) => ScopeKind::Subscription,
            Scope::Account { .. } => ScopeKind::Account,
        }
    }

    /// Whether an assignment at `self` applies to `target`.
    pub fn covers(&self, target: &Scope) -> bool {
        match (self, target) {
            (Scope::Root, _) => true,
            (Scope::Subscription(a), Scope::Subscription(b)) => a == b,
            (Scope::Subscription(a), Scope::Account { subscription_id, .. }) => a == subscription_id,
            (Scope::Account { account_id: a, .. }, Scope::Account { account_id: b, .. }) => a == b,
            _ => false,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Root => f.write_str("/"),
            Scope::Subscription(s) => write!(f, "/subscriptions/{s}"),
            Scope::Account { subscription_id, account_id } => {
                write!(f, "/subscriptions/{subscription_id}/accounts/{account_id}")
            }
        }
    }
}

/// What the signed-in user may do at one scope, for hiding what they cannot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permissions {
    /// Granted action patterns (may contain wildcards).
    pub granted: Vec<String>,
}

impl Permissions {
    pub fn allows(&self, action: &str) -> bool {
        self.granted.iter().any(|g| action_matches(g, action))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_whole_subtrees_only() {
        assert!(action_matches("*", ACCOUNTS_DELETE));
        assert!(action_matches("accounts/*", ACCOUNTS_LIST_KEYS));
        assert!(!action_matches("accounts/*", "accountsX/read"));
        assert!(!action_matches("accounts/read", ACCOUNTS_WRITE));
        assert!(!action_matches("restorableAccounts/*", ACCOUNTS_READ));
    }

    #[test]
    fn every_builtin_action_is_a_known_action() {
        for role in BUILTIN_ROLES {
            for a in role.actions {
                assert!(*a == "*" || ALL_ACTIONS.iter().any(|i| i.name == *a), "{}: {a}", role.name);
            }
        }
    }

    #[test]
    fn operators_never_get_keys_or_data() {
        let op = builtin_role("Account Operator").unwrap();
        let p = Permissions { granted: op.actions.iter().map(|s| s.to_string()).collect() };
        assert!(p.allows(ACCOUNTS_WRITE));
        assert!(!p.allows(ACCOUNTS_LIST_KEYS) && !p.allows(DATA_READ));
    }

    #[test]
    fn a_subscription_scope_covers_its_accounts_but_not_others() {
        let sub = Scope::Subscription("s1".into());
        let acct = Scope::Account { subscription_id: "s1".into(), account_id: "a".into() };
        let other = Scope::Account { subscription_id: "s2".into(), account_id: "b".into() };
        assert!(sub.covers(&acct) && !sub.covers(&other));
        assert!(!acct.covers(&sub));
        assert!(Scope::Root.covers(&other));
    }
}
