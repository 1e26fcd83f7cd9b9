//! The portal's pages, one module each.

mod account;
mod create_account;
mod layout;
mod login;
mod password;
mod subscription;
mod subscriptions;

pub use account::AccountPage;
pub use create_account::CreateAccountPage;
pub use layout::{Home, Layout, NotFound};
pub use login::LoginPage;
pub use password::PasswordPage;
pub use subscription::SubscriptionPage;
pub use subscriptions::SubscriptionsPage;
