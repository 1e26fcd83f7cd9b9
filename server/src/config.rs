//! Typed, layered configuration: built-in defaults, then an optional TOML file (`REWIND_CONFIG`,
//! or `rewind.toml` in the working directory if present), then `REWIND_*` environment variables.
//! Loaded once in `main`; nothing else reads the environment.

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::SecretString;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Every setting Rewind reads. Secrets are [`SecretString`]s, which never print.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address the portal listens on. Port 0 picks a free port (tests).
    #[serde(default = "default_bind")]
    pub bind: SocketAddr,
    /// The portal's external URL, for links and account endpoints. Default `http://<bind>`.
    /// An `https://` URL also marks the session cookie `Secure`.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Folder for the embedded database, backups and the master key.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`. Default: `sqlite://<data_dir>/rewind.db`.
    #[serde(default)]
    pub database_url: Option<SecretString>,
    /// Where backups are written, as a local folder. Default: `<data_dir>/backups`.
    #[serde(default)]
    pub backup_dir: Option<PathBuf>,
    /// Where backups are written, as a URL: `file:///…`, `s3://bucket/prefix` or
    /// `az://container/prefix`. Instead of `backup_dir`, not with it.
    #[serde(default)]
    pub backup_url: Option<String>,
    /// object_store's options for `backup_url` (`aws_endpoint`, `aws_access_key_id`,
    /// `azure_storage_account_name`, …). Values are secrets: they never print.
    #[serde(default)]
    pub backup_options: BTreeMap<String, SecretString>,
    /// The second store of `Zone` redundancy (same region), as a URL. Default: the folder
    /// `<backup_dir>-zone` when backups go to a folder; none otherwise.
    #[serde(default)]
    pub backup_zone_url: Option<String>,
    /// object_store's options for `backup_zone_url`.
    #[serde(default)]
    pub backup_zone_options: BTreeMap<String, SecretString>,
    /// The second store of `Geo` redundancy (another region), as a URL. Default: the folder
    /// `<backup_dir>-geo` when backups go to a folder; none otherwise.
    #[serde(default)]
    pub backup_geo_url: Option<String>,
    /// object_store's options for `backup_geo_url`.
    #[serde(default)]
    pub backup_geo_options: BTreeMap<String, SecretString>,
    /// File holding the 256-bit master key; created (mode 0600) on first start.
    /// Default: `<data_dir>/master.key`.
    #[serde(default)]
    pub master_key_file: Option<PathBuf>,
    /// The master key itself, base64 — for replicas that share one key instead of a file.
    #[serde(default)]
    pub master_key: Option<SecretString>,
    /// Name of the first admin, created when there are no users.
    #[serde(default = "default_admin_user")]
    pub admin_user: String,
    /// The first admin's password; if unset, one is generated and printed once.
    #[serde(default)]
    pub admin_password: Option<SecretString>,
    /// Folder holding `pkg/` (the wasm bundle and CSS).
    #[serde(default = "default_site_root")]
    pub site_root: PathBuf,
    /// Minutes of inactivity after which a session ends.
    #[serde(default = "default_session_idle_minutes")]
    pub session_idle_minutes: u64,
    /// Hours after sign-in after which a session ends.
    #[serde(default = "default_session_absolute_hours")]
    pub session_absolute_hours: u64,
    /// Failed sign-ins allowed per user name per window.
    #[serde(default = "default_login_failures_per_user")]
    pub login_failures_per_user: u32,
    /// Failed sign-ins allowed per client address per window.
    #[serde(default = "default_login_failures_per_ip")]
    pub login_failures_per_ip: u32,
    /// Length of the sign-in throttling window, in seconds.
    #[serde(default = "default_login_window_seconds")]
    pub login_window_seconds: u64,
    /// Log filter when `RUST_LOG` is not set.
    #[serde(default = "default_log")]
    pub log: String,
    /// A directory of customer-managed keys (`<name>.key`, 32 bytes of base64 each) that accounts
    /// may choose to wrap their backup data keys with; none if unset.
    #[serde(default)]
    pub customer_keys_dir: Option<PathBuf>,
    /// Hours between scheduled verifications of an account's backups (every copy read and
    /// checked); 0 turns the schedule off.
    #[serde(default = "default_verify_every_hours")]
    pub verify_every_hours: u64,
    /// Restores this replica runs at once (each a job claimed under its own lease; at most three
    /// per source account across all replicas).
    #[serde(default = "default_restore_workers")]
    pub restore_workers: u32,
    /// How many replicas serve the data plane behind one load balancer: each enforces this share
    /// of every database's and container's throughput.
    #[serde(default = "default_replicas")]
    pub replicas: u32,
}

fn default_bind() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 3000))
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}
fn default_admin_user() -> String {
    "admin".into()
}
fn default_site_root() -> PathBuf {
    PathBuf::from("target/site")
}
fn default_session_idle_minutes() -> u64 {
    30
}
fn default_session_absolute_hours() -> u64 {
    12
}
fn default_login_failures_per_user() -> u32 {
    5
}
fn default_login_failures_per_ip() -> u32 {
    30
}
fn default_login_window_seconds() -> u64 {
    300
}
fn default_verify_every_hours() -> u64 {
    24
}
fn default_restore_workers() -> u32 {
    2
}
fn default_replicas() -> u32 {
    1
}
fn default_log() -> String {
    "info,sqlx=warn,sea_orm=warn".into()
}

/// The keys `REWIND_*` variables may set. Other `REWIND_*` variables (the test suite's, say) are
/// not settings and are ignored, while an unknown key in the file is an error (a typo).
const SETTING_KEYS: &[&str] = &[
    "bind",
    "public_url",
    "data_dir",
    "database_url",
    "backup_dir",
    "backup_url",
    "backup_options",
    "backup_zone_url",
    "backup_zone_options",
    "backup_geo_url",
    "backup_geo_options",
    "master_key_file",
    "master_key",
    "admin_user",
    "admin_password",
    "site_root",
    "session_idle_minutes",
    "session_absolute_hours",
    "login_failures_per_user",
    "login_failures_per_ip",
    "login_window_seconds",
    "log",
    "verify_every_hours",
    "customer_keys_dir",
    "restore_workers",
    "replicas",
];

/// One backup store, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupLocation {
    /// A local folder, created private (0700) at start.
    Folder(PathBuf),
    /// A URL and its object_store options.
    Url { url: String, options: BTreeMap<String, String> },
}

/// The backup stores, as configured: the primary and the second stores of `Zone` and `Geo`
/// redundancy, where there are any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupStores {
    pub primary: BackupLocation,
    pub zone: Option<BackupLocation>,
    pub geo: Option<BackupLocation>,
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Figment(#[from] Box<figment::Error>),
    #[error("public_url must start with http:// or https:// (got {0:?})")]
    PublicUrl(String),
    #[error("admin_user: {0}")]
    AdminUser(String),
    #[error("backup_dir and backup_url both name the backup storage; set one of them")]
    BackupTwice,
    #[error("{0}_options are for {0}_url; set {0}_url to the store they configure")]
    BackupOptionsWithoutUrl(&'static str),
    #[error("restore_workers must be between 1 and {MAX_RESTORE_WORKERS} (got {0})")]
    RestoreWorkers(u32),
    #[error("replicas must be between 1 and {MAX_REPLICAS} (got {0})")]
    Replicas(u32),
    #[error("login_window_seconds must be between 1 and 86400 (a day; got {0})")]
    LoginWindow(u64),
}

/// The most replicas a deployment declares.
pub const MAX_REPLICAS: u32 = 64;

/// The most restores one replica runs at once.
pub const MAX_RESTORE_WORKERS: u32 = 16;

impl Settings {
    /// Defaults, then the TOML file, then `REWIND_*` variables.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the bad key or value.
    pub fn load() -> Result<Self, ConfigError> {
        Self::from_figment(Self::figment())
    }

    /// The layered sources, for [`Self::from_figment`].
    pub fn figment() -> Figment {
        let file = std::env::var_os("REWIND_CONFIG").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("rewind.toml"));
        Figment::new().merge(Toml::file(file)).merge(Env::prefixed("REWIND_").only(SETTING_KEYS))
    }

    /// Extracts and checks settings from any figment (tests build their own).
    ///
    /// # Errors
    /// A [`ConfigError`] naming the bad key or value.
    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let settings: Settings = figment.extract().map_err(Box::new)?;
        if let Some(url) = &settings.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(ConfigError::PublicUrl(url.clone()));
        }
        domain::UserName::parse(&settings.admin_user).map_err(|e| ConfigError::AdminUser(e.to_string()))?;
        if settings.backup_dir.is_some() && settings.backup_url.is_some() {
            return Err(ConfigError::BackupTwice);
        }
        for (name, url, options) in [
            ("backup", &settings.backup_url, &settings.backup_options),
            ("backup_zone", &settings.backup_zone_url, &settings.backup_zone_options),
            ("backup_geo", &settings.backup_geo_url, &settings.backup_geo_options),
        ] {
            if url.is_none() && !options.is_empty() {
                return Err(ConfigError::BackupOptionsWithoutUrl(name));
            }
        }
        if !(1..=MAX_RESTORE_WORKERS).contains(&settings.restore_workers) {
            return Err(ConfigError::RestoreWorkers(settings.restore_workers));
        }
        if !(1..=MAX_REPLICAS).contains(&settings.replicas) {
            return Err(ConfigError::Replicas(settings.replicas));
        }
        if !(1..=86_400).contains(&settings.login_window_seconds) {
            return Err(ConfigError::LoginWindow(settings.login_window_seconds));
        }
        Ok(settings)
    }

    /// The database URL, defaulting to a SQLite file in the data folder.
    pub fn database_url(&self) -> String {
        use secrecy::ExposeSecret;
        match &self.database_url {
            Some(url) => url.expose_secret().to_owned(),
            None => format!("sqlite://{}?mode=rwc", self.data_dir.join("rewind.db").display()),
        }
    }

    /// Where backups go: `backup_url` with its options, or else the local folder; and the
    /// second stores of `Zone` and `Geo` (beside the folder unless configured).
    pub fn backup_storage(&self) -> BackupStores {
        use secrecy::ExposeSecret;
        let at = |url: &Option<String>, options: &BTreeMap<String, SecretString>| {
            url.as_ref().map(|url| BackupLocation::Url {
                url: url.clone(),
                options: options.iter().map(|(k, v)| (k.clone(), v.expose_secret().to_owned())).collect(),
            })
        };
        let (primary, folder) = match at(&self.backup_url, &self.backup_options) {
            Some(url) => (url, None),
            None => {
                let dir = self.backup_dir.clone().unwrap_or_else(|| self.data_dir.join("backups"));
                (BackupLocation::Folder(dir.clone()), Some(dir))
            }
        };
        let beside = |what: &str| folder.as_ref().map(|dir| BackupLocation::Folder(backup::storage::beside(dir, what)));
        BackupStores {
            primary,
            zone: at(&self.backup_zone_url, &self.backup_zone_options).or_else(|| beside("zone")),
            geo: at(&self.backup_geo_url, &self.backup_geo_options).or_else(|| beside("geo")),
        }
    }

    /// Where the master key file is.
    pub fn master_key_file(&self) -> PathBuf {
        self.master_key_file.clone().unwrap_or_else(|| self.data_dir.join("master.key"))
    }

    /// The external base URL without a trailing slash, given the port actually bound.
    pub fn public_url(&self, bound: SocketAddr) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{bound}")).trim_end_matches('/').to_owned()
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's Jail API returns its own large error type
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    fn defaults_need_no_configuration_at_all() {
        Jail::expect_with(|_jail| {
            let s = Settings::from_figment(Settings::figment()).unwrap();
            assert_eq!(s.bind, default_bind());
            assert_eq!(s.database_url(), "sqlite://data/rewind.db?mode=rwc");
            assert_eq!(
                s.backup_storage(),
                BackupStores {
                    primary: BackupLocation::Folder(PathBuf::from("data/backups")),
                    zone: Some(BackupLocation::Folder(PathBuf::from("data/backups-zone"))),
                    geo: Some(BackupLocation::Folder(PathBuf::from("data/backups-geo"))),
                }
            );
            assert_eq!(s.master_key_file(), PathBuf::from("data/master.key"));
            assert_eq!(s.admin_user, "admin");
            assert!(s.admin_password.is_none());
            Ok(())
        });
    }

    #[test]
    fn the_file_overrides_defaults_and_the_environment_overrides_the_file() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "rewind.toml",
                r#"
                    bind = "0.0.0.0:8080"
                    data_dir = "/var/lib/rewind"
                    admin_user = "root-admin"
                "#,
            )?;
            jail.set_env("REWIND_BIND", "127.0.0.1:9090");
            jail.set_env("REWIND_DATABASE_URL", "postgres://db/rewind");
            let s = Settings::from_figment(Settings::figment()).unwrap();
            assert_eq!(s.bind.port(), 9090);
            assert_eq!(s.data_dir, PathBuf::from("/var/lib/rewind"));
            assert_eq!(s.admin_user, "root-admin");
            assert_eq!(s.database_url(), "postgres://db/rewind");
            Ok(())
        });
    }

    #[test]
    fn rewind_config_names_another_file() {
        Jail::expect_with(|jail| {
            jail.create_file("other.toml", "session_idle_minutes = 5")?;
            jail.set_env("REWIND_CONFIG", "other.toml");
            let s = Settings::from_figment(Settings::figment()).unwrap();
            assert_eq!(s.session_idle_minutes, 5);
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        Jail::expect_with(|jail| {
            jail.create_file("rewind.toml", "bnid = \"x\"")?;
            let err = Settings::from_figment(Settings::figment()).unwrap_err().to_string();
            assert!(err.contains("bnid"), "{err}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("REWIND_PUBLIC_URL", "ftp://x");
            let err = Settings::from_figment(Settings::figment()).unwrap_err().to_string();
            assert!(err.contains("public_url"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn other_rewind_variables_are_not_settings() {
        Jail::expect_with(|jail| {
            jail.set_env("REWIND_TEST_POSTGRES_URL", "postgres://elsewhere/x");
            jail.set_env("REWIND_CONFIG", "missing.toml");
            assert!(Settings::from_figment(Settings::figment()).is_ok());
            Ok(())
        });
    }

    #[test]
    fn every_setting_can_come_from_the_environment() {
        // A key missing from SETTING_KEYS would be silently ignored; catch that here.
        Jail::expect_with(|jail| {
            let values = [
                ("bind", "127.0.0.1:1"),
                ("public_url", "https://x"),
                ("data_dir", "/d"),
                ("database_url", "postgres://x/y"),
                ("backup_url", "s3://bucket/prefix"),
                ("backup_options", "{aws_region=\"eu-west-1\"}"),
                ("backup_zone_url", "s3://zone/prefix"),
                ("backup_zone_options", "{aws_region=\"eu-west-1\"}"),
                ("backup_geo_url", "az://geo/prefix"),
                ("backup_geo_options", "{azure_storage_account_name=\"acme\"}"),
                ("master_key_file", "/k"),
                ("master_key", "AAAA"),
                ("admin_user", "root"),
                ("admin_password", "p"),
                ("site_root", "/s"),
                ("session_idle_minutes", "7"),
                ("session_absolute_hours", "8"),
                ("login_failures_per_user", "9"),
                ("login_failures_per_ip", "10"),
                ("login_window_seconds", "11"),
                ("log", "debug"),
                ("verify_every_hours", "12"),
                ("customer_keys_dir", "/keys"),
                ("restore_workers", "3"),
                ("replicas", "4"),
            ];
            // backup_dir excludes backup_url: see `the_backup_storage_is_named_once`.
            assert_eq!(values.len() + 1, SETTING_KEYS.len());
            for (k, v) in values {
                assert!(SETTING_KEYS.contains(&k), "{k}");
                jail.set_env(format!("REWIND_{}", k.to_uppercase()), v);
            }
            let s = Settings::from_figment(Settings::figment()).unwrap();
            assert_eq!(s.bind.port(), 1);
            assert_eq!(s.site_root, PathBuf::from("/s"));
            assert_eq!(s.login_window_seconds, 11);
            assert_eq!(s.log, "debug");
            assert_eq!(s.verify_every_hours, 12);
            assert_eq!(s.customer_keys_dir, Some(PathBuf::from("/keys")));
            assert_eq!((s.restore_workers, s.replicas), (3, 4));
            assert!(s.master_key.is_some() && s.admin_password.is_some());
            let stores = s.backup_storage();
            assert_eq!(
                stores.primary,
                BackupLocation::Url {
                    url: "s3://bucket/prefix".into(),
                    options: BTreeMap::from([("aws_region".into(), "eu-west-1".into())])
                }
            );
            assert!(matches!(stores.zone, Some(BackupLocation::Url { url, .. }) if url == "s3://zone/prefix"));
            assert!(matches!(stores.geo, Some(BackupLocation::Url { url, options }) if url == "az://geo/prefix" && options.len() == 1));
            Ok(())
        });
    }

    #[test]
    fn the_backup_storage_is_named_once() {
        Jail::expect_with(|jail| {
            jail.set_env("REWIND_BACKUP_DIR", "/b");
            let s = Settings::from_figment(Settings::figment()).unwrap();
            assert_eq!(s.backup_storage().primary, BackupLocation::Folder(PathBuf::from("/b")));
            assert_eq!(s.backup_storage().geo, Some(BackupLocation::Folder(PathBuf::from("/b-geo"))));
            jail.set_env("REWIND_BACKUP_URL", "file:///c");
            let e = Settings::from_figment(Settings::figment()).unwrap_err();
            assert!(e.to_string().contains("backup_dir and backup_url"), "{e}");
            jail.clear_env();
            jail.set_env("REWIND_BACKUP_OPTIONS", "{aws_region=\"r\"}");
            let e = Settings::from_figment(Settings::figment()).unwrap_err();
            assert!(e.to_string().contains("backup_options are for backup_url"), "{e}");
            // A store given by URL has no second stores unless they are configured too.
            jail.clear_env();
            jail.set_env("REWIND_BACKUP_URL", "s3://b/p");
            let s = Settings::from_figment(Settings::figment()).unwrap();
            assert_eq!((s.backup_storage().zone, s.backup_storage().geo), (None, None));
            Ok(())
        });
    }

    #[test]
    fn secrets_do_not_print() {
        Jail::expect_with(|jail| {
            jail.set_env("REWIND_ADMIN_PASSWORD", "hunter2-hunter2");
            jail.set_env("REWIND_DATABASE_URL", "postgres://u:pw-secret@db/x");
            jail.set_env("REWIND_BACKUP_URL", "s3://b");
            jail.set_env("REWIND_BACKUP_OPTIONS", "{aws_secret_access_key=\"key-secret\"}");
            let s = Settings::from_figment(Settings::figment()).unwrap();
            let printed = format!("{s:?}");
            assert!(!printed.contains("hunter2") && !printed.contains("pw-secret") && !printed.contains("key-secret"), "{printed}");
            Ok(())
        });
    }
}
