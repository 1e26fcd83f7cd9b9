//! `spawn_app`: a real Rewind on a free port with its own fresh database — a temporary SQLite
//! file, or a PostgreSQL database created for the test and dropped after it.

use figment::Figment;
use figment::providers::Serialized;
use reqwest::{Client, Response, StatusCode};
use rewind_server::{Application, Settings};
use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
/// The first password of users made by [`TestApp::new_user`]…
pub const FIRST_PASSWORD: &str = "first-password-123";
/// …and the one they change it to.
pub const USER_PASSWORD: &str = "changed-password-456";

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running server and a cookie-keeping client for it.
pub struct TestApp {
    pub base: String,
    /// The server's data folder (SQLite file, backups, master key).
    pub data_dir: std::path::PathBuf,
    pub client: Client,
    pub state: control::state::AppState,
    shutdown: CancellationToken,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    data: Option<TempDir>,
    _pg: Option<PgDatabase>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl TestApp {
    /// The PostgreSQL database's URL, if the server runs on one (else its SQLite file is in
    /// [`Self::data_dir`]).
    pub fn postgres_url(&self) -> Option<&str> {
        self._pg.as_ref().map(|pg| pg.url.as_str())
    }

    /// Stops the server, waits until it has, and hands its data folder back (its PostgreSQL
    /// database, if it had one, is dropped).
    pub async fn stop(mut self) -> TempDir {
        self.shutdown.cancel();
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.data.take().expect("the data folder")
    }

    /// Stops the server as [`Self::stop`] does, but keeps its PostgreSQL database for the next
    /// server on it.
    pub async fn stop_keeping_database(mut self) -> (TempDir, Option<PgDatabase>) {
        let pg = self._pg.take();
        (self.stop().await, pg)
    }
}

/// Runs `$name(app)` once per backend, as `sqlite::$name` and `postgres::$name`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await).await
                }
            )*
        }
    };
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, Figment::new()).await
}

/// Like [`spawn_app`], with extra settings merged over the test defaults.
pub async fn spawn_app_with(backend: Backend, overrides: Figment) -> TestApp {
    let data = tempfile::tempdir().expect("temp dir");
    let pg = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(PgDatabase::create().await),
    };
    spawn_app_at(data, pg, overrides).await
}

/// A server on the data folder `data` and, if given, the PostgreSQL database `pg` (else the
/// SQLite file in the folder).
pub async fn spawn_app_at(data: TempDir, pg: Option<PgDatabase>, overrides: Figment) -> TestApp {
    let settings = Settings::from_figment(test_settings(data.path(), pg.as_ref()).merge(overrides)).expect("settings");
    let application = Application::build(settings).await.expect("app builds");
    let base = format!("http://{}", application.addr());
    let state = application.state().clone();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(application.run_until_stopped(shutdown.clone()));
    TestApp {
        base,
        data_dir: data.path().to_path_buf(),
        client: new_client(),
        state,
        shutdown,
        server: Some(server),
        data: Some(data),
        _pg: pg,
    }
}

/// The settings every test server starts from.
fn test_settings(data: &std::path::Path, pg: Option<&PgDatabase>) -> Figment {
    let mut figment = Figment::new()
        .merge(Serialized::default("bind", "127.0.0.1:0"))
        .merge(Serialized::default("data_dir", data.display().to_string()))
        .merge(Serialized::default("admin_user", ADMIN))
        .merge(Serialized::default("admin_password", ADMIN_PASSWORD))
        .merge(Serialized::default("log", "warn"));
    if let Some(pg) = pg {
        figment = figment.merge(Serialized::default("database_url", pg.url.clone()));
    }
    figment
}

/// A client that keeps cookies and does not follow redirects.
pub fn new_client() -> Client {
    Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

impl TestApp {
    /// Calls a server function (`/api/<name>`) with form-encoded arguments, as the browser does.
    pub async fn call(&self, name: &str, args: &[(&str, &str)]) -> Response {
        self.call_with(&self.client, name, args).await
    }

    pub async fn call_with(&self, client: &Client, name: &str, args: &[(&str, &str)]) -> Response {
        client.post(format!("{}/api/{name}", self.base)).form(args).send().await.expect("request")
    }

    pub async fn login(&self) {
        let res = self.call("login", &[("username", ADMIN), ("password", ADMIN_PASSWORD)]).await;
        assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap_or_default());
    }

    /// Creates a subscription and returns its id.
    pub async fn subscription(&self, name: &str) -> String {
        let res = self.call("create_subscription", &[("name", name)]).await;
        let body = json_ok(res).await;
        body["id"].as_str().expect("id").to_owned()
    }

    /// Creates a user as the admin, signs them in on a fresh client and changes their first
    /// password (to [`USER_PASSWORD`]), so the client is ready to use.
    pub async fn new_user(&self, name: &str) -> Client {
        json_ok(self.call("create_user", &[("name", name), ("password", FIRST_PASSWORD)]).await).await;
        let client = new_client();
        json_ok(self.call_with(&client, "login", &[("username", name), ("password", FIRST_PASSWORD)]).await).await;
        json_ok(
            self.call_with(&client, "change_password", &[("current", FIRST_PASSWORD), ("new", USER_PASSWORD), ("confirm", USER_PASSWORD)])
                .await,
        )
        .await;
        client
    }

    /// As the admin, gives `user` the role at the subscription (`account_id` empty) or account.
    pub async fn assign(&self, sub: &str, account_id: &str, user: &str, role_id: &str) {
        json_ok(
            self.call(
                "create_role_assignment",
                &[("subscription_id", sub), ("account_id", account_id), ("user_name", user), ("role_id", role_id)],
            )
            .await,
        )
        .await;
    }

    /// Creates a default (periodic) account.
    pub async fn account(&self, sub: &str, name: &str) -> Value {
        json_ok(self.call("create_account", &[("subscription_id", sub), ("name", name), ("region", "West Europe"), ("mode", "")]).await)
            .await
    }
}

/// Asserts 200 and returns the JSON body.
pub async fn json_ok(res: Response) -> Value {
    let status = res.status();
    let text = res.text().await.expect("body");
    assert_eq!(status, StatusCode::OK, "body: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Asserts the status and returns the error message inside the `AppError` JSON.
pub async fn error_message(res: Response, status: StatusCode) -> String {
    let got = res.status();
    let text = res.text().await.expect("body");
    assert_eq!(got, status, "body: {text}");
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::String(text.clone()));
    match v {
        Value::Object(map) => map.values().next().and_then(|m| m.as_str()).unwrap_or_default().to_owned(),
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// A PostgreSQL database made for one test.
pub struct PgDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

fn pg_admin_url() -> String {
    std::env::var("REWIND_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

impl PgDatabase {
    pub async fn create() -> Self {
        let admin_url = pg_admin_url();
        let name = format!("rewind_t_{}", uuid::Uuid::new_v4().simple());
        let conn = Database::connect(&admin_url).await.unwrap_or_else(|e| panic!("PostgreSQL at {admin_url} is needed for this test: {e}"));
        conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
        let (prefix, _) = admin_url.rsplit_once('/').expect("database URL has a path");
        Self { url: format!("{prefix}/{name}"), admin_url, name }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime; a fresh thread with its own runtime may block.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            rt.block_on(async {
                if let Ok(conn) = Database::connect(&admin_url).await {
                    let _ = conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                }
            });
            Ok::<_, std::io::Error>(())
        })
        .join();
    }
}
