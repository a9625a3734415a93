//! The `oauth_codes` table and the sessions a code exchange opens. An exchange claims the code
//! with a conditional UPDATE and opens its session in the same write transaction, so of two
//! exchanges of one code, on any number of instances, exactly one wins, and a dropped request
//! leaves either both or neither.

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, QueryFilter, QuerySelect};

use super::entity::oauth_code::{ActiveModel, Column, Entity, Model};
use super::entity::refresh_token;
use super::entity::session::{self, Entity as Sessions};
use super::sessions::Session;
use super::{Store, StoreError};

/// A stored authorization code.
pub type AuthorizationCode = Model;

/// `sessions.kind` of a session opened by a code exchange (or a refresh of one).
pub const KIND_OAUTH: &str = "oauth";

/// What an authorization request bound a new code to.
#[derive(Debug, Clone)]
pub struct NewCode {
    pub code_hash: String,
    pub client_id: String,
    pub user_id: i64,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: i64,
    pub amr: Option<String>,
    pub now: i64,
    pub expires_at: i64,
}

/// The session a code exchange opens.
#[derive(Debug, Clone)]
pub struct NewOauthSession<'a> {
    pub expires_at: i64,
    /// The hash of its first refresh token (with `offline_access`).
    pub refresh_hash: Option<&'a str>,
    pub client_ip: Option<String>,
    pub now: i64,
}

/// How an exchange ended in the database.
#[derive(Debug, Clone)]
pub enum Exchange {
    Opened(Box<Session>),
    /// The code was used before; the session its first exchange opened, if any.
    AlreadyUsed(Option<i64>),
}

impl Store {
    pub async fn insert_code(&self, new: NewCode) -> Result<(), StoreError> {
        let row = ActiveModel {
            code_hash: Set(new.code_hash),
            client_id: Set(new.client_id),
            user_id: Set(new.user_id),
            redirect_uri: Set(new.redirect_uri),
            scope: Set(new.scope),
            nonce: Set(new.nonce),
            code_challenge: Set(new.code_challenge),
            auth_time: Set(new.auth_time),
            amr: Set(new.amr),
            session_id: Set(None),
            expires_at: Set(new.expires_at),
            used_at: Set(None),
            created_at: Set(new.now),
            ..Default::default()
        };
        Entity::insert(row).exec_without_returning(self.conn()).await?;
        Ok(())
    }

    pub async fn code_by_hash(&self, hash: &str) -> Result<Option<AuthorizationCode>, StoreError> {
        Ok(Entity::find().filter(Column::CodeHash.eq(hash)).one(self.conn()).await?)
    }

    /// Claims an unused code and opens its session (one transaction).
    pub async fn exchange_code(
        &self,
        code: &AuthorizationCode,
        new: NewOauthSession<'_>,
    ) -> Result<Exchange, StoreError> {
        let (tx, _gate) = self.begin_write().await?;
        let row = session::ActiveModel {
            user_id: Set(code.user_id),
            kind: Set(KIND_OAUTH.to_owned()),
            secret_hash: Set(None),
            created_at: Set(new.now),
            password_checked_at: Set(code.auth_time),
            last_used_at: Set(new.now),
            expires_at: Set(new.expires_at),
            revoked_at: Set(None),
            client_ip: Set(new.client_ip),
            actor: Set(None),
            client_id: Set(Some(code.client_id.clone())),
            scope: Set(Some(code.scope.clone())),
            auth_time: Set(Some(code.auth_time)),
            amr: Set(code.amr.clone()),
            ..Default::default()
        };
        let session = row.insert(&tx).await?;
        // The claim: only an unused code takes the session; otherwise nothing of this is kept.
        let claimed = Entity::update_many()
            .col_expr(Column::UsedAt, Expr::value(new.now))
            .col_expr(Column::SessionId, Expr::value(session.id))
            .filter(Column::Id.eq(code.id))
            .filter(Column::UsedAt.is_null())
            .exec(&tx)
            .await?;
        if claimed.rows_affected == 0 {
            let current = Entity::find_by_id(code.id).one(&tx).await?;
            tx.rollback().await?;
            return Ok(Exchange::AlreadyUsed(current.and_then(|c| c.session_id)));
        }
        if let Some(hash) = new.refresh_hash {
            let token = refresh_token::ActiveModel {
                session_id: Set(session.id),
                token_hash: Set(hash.to_owned()),
                issued_at: Set(new.now),
                used_at: Set(None),
                successor: Set(None),
                ..Default::default()
            };
            refresh_token::Entity::insert(token).exec_without_returning(&tx).await?;
        }
        tx.commit().await?;
        Ok(Exchange::Opened(Box::new(session)))
    }

    /// The live sessions of a client (to end when the client is removed), or of one user with it.
    pub async fn client_sessions(
        &self,
        client_id: &str,
        user_id: Option<i64>,
        now: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let mut query = Sessions::find().select_only().column(session::Column::Id);
        if let Some(user_id) = user_id {
            query = query.filter(session::Column::UserId.eq(user_id));
        }
        Ok(query
            .filter(session::Column::ClientId.eq(client_id))
            .filter(session::Column::RevokedAt.is_null())
            .filter(session::Column::ExpiresAt.gt(now))
            .into_tuple()
            .all(self.conn())
            .await?)
    }

    /// Deletes codes that expired more than `keep_seconds` ago.
    pub async fn prune_codes(&self, now: i64, keep_seconds: i64) -> Result<u64, StoreError> {
        let deleted = Entity::delete_many().filter(Column::ExpiresAt.lt(now - keep_seconds)).exec(self.conn()).await?;
        Ok(deleted.rows_affected)
    }
}
