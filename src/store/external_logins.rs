//! The `external_logins` table: a sign-in through an external OpenID Provider, claimed once at its
//! callback and once more when its login code is redeemed; each claim is a conditional UPDATE, so
//! of two callbacks (or two redemptions) on any number of instances exactly one wins.

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, QueryFilter};

use super::entity::external_login::{ActiveModel, Column, Entity, Model};
use super::{Store, StoreError};

pub type ExternalLogin = Model;

/// How long a finished login is kept after it expired (for the audit of late callbacks), seconds.
const KEEP_EXPIRED_SECONDS: i64 = 3600;

/// A sign-in leaving for the provider.
#[derive(Debug, Clone)]
pub struct NewExternalLogin {
    pub state_hash: String,
    pub provider: String,
    pub nonce_hash: String,
    pub redirect_uri: Option<String>,
    pub client_state: Option<String>,
    pub return_to: Option<String>,
    pub now: i64,
    pub expires_at: i64,
}

impl Store {
    /// Stores a login that is leaving for its provider, and forgets those long expired.
    pub async fn start_external_login(&self, new: NewExternalLogin) -> Result<(), StoreError> {
        Entity::delete_many().filter(Column::ExpiresAt.lt(new.now - KEEP_EXPIRED_SECONDS)).exec(self.conn()).await?;
        let row = ActiveModel {
            state_hash: Set(new.state_hash),
            provider: Set(new.provider),
            nonce_hash: Set(new.nonce_hash),
            redirect_uri: Set(new.redirect_uri),
            client_state: Set(new.client_state),
            return_to: Set(new.return_to),
            created_at: Set(new.now),
            expires_at: Set(new.expires_at),
            ..Default::default()
        };
        Entity::insert(row).exec_without_returning(self.conn()).await?;
        Ok(())
    }

    /// Claims the login whose `state` hashes to `state_hash` for its one callback: `None` when
    /// there is none, it expired, or a callback already claimed it.
    pub async fn claim_external_login(&self, state_hash: &str, now: i64) -> Result<Option<ExternalLogin>, StoreError> {
        self.claim_once(Column::CallbackAt, Column::StateHash, state_hash, now).await
    }

    /// Binds a claimed login to its user and the hash of its login code, valid until `expires_at`.
    pub async fn finish_external_login(
        &self,
        id: i64,
        user_id: i64,
        code_hash: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        Entity::update_many()
            .col_expr(Column::UserId, Expr::value(user_id))
            .col_expr(Column::CodeHash, Expr::value(code_hash))
            .col_expr(Column::ExpiresAt, Expr::value(expires_at))
            .filter(Column::Id.eq(id))
            .exec(self.conn())
            .await?;
        Ok(())
    }

    /// Redeems a login code once: the login it finished, or `None` when the code is unknown,
    /// expired or already used.
    pub async fn redeem_login_code(&self, code_hash: &str, now: i64) -> Result<Option<ExternalLogin>, StoreError> {
        self.claim_once(Column::CodeUsedAt, Column::CodeHash, code_hash, now).await
    }

    /// Sets `mark` to `now` on the unexpired row whose `by` is `key`, if `mark` is still unset;
    /// the row when this call set it.
    async fn claim_once(
        &self,
        mark: Column,
        by: Column,
        key: &str,
        now: i64,
    ) -> Result<Option<ExternalLogin>, StoreError> {
        let claimed = Entity::update_many()
            .col_expr(mark, Expr::value(now))
            .filter(by.eq(key))
            .filter(mark.is_null())
            .filter(Column::ExpiresAt.gt(now))
            .exec(self.conn())
            .await?;
        if claimed.rows_affected == 0 {
            return Ok(None);
        }
        Ok(Entity::find().filter(by.eq(key)).one(self.conn()).await?)
    }
}
