//! The `login_lockouts` table: consecutive failed logins per account, counted with conditional
//! UPDATEs so that parallel attempts, on any number of instances, never pass the threshold.

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ExprTrait, QueryFilter};

use super::entity::login_lockout::{ActiveModel, Column, Entity, Model};
use super::{Store, StoreError};

pub type Lockout = Model;

/// The answer to "may this account try a password now?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// An attempt was counted; verify, then [`Store::reset_lockout`], [`Store::lock_if_exhausted`] or
    /// [`Store::release_login_attempt`].
    Reserved,
    /// No attempt may be made; `until` is when the current lock ends (`None`: the threshold is
    /// reached by attempts still being checked and the lock is about to be set).
    Locked { until: Option<i64> },
}

impl Store {
    /// Counts one attempt if the account is below `threshold` and not locked at `now`.
    pub async fn reserve_login_attempt(&self, key: &str, threshold: u32, now: i64) -> Result<Reservation, StoreError> {
        if self.try_reserve(key, threshold, now).await? {
            return Ok(Reservation::Reserved);
        }
        match self.lockout(key).await? {
            Some(row) if row.locked_until > now => return Ok(Reservation::Locked { until: Some(row.locked_until) }),
            // Not locked: the attempts in flight filled the threshold a moment ago, or the row was
            // created by another request since the first try; either way, try once more.
            Some(_) => {}
            None => self.insert_lockout_row(key, now).await?,
        }
        Ok(match self.try_reserve(key, threshold, now).await? {
            true => Reservation::Reserved,
            false => Reservation::Locked { until: None },
        })
    }

    pub async fn lockout(&self, key: &str) -> Result<Option<Lockout>, StoreError> {
        Ok(Entity::find_by_id(key.to_owned()).one(self.conn()).await?)
    }

    async fn try_reserve(&self, key: &str, threshold: u32, now: i64) -> Result<bool, StoreError> {
        let updated = Entity::update_many()
            .col_expr(Column::Failures, Expr::col(Column::Failures).add(1))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::AccountKey.eq(key))
            .filter(Column::Failures.lt(threshold as i32))
            .filter(Column::LockedUntil.lte(now))
            .exec(self.conn())
            .await?;
        Ok(updated.rows_affected > 0)
    }

    /// Creates the counter row; a row made meanwhile by another request is just as good.
    async fn insert_lockout_row(&self, key: &str, now: i64) -> Result<(), StoreError> {
        let row = ActiveModel {
            account_key: Set(key.to_owned()),
            failures: Set(0),
            locked_until: Set(0),
            lockouts: Set(0),
            updated_at: Set(now),
        };
        match Entity::insert(row).exec_without_returning(self.conn()).await {
            Ok(_) => Ok(()),
            Err(err) if matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    /// After a failed attempt: when the failures reached `threshold`, locks the account for the
    /// interval `interval_for(lockouts so far)` and starts counting afresh. Conditional on the
    /// values read, so of several failures finishing together exactly one sets the lock.
    pub async fn lock_if_exhausted(
        &self,
        key: &str,
        threshold: u32,
        now: i64,
        interval_for: impl Fn(i32) -> i64,
    ) -> Result<Option<i64>, StoreError> {
        let Some(row) = self.lockout(key).await? else { return Ok(None) };
        if row.failures < threshold as i32 {
            return Ok(None);
        }
        let until = now + interval_for(row.lockouts);
        let updated = Entity::update_many()
            .col_expr(Column::Failures, Expr::value(0))
            .col_expr(Column::LockedUntil, Expr::value(until))
            .col_expr(Column::Lockouts, Expr::value(row.lockouts + 1))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::AccountKey.eq(key))
            .filter(Column::Failures.gte(threshold as i32))
            .filter(Column::Lockouts.eq(row.lockouts))
            .exec(self.conn())
            .await?;
        Ok((updated.rows_affected > 0).then_some(until))
    }

    /// Gives back a reserved attempt that was neither a success nor a failure (a correct password
    /// still waiting for its second factor).
    pub async fn release_login_attempt(&self, key: &str, now: i64) -> Result<(), StoreError> {
        Entity::update_many()
            .col_expr(Column::Failures, Expr::col(Column::Failures).sub(1))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::AccountKey.eq(key))
            .filter(Column::Failures.gt(0))
            .exec(self.conn())
            .await?;
        Ok(())
    }

    /// After a successful login: the failures and the growth of the lock intervals start afresh.
    /// The row stays, so the next login's reservation is one UPDATE.
    pub async fn reset_lockout(&self, key: &str, now: i64) -> Result<(), StoreError> {
        Entity::update_many()
            .col_expr(Column::Failures, Expr::value(0))
            .col_expr(Column::Lockouts, Expr::value(0))
            .col_expr(Column::LockedUntil, Expr::value(0))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::AccountKey.eq(key))
            .exec(self.conn())
            .await?;
        Ok(())
    }

    /// Forgets the account's failures and locks (`authify user unlock`, the admin route); whether
    /// there was anything to forget.
    pub async fn clear_lockout(&self, key: &str) -> Result<bool, StoreError> {
        Ok(Entity::delete_by_id(key.to_owned()).exec(self.conn()).await?.rows_affected > 0)
    }
}
