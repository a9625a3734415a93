//! The `oauth_codes` table and the sessions a code exchange opens. An exchange claims the code
//! with a conditional UPDATE and opens its session in the same write transaction, so of two
//! exchanges of one code, on any number of instances, exactly one wins, and a dropped request
//! leaves either both or neither. On SQLite, exchanges that arrive together share one transaction
//! (`code_exchanges`).

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, JoinType, QueryFilter, QuerySelect};

use super::code_exchanges::{Job, OwnedOauthSession, session_row};
use super::entity::oauth_code::{ActiveModel, Column, Entity, Model};
use super::entity::refresh_token;
use super::entity::session::{self, Entity as Sessions};
use super::sessions::{Session, unused_refresh_token};
use super::users::{self, User};
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
    /// The hash of its first refresh token, stored if the check asks for one.
    pub refresh_hash: &'a str,
    pub client_ip: Option<String>,
    pub now: i64,
}

/// The service's rule for a code presented at the token endpoint: whether this client, redirect
/// URI and PKCE verifier may have it, for this user, now, and whether its session gets the
/// refresh token. Run once, in the exchange's transaction; a refusal says why.
pub type CodeCheck = Box<dyn FnOnce(&AuthorizationCode, &User) -> Result<Accepted, &'static str> + Send>;

/// A code the check accepted.
#[derive(Debug, Clone, Copy)]
pub struct Accepted {
    /// Whether the session starts a refresh-token family with [`NewOauthSession::refresh_hash`].
    pub with_refresh_token: bool,
}

/// How an exchange ended in the database.
#[derive(Debug, Clone)]
pub enum Exchange {
    /// The code was claimed and its session opened.
    Opened(Box<OpenedSession>),
    /// The check accepted the code, but it was used before; the session its first exchange opened, if any.
    AlreadyUsed { code: Box<AuthorizationCode>, first_session: Option<i64> },
    /// The check refused the code, which stays as it was.
    Refused(&'static str),
    /// No such code (or its user is gone).
    Unknown,
}

/// A claimed code, its user and the session its exchange opened.
#[derive(Debug, Clone)]
pub struct OpenedSession {
    pub code: AuthorizationCode,
    pub user: User,
    pub session: Session,
    pub accepted: Accepted,
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

    /// Exchanges the code with this hash if `check` accepts it: claims it and opens its session in
    /// one transaction (on SQLite, together with the exchanges waiting beside it: `code_exchanges`).
    pub async fn exchange_code(
        &self,
        code_hash: String,
        check: CodeCheck,
        new: NewOauthSession<'_>,
    ) -> Result<Exchange, StoreError> {
        let session = OwnedOauthSession {
            expires_at: new.expires_at,
            refresh_hash: new.refresh_hash.to_owned(),
            client_ip: new.client_ip,
            now: new.now,
        };
        let Some(queue) = &self.exchanges else { return self.exchange_alone(code_hash, check, &session).await };
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job = Job { code_hash, check, session, reply };
        if queue.send(job).await.is_err() {
            return Err(StoreError::Unavailable);
        }
        answer.await.map_err(|_| StoreError::Unavailable)?
    }

    /// [`Store::exchange_code`] in a transaction of its own (PostgreSQL, MariaDB).
    async fn exchange_alone(
        &self,
        code_hash: String,
        check: CodeCheck,
        new: &OwnedOauthSession,
    ) -> Result<Exchange, StoreError> {
        let Some((code, user)) = codes_with_users(self.conn(), [code_hash]).await?.pop() else {
            return Ok(Exchange::Unknown);
        };
        let accepted = match check(&code, &user) {
            Ok(accepted) => accepted,
            Err(reason) => return Ok(Exchange::Refused(reason)),
        };
        let (tx, _gate) = self.begin_write().await?;
        let session = session_row(&code, new).insert(&tx).await?;
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
            let first_session = current.and_then(|c| c.session_id);
            return Ok(Exchange::AlreadyUsed { code: Box::new(code), first_session });
        }
        if accepted.with_refresh_token {
            refresh_token::Entity::insert(unused_refresh_token(session.id, &new.refresh_hash, new.now))
                .exec_without_returning(&tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Exchange::Opened(Box::new(OpenedSession { code, user, session, accepted })))
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

/// The codes with these hashes, each with its user (a code whose user is gone is left out): one read.
pub(super) async fn codes_with_users(
    conn: &impl ConnectionTrait,
    hashes: impl IntoIterator<Item = String>,
) -> Result<Vec<(AuthorizationCode, User)>, StoreError> {
    let to_user = Entity::belongs_to(users::Entity).from(Column::UserId).to(users::Column::Id).into();
    let found = Entity::find()
        .filter(Column::CodeHash.is_in(hashes))
        .join(JoinType::InnerJoin, to_user)
        .select_also(users::Entity)
        .all(conn)
        .await?;
    Ok(found.into_iter().filter_map(|(code, user)| Some((code, User::from(user?)))).collect())
}
