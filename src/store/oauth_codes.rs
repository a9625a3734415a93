//! The `oauth_codes` table and the sessions a code exchange opens. An exchange claims the code
//! with a conditional UPDATE and opens its session in the same write transaction, so of two
//! exchanges of one code, on any number of instances, exactly one wins, and a dropped request
//! leaves either both or neither. On SQLite, exchanges that arrive together share one transaction
//! (`code_exchanges`).

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, QueryFilter, QuerySelect};

use super::code_exchanges::{Job, OwnedOauthSession, session_row};
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

    /// Claims an unused code and opens its session (one transaction; on SQLite, together with
    /// the exchanges waiting beside it: `code_exchanges`).
    pub async fn exchange_code(
        &self,
        code: &AuthorizationCode,
        new: NewOauthSession<'_>,
    ) -> Result<Exchange, StoreError> {
        let session = OwnedOauthSession {
            expires_at: new.expires_at,
            refresh_hash: new.refresh_hash.map(str::to_owned),
            client_ip: new.client_ip,
            now: new.now,
        };
        let Some(queue) = &self.exchanges else { return self.exchange_alone(code, &session).await };
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job = Job { code: code.clone(), session, reply };
        if queue.send(job).await.is_err() {
            return Err(StoreError::Unavailable);
        }
        answer.await.map_err(|_| StoreError::Unavailable)?
    }

    /// [`Store::exchange_code`] in a transaction of its own (PostgreSQL, MariaDB).
    async fn exchange_alone(&self, code: &AuthorizationCode, new: &OwnedOauthSession) -> Result<Exchange, StoreError> {
        let (tx, _gate) = self.begin_write().await?;
        let row = session_row(code, new);
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
            // A locking read: on MariaDB the insert above read its row back and so fixed this
            // transaction's snapshot before the winner committed; a plain read would miss its session.
            let current = Entity::find_by_id(code.id).lock_shared().one(&tx).await?;
            tx.rollback().await?;
            return Ok(Exchange::AlreadyUsed(current.and_then(|c| c.session_id)));
        }
        if let Some(hash) = &new.refresh_hash {
            let token = refresh_token::ActiveModel {
                session_id: Set(session.id),
                token_hash: Set(hash.clone()),
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
