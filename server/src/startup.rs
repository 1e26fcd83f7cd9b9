//! Building the application from settings and serving it.

use anyhow::Context;
use axum::Router;
use axum::routing::get;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use app::{App, shell};
use control::login_limiter::{LimiterPolicy, LoginLimiter};
use control::state::{AppState, SessionPolicy};

use crate::bootstrap::{self, FirstAdmin};
use crate::config::Settings;
use crate::{audit_export, csrf, dataplane, page_guard};

/// A built, bound, not yet serving Rewind.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    addr: SocketAddr,
    /// How often each account's backups are verified (`None`: never on a schedule).
    verify_every: Option<Duration>,
    restore_workers: u32,
}

impl Application {
    /// Opens and migrates the database, loads the master key, creates the first admin if needed,
    /// and binds the listener.
    ///
    /// # Errors
    /// Any start-up failure, with context naming the step.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = bootstrap::open_database(&settings).await?;
        let master_key = bootstrap::load_master_key(&settings)?;
        match bootstrap::ensure_first_admin(&db, &settings).await? {
            FirstAdmin::Existing => {}
            FirstAdmin::Created { name } => {
                tracing::info!(user = %name, "created the first admin with the configured password");
            }
            FirstAdmin::CreatedWithGeneratedPassword { name, password } => {
                // Printed once, to the console only (not the log), as the README describes.
                println!(
                    "\n  Rewind created the first admin.\n    user:     {name}\n    password: {password}\n  \
                     Sign in and change it; it will not be shown again.\n"
                );
            }
        }
        let backup_storage = bootstrap::open_backup_storage(&settings).await?;

        let listener = TcpListener::bind(settings.bind).await.with_context(|| format!("binding {}", settings.bind))?;
        let addr = listener.local_addr()?;
        let public_url = settings.public_url(addr);

        let backup_keys = bootstrap::backup_keys(&master_key, &settings);
        let state = AppState {
            db,
            backup_keys,
            master_key: Arc::new(master_key),
            sessions: SessionPolicy {
                idle_timeout: Duration::from_secs(settings.session_idle_minutes * 60),
                absolute_timeout: Duration::from_secs(settings.session_absolute_hours * 3600),
                secure_cookie: public_url.starts_with("https://"),
            },
            limiter: Arc::new(LoginLimiter::new(LimiterPolicy {
                per_user: settings.login_failures_per_user,
                per_ip: settings.login_failures_per_ip,
                window: Duration::from_secs(settings.login_window_seconds),
            })),
            public_url,
            backup_storage,
            throttle: Arc::new(engine::throughput::Throttle::for_replicas(settings.replicas)),
            queries: Arc::new(engine::query::QueryGate::for_this_machine()),
            audit_bursts: Arc::new(control::audit_bursts::Bursts::new(Duration::from_secs(settings.login_window_seconds))),
        };
        let router = router(&settings, addr, state.clone());
        let verify_every = (settings.verify_every_hours > 0).then(|| Duration::from_secs(settings.verify_every_hours * 3600));
        Ok(Self { listener, router, state, addr, verify_every, restore_workers: settings.restore_workers })
    }

    /// The address actually bound (tests bind port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state (tests use its database handle).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` is cancelled, then drains in-flight requests.
    ///
    /// # Errors
    /// An I/O error from the listener.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        tracing::info!(url = %self.state.public_url, "Rewind portal listening");
        let owner = format!("replica-{}-{}", std::process::id(), uuid::Uuid::new_v4());
        let ttl = tokio::spawn(crate::workers::ttl_purge::run(self.state.db.clone(), owner.clone(), shutdown.clone()));
        let shipper = tokio::spawn(crate::workers::backup_shipper::run(self.state.clone(), owner.clone(), shutdown.clone()));
        let periodic = tokio::spawn(crate::workers::periodic_backup::run(self.state.clone(), owner.clone(), shutdown.clone()));
        // Several restores at once: each runner claims its own job (its own lease owner).
        let restorers: Vec<_> = (0..self.restore_workers)
            .map(|i| tokio::spawn(crate::workers::restore_runner::run(self.state.clone(), format!("{owner}/restore{i}"), shutdown.clone())))
            .collect();
        let snapshotter = tokio::spawn(crate::workers::snapshotter::run(self.state.clone(), owner.clone(), shutdown.clone()));
        let exporter = tokio::spawn(crate::workers::catalog_exporter::run(self.state.clone(), owner.clone(), shutdown.clone()));
        let verifier = tokio::spawn(crate::workers::verifier::run(self.state.clone(), owner.clone(), self.verify_every, shutdown.clone()));
        let sweeper = tokio::spawn(crate::workers::retention::run(self.state.clone(), owner, shutdown.clone()));
        let bursts = tokio::spawn(crate::workers::audit_bursts::run(self.state.clone(), shutdown.clone()));
        let served = axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown({
                let shutdown = shutdown.clone();
                async move { shutdown.cancelled().await }
            })
            .await
            .context("serving HTTP");
        // However serving ended, stop the workers too.
        shutdown.cancel();
        let _ = tokio::join!(ttl, shipper, periodic, snapshotter, exporter, verifier, sweeper, bursts);
        for r in restorers {
            let _ = r.await;
        }
        served
    }
}

fn router(settings: &Settings, addr: SocketAddr, state: AppState) -> Router {
    let leptos_options = LeptosOptions::builder()
        .output_name("rewind")
        .site_root(settings.site_root.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    let routes = generate_route_list(App);
    let context_state = state.clone();
    let exports = Router::new().route("/audit/export", get(audit_export::export)).with_state(state.clone());
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(exports)
        .merge(crate::rest::router(state.clone()))
        .merge(dataplane::router(state.clone()))
        .leptos_routes_with_context(&leptos_options, routes, move || provide_context(context_state.clone()), {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(leptos_options)
        .layer(axum::middleware::from_fn_with_state(state, page_guard::guard))
        .layer(axum::middleware::from_fn(csrf::protect))
        .layer(axum::middleware::from_fn_with_state(Tls(settings.public_url(addr).starts_with("https://")), security_headers))
        // Nothing anybody sends is read whole beyond this (the data plane allows 4 MiB).
        .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_BODY_BYTES))
}

/// The largest request body the server reads.
pub const MAX_BODY_BYTES: usize = 5 * 1024 * 1024;

/// Whether the portal is served over TLS (its public URL is `https://`).
#[derive(Debug, Clone, Copy)]
struct Tls(bool);

/// Headers every response carries: no framing (clickjacking), no MIME sniffing, no referrer leak;
/// a Content-Security-Policy that allows nothing where a page has not set its own (pages do,
/// with their script nonce); HSTS behind TLS.
async fn security_headers(
    axum::extract::State(Tls(tls)): axum::extract::State<Tls>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert("x-frame-options", http::HeaderValue::from_static("DENY"));
    h.insert("x-content-type-options", http::HeaderValue::from_static("nosniff"));
    h.insert("referrer-policy", http::HeaderValue::from_static("same-origin"));
    if !h.contains_key(http::header::CONTENT_SECURITY_POLICY) {
        h.insert(http::header::CONTENT_SECURITY_POLICY, http::HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"));
    }
    if tls {
        h.insert(http::header::STRICT_TRANSPORT_SECURITY, http::HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
    res
}
