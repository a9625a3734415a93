//! The `totp_factors` and `recovery_codes` tables. Every change of state is one conditional
//! statement or one transaction, so two requests (or two instances) cannot both accept one code.

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, Condition, QueryFilter, TransactionTrait};

use super::entity::recovery_code;
use super::entity::totp_factor::{ActiveModel, Column, Entity, Model};
use super::{Store, StoreError};

/// A user's TOTP factor, pending or enabled.
pub type TotpFactor = Model;

impl Store {
    pub async fn totp_factor(&self, user_id: i64) -> Result<Option<TotpFactor>, StoreError> {
        Ok(Entity::find_by_id(user_id).one(self.conn()).await?)
    }

    /// Stores a pending secret, replacing a pending one; `false` when the factor is already enabled
    /// (the primary key refuses the insert, so a racing confirm cannot be overwritten).
    pub async fn put_pending_totp(&self, user_id: i64, ciphertext: &str, now: i64) -> Result<bool, StoreError> {
        Entity::delete_many()
            .filter(Column::UserId.eq(user_id))
            .filter(Column::Enabled.eq(false))
            .exec(self.conn())
            .await?;
        let row = ActiveModel {
            user_id: Set(user_id),
            secret_ciphertext: Set(ciphertext.to_owned()),
            enabled: Set(false),
            last_step: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        };
        match Entity::insert(row).exec_without_returning(self.conn()).await {
            Ok(_) => Ok(true),
            Err(err) if matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }

    /// Turns a pending factor on, remembering the step of the confirming code, and replaces the
    /// recovery codes, in one transaction; `false` when there was no pending factor.
    pub async fn enable_totp(
        &self,
        user_id: i64,
        step: i64,
        code_hashes: &[String],
        now: i64,
    ) -> Result<bool, StoreError> {
        let txn = self.conn().begin().await?;
        let updated = Entity::update_many()
            .col_expr(Column::Enabled, Expr::value(true))
            .col_expr(Column::LastStep, Expr::value(step))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::UserId.eq(user_id))
            .filter(Column::Enabled.eq(false))
            .exec(&txn)
            .await?;
        if updated.rows_affected == 0 {
            return Ok(false);
        }
        recovery_code::Entity::delete_many().filter(recovery_code::Column::UserId.eq(user_id)).exec(&txn).await?;
        let rows = code_hashes.iter().map(|hash| recovery_code::ActiveModel {
            user_id: Set(user_id),
            code_hash: Set(hash.clone()),
            used_at: Set(None),
            created_at: Set(now),
            ..Default::default()
        });
        recovery_code::Entity::insert_many(rows).exec_without_returning(&txn).await?;
        txn.commit().await?;
        Ok(true)
    }

    /// Records `step` as the last accepted one unless it is not newer than the last; whether it
    /// was accepted (a replayed or older code is refused, even by a racing request).
    pub async fn accept_totp_step(&self, user_id: i64, step: i64, now: i64) -> Result<bool, StoreError> {
        let updated = Entity::update_many()
            .col_expr(Column::LastStep, Expr::value(step))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::UserId.eq(user_id))
            .filter(Column::Enabled.eq(true))
            .filter(Condition::any().add(Column::LastStep.is_null()).add(Column::LastStep.lt(step)))
            .exec(self.conn())
            .await?;
        Ok(updated.rows_affected > 0)
    }

    /// Marks an unused recovery code used; whether it was there and unused.
    pub async fn use_recovery_code(&self, user_id: i64, code_hash: &str, now: i64) -> Result<bool, StoreError> {
        let updated = recovery_code::Entity::update_many()
            .col_expr(recovery_code::Column::UsedAt, Expr::value(now))
            .filter(recovery_code::Column::UserId.eq(user_id))
            .filter(recovery_code::Column::CodeHash.eq(code_hash))
            .filter(recovery_code::Column::UsedAt.is_null())
            .exec(self.conn())
            .await?;
        Ok(updated.rows_affected > 0)
    }

    /// Removes the factor (pending or enabled) and the recovery codes; whether there was a factor.
    pub async fn delete_totp(&self, user_id: i64) -> Result<bool, StoreError> {
        let txn = self.conn().begin().await?;
        recovery_code::Entity::delete_many().filter(recovery_code::Column::UserId.eq(user_id)).exec(&txn).await?;
        let deleted = Entity::delete_by_id(user_id).exec(&txn).await?;
        txn.commit().await?;
        Ok(deleted.rows_affected > 0)
    }
}
