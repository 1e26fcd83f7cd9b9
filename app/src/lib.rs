//! Rewind's shared crate: the domain model, the portal's components and the server functions
//! behind them. Built with `ssr` into the server and with `hydrate` into the browser bundle;
//! everything under `#[cfg(feature = "ssr")]` (database rows, crypto, sessions) stays on the server.

pub mod access;
pub mod accounts;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod backups;
mod components;
pub use domain::{self, error};
pub mod explorer;
mod pages;
pub mod restore;
pub mod subscriptions;
pub mod tokens;
pub mod users;

#[cfg(feature = "ssr")]
pub use control::{crypto, db};
#[cfg(feature = "ssr")]
pub mod request;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::path;

use crate::auth::{CurrentUser, Login, Logout};
use crate::error::AppError;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="data:,"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Sets the page's Content-Security-Policy: scripts only from this origin or inline with this
/// response's nonce (Leptos marks its hydration scripts with it), WebAssembly compiled from this
/// origin, no plugins, no framing, forms posting only here.
#[cfg(feature = "ssr")]
fn content_security_policy() {
    let (Some(nonce), Some(opts)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>()) else { return };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(v) = http::HeaderValue::from_str(&policy) {
        opts.insert_header(http::header::CONTENT_SECURITY_POLICY, v);
    }
}

/// Sign-in state shared by every page: the login and logout actions, and the current user,
/// refetched whenever either action completes.
#[derive(Clone, Copy)]
pub struct SessionContext {
    pub login: ServerAction<Login>,
    pub logout: ServerAction<Logout>,
    pub user: Resource<Result<Option<CurrentUser>, AppError>>,
}

/// The portal.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let login = ServerAction::<Login>::new();
    let logout = ServerAction::<Logout>::new();
    let user = Resource::new(move || (login.version().get(), logout.version().get()), |_| auth::get_current_user());
    provide_context(SessionContext { login, logout, user });

    // Tests (and people) can tell when the page has become interactive.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Stylesheet id="rewind" href="/pkg/rewind.css"/>
        <Title text="Rewind"/>
        <Router>
            <Routes fallback=|| view! { <pages::NotFound/> }>
                <Route path=path!("/login") view=pages::LoginPage/>
                <ParentRoute path=path!("") view=pages::Layout>
                    <Route path=path!("") view=pages::Home/>
                    <Route path=path!("subscriptions") view=pages::SubscriptionsPage/>
                    <Route path=path!("subscriptions/:sub") view=pages::SubscriptionPage/>
                    <Route path=path!("subscriptions/:sub/new-account") view=pages::CreateAccountPage/>
                    <Route path=path!("subscriptions/:sub/accounts/:account") view=pages::AccountPage/>
                    <Route path=path!("subscriptions/:sub/access") view=pages::AccessPage/>
                    <Route path=path!("subscriptions/:sub/audit") view=pages::AuditPage/>
                    <Route path=path!("subscriptions/:sub/restore") view=pages::RestorePage/>
                    <Route path=path!("subscriptions/:sub/restore/:account") view=pages::RestoreAccountPage/>
                    <Route path=path!("subscriptions/:sub/accounts/:account/access") view=pages::AccessPage/>
                    <Route path=path!("subscriptions/:sub/accounts/:account/explorer") view=pages::ExplorerPage/>
                    <Route path=path!("subscriptions/:sub/accounts/:account/backup") view=pages::BackupPage/>
                    <Route path=path!("users") view=pages::UsersPage/>
                    <Route path=path!("audit") view=pages::AuditPage/>
                    <Route path=path!("password") view=pages::PasswordPage/>
                    <Route path=path!("tokens") view=pages::TokensPage/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
