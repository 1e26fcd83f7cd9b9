//! The portal's pages, one module each.

mod access;
mod account;
mod audit;
mod backup;
mod create_account;
mod explorer;
mod layout;
mod login;
mod password;
mod restore;
mod restore_account;
mod subscription;
mod subscriptions;
mod tokens;
mod users;

pub use access::AccessPage;
pub use account::AccountPage;
pub use audit::AuditPage;
pub use backup::BackupPage;
pub use create_account::CreateAccountPage;
pub use explorer::ExplorerPage;
pub use layout::{Home, Layout, NotFound};
pub use login::LoginPage;
pub use password::PasswordPage;
pub use restore::RestorePage;
pub use restore_account::RestoreAccountPage;
pub use subscription::SubscriptionPage;
pub use subscriptions::SubscriptionsPage;
pub use tokens::TokensPage;
pub use users::UsersPage;
