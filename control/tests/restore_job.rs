//! A restore job's life through `control::restore`, against SQLite and a local backup folder:
//! planned once and filed (a new account reserved `Restoring`); a runner that died part-way
//! through writing is taken over once its lease runs out — what it wrote is removed, the plan
//! runs again, and only then is the target `Online`, holding exactly the source as of the
//! restore time; at most three restores of one source run at once.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use backup::entities::restore_job::{self, JobPhase, JobState};
use backup::ship::SegmentBounds;
use backup::storage::BackupStorage;
use chrono::{Duration, Utc};
use control::Ctx;
use control::account_keys::seal_new_keys;
use control::crypto::MasterKey;
use control::db::{account, subscription};
use control::restore::{Options, Outcome, Requester, Target};
use domain::{AccountState, BackupPolicy, ContinuousTier, Redundancy};
use engine::store::{self, ContainerSpec, ImportLog, WriteMode};
use migrations::{Migrator, MigratorTrait};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use std::collections::BTreeMap;

struct World {
    db: DatabaseConnection,
    storage: BackupStorage,
    key: MasterKey,
    keys: backup::keys::KeyWrapKey,
    source: account::Model,
    _dir: tempfile::TempDir,
}

/// A fresh service database: SQLite in `dir`, or a new PostgreSQL database (dropped by
/// [`drop_postgres`]).
async fn connect(postgres: bool, dir: &std::path::Path) -> (DatabaseConnection, Option<(String, String)>) {
    if !postgres {
        let db = Database::connect(format!("sqlite://{}?mode=rwc", dir.join("t.db").display())).await.unwrap();
        db.execute_unprepared("PRAGMA journal_mode=WAL").await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        return (db, None);
    }
    let admin = std::env::var("REWIND_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let name = format!("rewind_c_{n:x}{:x}", std::process::id());
    let conn = Database::connect(&admin).await.expect("PostgreSQL for the postgres tier");
    conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
    let (prefix, _) = admin.rsplit_once('/').unwrap();
    let db = Database::connect(&format!("{prefix}/{name}")).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    (db, Some((admin, name)))
}

async fn drop_postgres(w: World, pg: Option<(String, String)>) {
    drop(w);
    if let Some((admin, name)) = pg {
        let conn = Database::connect(&admin).await.unwrap();
        conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.unwrap();
    }
}

/// Runs a scenario on SQLite and on PostgreSQL.
macro_rules! on_both {
    ($scenario:ident) => {
        mod $scenario {
            #[tokio::test]
            async fn sqlite() {
                let (w, pg) = super::world(false).await;
                let w = super::$scenario(w).await;
                super::drop_postgres(w, pg).await;
            }

            #[tokio::test]
            async fn postgres() {
                let (w, pg) = super::world(true).await;
                let w = super::$scenario(w).await;
                super::drop_postgres(w, pg).await;
            }
        }
    };
}

on_both!(a_job_whose_runner_died_while_writing_is_taken_over_and_restores_exactly);
on_both!(at_most_three_restores_of_one_source_run_at_once);
on_both!(a_plan_is_refused_with_the_reason_and_files_nothing);
on_both!(replicas_claiming_at_once_start_no_more_than_three_restores_of_one_source);

impl World {
    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            db: &self.db,
            backup_storage: &self.storage,
            master_key: &self.key,
            backup_keys: &self.keys,
            public_url: "http://127.0.0.1:3000",
        }
    }
}

const ADMIN: Requester<'static> = Requester { id: "u1", name: "admin" };

/// A continuous account `src` holding `shop/orders` (60 items), fully backed up.
async fn world(postgres: bool) -> (World, Option<(String, String)>) {
    let dir = tempfile::tempdir().unwrap();
    let (db, pg) = connect(postgres, dir.path()).await;
    let storage = BackupStorage::local(&dir.path().join("backups")).unwrap();
    let key = MasterKey::from_bytes(&MasterKey::generate_bytes()).unwrap();
    let now = Utc::now();
    subscription::ActiveModel { id: Set("s".into()), name: Set("S".into()), created_at: Set(now), created_by: Set("admin".into()) }
        .insert(&db)
        .await
        .unwrap();
    let policy = BackupPolicy::Continuous { tier: ContinuousTier::Continuous7Days, redundancy: Redundancy::Local };
    let source = account::ActiveModel {
        id: Set("src-id".into()),
        subscription_id: Set("s".into()),
        name: Set("src".into()),
        region: Set("local".into()),
        api_kind: Set(domain::ApiKind::Sql),
        state: Set(AccountState::Online),
        created_at: Set(now - Duration::minutes(1)),
        deleted_at: Set(None),
        backup_policy: Set(policy),
        key_management: Set(domain::KeyManagement::ServiceManaged),
        create_mode: Set(domain::CreateMode::Default),
        sealed_keys: Set(seal_new_keys(&key, "src-id")),
        restore_parameters: Set(None),
        online_since: Set(None),
        customer_key: Set(None),
        migrated_at: Set(None),
        periodic_retention_hours: Set(None),
    }
    .insert(&db)
    .await
    .unwrap();
    store::create_database(&db, &source.id, "shop", None).await.unwrap();
    let spec = ContainerSpec::from_body(&json!({"id": "orders", "partitionKey": {"paths": ["/tenant"]}})).unwrap();
    store::create_container(&db, &source.id, "shop", spec).await.unwrap();
    let docs: Vec<Value> = (0..60).map(|i| json!({"id": format!("o{i:03}"), "tenant": format!("t{}", i % 4), "n": i})).collect();
    store::import_items(&db, &source.id, "shop", "orders", docs, ImportLog::Logged).await.unwrap();
    let keys = key.backup_key_wrap_key();
    (World { db, storage, key, keys, source, _dir: dir }, pg)
}

/// An instant after everything `world` wrote, backed up (the backup reaches as far as the last
/// change shipped, so something is written after it).
async fn backed_up_instant(w: &World) -> chrono::DateTime<Utc> {
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let at = Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    store::create_database(&w.db, &w.source.id, "later", None).await.unwrap();
    ship(w).await;
    at
}

async fn ship(w: &World) {
    backup::ship::ship_account(&w.db, &w.storage, &w.key.backup_key_wrap_key(), &w.source.id, SegmentBounds::DEFAULT).await.unwrap();
}

/// Item id → user fields.
async fn items(db: &DatabaseConnection, account: &str) -> BTreeMap<String, Value> {
    let (_, _, batch) = store::list_items(db, account, "shop", "orders", None, 1_000, usize::MAX).await.unwrap();
    assert!(!batch.more);
    batch
        .items
        .iter()
        .map(|i| {
            let mut v: Value = serde_json::from_str(&i.body).unwrap();
            v.as_object_mut().unwrap().retain(|k, _| !k.starts_with('_'));
            (i.id.clone(), v)
        })
        .collect()
}

async fn file(w: &World, at: chrono::DateTime<Utc>, name: &str) -> restore_job::Model {
    let options = Options { at, selection: Vec::new(), target: Target::NewAccount { name: name.into(), ttl_disabled: false } };
    let plan = control::restore::plan(&w.ctx(), &w.source, options).await.unwrap();
    assert_eq!((plan.stats.databases, plan.stats.containers), (1, 1));
    control::restore::file(&w.ctx(), ADMIN, &w.source, &plan).await.unwrap()
}

async fn job(db: &DatabaseConnection, id: &str) -> restore_job::Model {
    restore_job::Entity::find_by_id(id.to_owned()).one(db).await.unwrap().unwrap()
}

async fn account_state(db: &DatabaseConnection, id: &str) -> AccountState {
    account::Entity::find_by_id(id.to_owned()).one(db).await.unwrap().unwrap().state
}

async fn a_job_whose_runner_died_while_writing_is_taken_over_and_restores_exactly(w: World) -> World {
    let expected = items(&w.db, &w.source.id).await;
    let at = Utc::now();
    // Changes after the restore point must not come back.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    store::write_item(&w.db, &w.source.id, "shop", "orders", None, json!({"id": "late", "tenant": "t0"}), WriteMode::Create).await.unwrap();
    store::delete_item(&w.db, &w.source.id, "shop", "orders", r#"["t1"]"#, "o001", None).await.unwrap();
    ship(&w).await;

    let filed = file(&w, at, "src-restored").await;
    assert_eq!(filed.state, JobState::Pending);
    assert!(filed.plan.is_some(), "the job keeps its plan");
    assert_eq!(account_state(&w.db, &filed.target_account_id).await, AccountState::Restoring);

    // A runner claimed it, began writing — a database, a container and some wrong items, all
    // under the job's resource ids, as `apply` makes them — and died.
    let target = filed.target_account_id.clone();
    let rid = |c: Option<&str>| Some(backup::restore::owned_rid(&filed.id, "shop", c));
    store::create_database_as(&w.db, &target, "shop", None, rid(None)).await.unwrap();
    let mut spec = ContainerSpec::from_body(&json!({"id": "orders", "partitionKey": {"paths": ["/tenant"]}})).unwrap();
    spec.rid = rid(Some("orders"));
    store::create_container(&w.db, &target, "shop", spec).await.unwrap();
    let junk: Vec<Value> = (0..5).map(|i| json!({"id": format!("half{i}"), "tenant": "t0"})).collect();
    store::import_items(&w.db, &target, "shop", "orders", junk, ImportLog::Unlogged).await.unwrap();
    restore_job::Entity::update_many()
        .col_expr(restore_job::Column::State, Expr::value(JobState::Running))
        .col_expr(restore_job::Column::Phase, Expr::value(JobPhase::Apply))
        .col_expr(restore_job::Column::LeaseOwner, Expr::value("dead"))
        .col_expr(restore_job::Column::LeaseUntil, Expr::value(Utc::now() + Duration::seconds(30)))
        .col_expr(restore_job::Column::StartedAt, Expr::value(Utc::now()))
        .filter(restore_job::Column::Id.eq(&filed.id))
        .exec(&w.db)
        .await
        .unwrap();

    // While its lease holds, nobody else touches it.
    assert_eq!(control::restore::step(&w.ctx(), "alive").await.unwrap(), Outcome::Idle);
    assert_eq!(account_state(&w.db, &target).await, AccountState::Restoring);

    // Once it runs out, another runner takes the job over and restores exactly.
    restore_job::Entity::update_many()
        .col_expr(restore_job::Column::LeaseUntil, Expr::value(Utc::now() - Duration::seconds(1)))
        .filter(restore_job::Column::Id.eq(&filed.id))
        .exec(&w.db)
        .await
        .unwrap();
    assert_eq!(control::restore::step(&w.ctx(), "alive").await.unwrap(), Outcome::Succeeded(filed.id.clone()));
    let done = job(&w.db, &filed.id).await;
    assert_eq!((done.state, done.phase), (JobState::Succeeded, JobPhase::Done));
    assert_eq!(done.items_done, 60, "{}", done.message);
    assert_eq!(account_state(&w.db, &target).await, AccountState::Online);
    assert_eq!(items(&w.db, &target).await, expected, "the restored account differs from the source at the restore time");
    w
}

async fn at_most_three_restores_of_one_source_run_at_once(w: World) -> World {
    let at = backed_up_instant(&w).await;
    let mut jobs = Vec::new();
    for n in 1..=4 {
        jobs.push(file(&w, at, &format!("copy{n}")).await);
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    // Three are running elsewhere under live leases.
    for j in &jobs[..3] {
        restore_job::Entity::update_many()
            .col_expr(restore_job::Column::State, Expr::value(JobState::Running))
            .col_expr(restore_job::Column::LeaseOwner, Expr::value("other"))
            .col_expr(restore_job::Column::LeaseUntil, Expr::value(Utc::now() + Duration::seconds(30)))
            .col_expr(restore_job::Column::StartedAt, Expr::value(Utc::now()))
            .filter(restore_job::Column::Id.eq(&j.id))
            .exec(&w.db)
            .await
            .unwrap();
    }
    assert_eq!(control::restore::step(&w.ctx(), "me").await.unwrap(), Outcome::Idle);
    assert_eq!(job(&w.db, &jobs[3].id).await.state, JobState::Pending);
    // One of them finishes: the fourth may run.
    restore_job::Entity::update_many()
        .col_expr(restore_job::Column::State, Expr::value(JobState::Succeeded))
        .filter(restore_job::Column::Id.eq(&jobs[0].id))
        .exec(&w.db)
        .await
        .unwrap();
    assert_eq!(control::restore::step(&w.ctx(), "me").await.unwrap(), Outcome::Succeeded(jobs[3].id.clone()));
    assert_eq!(account_state(&w.db, &jobs[3].target_account_id).await, AccountState::Online);
    w
}

async fn a_plan_is_refused_with_the_reason_and_files_nothing(w: World) -> World {
    let at = backed_up_instant(&w).await;
    let refuse = |at, selection: &str, name: &str| {
        let options = Options {
            at,
            selection: backup::restore::parse_selection(selection).unwrap(),
            target: Target::NewAccount { name: name.into(), ttl_disabled: false },
        };
        let ctx = w.ctx();
        let source = w.source.clone();
        async move { control::restore::plan(&ctx, &source, options).await.unwrap_err().to_string() }
    };
    let m = refuse(Utc::now() + Duration::hours(1), "", "x-restored").await;
    assert!(m.contains("outside the restorable window"), "{m}");
    let m = refuse(at, "shop/carts", "x-restored").await;
    assert!(m.contains("\"carts\" did not exist"), "{m}");
    let m = refuse(at, "", "src").await;
    assert!(m.contains("already exists"), "{m}");
    let m = refuse(at, "", "Bad Name").await;
    assert!(m.contains("account name may contain only"), "{m}");
    assert_eq!(restore_job::Entity::find().all(&w.db).await.unwrap().len(), 0);
    assert_eq!(account::Entity::find().all(&w.db).await.unwrap().len(), 1, "a refused plan reserved an account");
    w
}

/// Six runners (as on several replicas) claim at once among six filed restores of one source:
/// three win, three find no room, and three run.
async fn replicas_claiming_at_once_start_no_more_than_three_restores_of_one_source(w: World) -> World {
    let at = backed_up_instant(&w).await;
    for n in 1..=6 {
        file(&w, at, &format!("race{n}")).await;
    }
    let claims = (0..6).map(|n| {
        let db = w.db.clone();
        tokio::spawn(async move { control::restore::claim(&db, &format!("runner{n}")).await.unwrap() })
    });
    let mut won = 0;
    for c in claims.collect::<Vec<_>>() {
        won += usize::from(c.await.unwrap().is_some());
    }
    assert_eq!(won, 3);
    let running =
        sea_orm::PaginatorTrait::count(restore_job::Entity::find().filter(restore_job::Column::State.eq(JobState::Running)), &w.db)
            .await
            .unwrap();
    assert_eq!(running, 3);
    w
}
