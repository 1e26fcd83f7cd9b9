//! The one enforcement point: who is calling, what they may do where, and the audit trail of it.
//! Every server function that touches a resource goes through [`ssr::Caller`].

use leptos::prelude::*;

use crate::domain::rbac::Permissions;
use crate::error::AppError;

#[cfg(feature = "ssr")]
pub mod ssr {
    use std::ops::Deref;

    use crate::error::AppError;
    use crate::request;
    use crate::state::AppState;

    use crate::domain::rbac::{Permissions, Scope};
    pub use control::authz::{BUILTIN_PREFIX, account_scope, allows, assignment_scope, granted, role_actions};

    /// The caller of a server function: who (the control plane's [`control::authz::Caller`],
    /// whose rules apply through `Deref`) and the server's state to act with.
    #[derive(Debug, Clone)]
    pub struct Caller {
        pub state: AppState,
        pub who: control::authz::Caller,
    }

    impl Deref for Caller {
        type Target = control::authz::Caller;
        fn deref(&self) -> &Self::Target {
            &self.who
        }
    }

    impl Caller {
        /// The signed-in caller, who must have changed a first-time password already.
        ///
        /// # Errors
        /// 401 without a session; 403 while a password change is pending.
        pub async fn current() -> Result<Self, AppError> {
            let caller = Self::current_allowing_password_change().await?;
            Ok(Self { who: caller.who.password_changed()?, state: caller.state })
        }

        /// The signed-in caller, even with a password change pending.
        ///
        /// # Errors
        /// 401 without a session.
        pub async fn current_allowing_password_change() -> Result<Self, AppError> {
            let state = crate::state::current()?;
            let parts = request::parts()?;
            Self::from_parts(state, &parts).await
        }

        /// The caller of a plain axum handler (outside server functions), password change done.
        ///
        /// # Errors
        /// 401 without a session; 403 while a password change is pending.
        pub async fn from_request(state: AppState, parts: &http::request::Parts) -> Result<Self, AppError> {
            let caller = Self::from_parts(state, parts).await?;
            Ok(Self { who: caller.who.password_changed()?, state: caller.state })
        }

        async fn from_parts(state: AppState, parts: &http::request::Parts) -> Result<Self, AppError> {
            let who = control::authz::Caller::from_session(&state.db, &state.sessions, &parts.headers, request::client_ip(parts)).await?;
            Ok(Self { state, who })
        }
    }

    pub async fn my_permissions(subscription_id: String, account_id: String) -> Result<Permissions, AppError> {
        let caller = Caller::current_allowing_password_change().await?;
        let scope = match (subscription_id.is_empty(), account_id.is_empty()) {
            (true, _) => Scope::Root,
            (false, true) => Scope::Subscription(subscription_id),
            (false, false) => Scope::Account { subscription_id, account_id },
        };
        caller.permissions(&scope).await
    }
}

/// What the signed-in user may do at the root (both ids empty), a subscription, or an account
/// (by id). The portal uses it to hide what the user cannot do; the server checks regardless.
#[server(endpoint = "my_permissions")]
pub async fn my_permissions(subscription_id: String, account_id: String) -> Result<Permissions, AppError> {
    crate::request::respond(ssr::my_permissions(subscription_id, account_id).await)
}
