//! Sign-in throttling: a fixed window of failed attempts per user name and per client address,
//! counted in the service database so that every replica counts against the same limits (a
//! deployment of N replicas allows what one does, not N times as much).
//!
//! An attempt is counted *before* its password is checked ([`LoginLimiter::begin`]) and given
//! back if it succeeds, so concurrent attempts — on any replica — cannot all slip through while
//! the first ones are still being verified: each is one conditional increment (`failures <
//! limit`), which the database applies one at a time. Names that do not exist are counted too,
//! so the limiter's answers do not reveal which users exist. A throttled attempt writes nothing
//! (it is refused on a read), so a flood of them costs the database reads only. Rows of windows
//! that ended go at the next attempt.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};
use std::time::Duration;

use crate::db::login_failure;

/// Limits for [`LoginLimiter`].
#[derive(Debug, Clone, Copy)]
pub struct LimiterPolicy {
    /// Failed attempts allowed per user name within one window.
    pub per_user: u32,
    /// Failed attempts allowed per client address within one window.
    pub per_ip: u32,
    /// Length of the window that starts at the first failure.
    pub window: Duration,
}

impl Default for LimiterPolicy {
    fn default() -> Self {
        Self { per_user: 5, per_ip: 30, window: Duration::from_secs(300) }
    }
}

/// Which limit an attempt ran into, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after: Duration,
    pub by_user: bool,
}

/// Counts failed sign-ins; see the module docs.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    policy: LimiterPolicy,
}

impl LoginLimiter {
    pub fn new(policy: LimiterPolicy) -> Self {
        Self { policy }
    }

    /// The window, at most a day (the setting is checked against that; this keeps the
    /// arithmetic on times from overflowing whatever it is given).
    fn window(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.policy.window).unwrap_or(chrono::Duration::MAX).min(chrono::Duration::days(1))
    }

    /// Counts an attempt for `user` from `ip` at `now` if both are below their limits, before
    /// the password is checked; [`LoginLimiter::succeeded`] gives it back.
    ///
    /// # Errors
    /// `Ok(Err(Throttled))` with the time until the blocking window ends (nothing is counted
    /// then); database errors.
    pub async fn begin(&self, db: &impl ConnectionTrait, user: &str, ip: &str, now: DateTime<Utc>) -> Result<Result<(), Throttled>, DbErr> {
        let limits = [(user_key(user), self.policy.per_user, true), (ip_key(ip), self.policy.per_ip, false)];
        // Refused on a read when either limit is reached: a flood of throttled attempts writes nothing.
        for (key, limit, by_user) in &limits {
            if let Some(t) = self.blocked(db, key, *limit, *by_user, now).await? {
                return Ok(Err(t));
            }
        }
        // Windows that ended go (theirs are counted afresh below).
        login_failure::Entity::delete_many().filter(login_failure::Column::Started.lte(now - self.window())).exec(db).await?;
        let mut counted: Vec<&str> = Vec::new();
        for (key, limit, by_user) in &limits {
            login_failure::Entity::insert(login_failure::ActiveModel { key: Set(key.clone()), started: Set(now), failures: Set(0) })
                .on_conflict(sea_orm::sea_query::OnConflict::column(login_failure::Column::Key).do_nothing().to_owned())
                .exec_without_returning(db)
                .await?;
            let limit = i32::try_from(*limit).unwrap_or(i32::MAX);
            let up = login_failure::Entity::update_many()
                .col_expr(login_failure::Column::Failures, Expr::col(login_failure::Column::Failures).add(1))
                .filter(login_failure::Column::Key.eq(key))
                .filter(login_failure::Column::Failures.lt(limit))
                .exec(db)
                .await?;
            if up.rows_affected == 0 {
                // Another attempt (here or on another replica) took the last one meanwhile.
                for k in counted {
                    give_back(db, k).await?;
                }
                let t = self.blocked(db, key, limit.unsigned_abs(), *by_user, now).await?;
                return Ok(Err(t.unwrap_or(Throttled { retry_after: self.policy.window, by_user: *by_user })));
            }
            counted.push(key);
        }
        Ok(Ok(()))
    }

    /// The throttle on `key`, if its window has `limit` failures already.
    async fn blocked(
        &self,
        db: &impl ConnectionTrait,
        key: &str,
        limit: u32,
        by_user: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<Throttled>, DbErr> {
        let Some(row) = login_failure::Entity::find_by_id(key.to_owned()).one(db).await? else { return Ok(None) };
        let ends = row.started + self.window();
        if row.failures.unsigned_abs() < limit || ends <= now {
            return Ok(None);
        }
        Ok(Some(Throttled { retry_after: (ends - now).to_std().unwrap_or_default(), by_user }))
    }

    /// A successful sign-in clears the user's count and gives its attempt back to the address.
    ///
    /// # Errors
    /// Database errors.
    pub async fn succeeded(&self, db: &impl ConnectionTrait, user: &str, ip: &str) -> Result<(), DbErr> {
        login_failure::Entity::delete_by_id(user_key(user)).exec(db).await?;
        give_back(db, &ip_key(ip)).await
    }
}

async fn give_back(db: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    login_failure::Entity::update_many()
        .col_expr(login_failure::Column::Failures, Expr::col(login_failure::Column::Failures).sub(1))
        .filter(login_failure::Column::Key.eq(key))
        .filter(login_failure::Column::Failures.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

fn user_key(user: &str) -> String {
    format!("user:{}", user.to_lowercase())
}

fn ip_key(ip: &str) -> String {
    format!("ip:{ip}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use migrations::{Migrator, MigratorTrait};
    use sea_orm::{Database, DatabaseConnection};

    async fn db() -> (DatabaseConnection, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::connect(format!("sqlite://{}?mode=rwc", dir.path().join("l.db").display())).await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        (db, dir)
    }

    fn limiter() -> LoginLimiter {
        LoginLimiter::new(LimiterPolicy { per_user: 3, per_ip: 5, window: Duration::from_secs(60) })
    }

    fn secs(n: i64) -> chrono::Duration {
        chrono::Duration::seconds(n)
    }

    #[tokio::test]
    async fn a_user_is_throttled_after_the_allowed_attempts_until_the_window_ends() {
        let (db, _dir) = db().await;
        let l = limiter();
        let t0 = Utc::now();
        for _ in 0..3 {
            assert!(l.begin(&db, "alice", "1.1.1.1", t0).await.unwrap().is_ok());
        }
        let t = l.begin(&db, "alice", "1.1.1.1", t0 + secs(20)).await.unwrap().unwrap_err();
        assert!(t.by_user);
        assert_eq!(t.retry_after, Duration::from_secs(40));
        assert!(l.begin(&db, "alice", "1.1.1.1", t0 + secs(60)).await.unwrap().is_ok());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn attempts_are_counted_before_they_are_verified_whichever_replica_takes_them() {
        // Twelve attempts at once over two limiters on one database (two replicas): only the
        // allowed three start.
        let (db, _dir) = db().await;
        let replicas = [std::sync::Arc::new(limiter()), std::sync::Arc::new(limiter())];
        let t0 = Utc::now();
        let mut set = tokio::task::JoinSet::new();
        for i in 0..12 {
            let (db, l) = (db.clone(), std::sync::Arc::clone(&replicas[i % 2]));
            set.spawn(async move { l.begin(&db, "dave", "4.4.4.4", t0).await.unwrap().is_ok() });
        }
        let started = set.join_all().await.into_iter().filter(|ok| *ok).count();
        assert_eq!(started, 3);
    }

    #[tokio::test]
    async fn an_address_is_throttled_across_user_names() {
        let (db, _dir) = db().await;
        let l = limiter();
        let t0 = Utc::now();
        for i in 0..5 {
            assert!(l.begin(&db, &format!("user{i}"), "2.2.2.2", t0).await.unwrap().is_ok());
        }
        let t = l.begin(&db, "someone-else", "2.2.2.2", t0).await.unwrap().unwrap_err();
        assert!(!t.by_user);
        assert!(l.begin(&db, "someone-else", "3.3.3.3", t0).await.unwrap().is_ok());
    }

    #[tokio::test]
    async fn success_clears_the_user_count_and_returns_the_address_attempt() {
        let (db, _dir) = db().await;
        let l = limiter();
        let t0 = Utc::now();
        l.begin(&db, "bob", "1.1.1.1", t0).await.unwrap().unwrap();
        l.begin(&db, "bob", "1.1.1.1", t0).await.unwrap().unwrap();
        l.succeeded(&db, "bob", "1.1.1.1").await.unwrap();
        l.begin(&db, "bob", "1.1.1.1", t0).await.unwrap().unwrap();
        l.begin(&db, "bob", "1.1.1.1", t0).await.unwrap().unwrap();
        assert!(l.begin(&db, "bob", "1.1.1.1", t0).await.unwrap().is_ok());
        // Successful sign-ins from one address never exhaust it.
        for _ in 0..20 {
            l.begin(&db, "erin", "5.5.5.5", t0).await.unwrap().unwrap();
            l.succeeded(&db, "erin", "5.5.5.5").await.unwrap();
        }
        assert!(l.begin(&db, "erin", "5.5.5.5", t0).await.unwrap().is_ok());
    }

    #[tokio::test]
    async fn user_names_are_counted_case_insensitively_and_ended_windows_go() {
        let (db, _dir) = db().await;
        let l = limiter();
        let t0 = Utc::now();
        for name in ["Carol", "CAROL", "carol"] {
            l.begin(&db, name, "1.1.1.1", t0).await.unwrap().unwrap();
        }
        assert!(l.begin(&db, "carol", "9.9.9.9", t0).await.unwrap().is_err());
        l.begin(&db, "zed", "8.8.8.8", t0 + secs(61)).await.unwrap().unwrap();
        let rows = login_failure::Entity::find().all(&db).await.unwrap();
        assert_eq!(rows.len(), 2, "only the new window's rows stay: {rows:?}");
    }
}
