//! The `sessions` and `refresh_tokens` tables: logins, the refresh tokens that continue them, and
//! browser sessions. Rotation claims a token with a conditional UPDATE inside a write transaction,
//! so of two exchanges of one token, on any number of instances, exactly one wins.

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ExprTrait, QueryFilter, QuerySelect};

use super::entity::refresh_token::{self, Entity as RefreshTokens};
use super::entity::session::{self, Entity as Sessions};
use super::{Store, StoreError};

pub type Session = session::Model;
pub type RefreshToken = refresh_token::Model;

/// `sessions.kind` of a login at `/jwt/token` continued by refresh tokens.
pub const KIND_REFRESH: &str = "refresh";
/// `sessions.kind` of a login at `/session` held in a cookie.
pub const KIND_BROWSER: &str = "browser";
/// `sessions.kind` of a single access token with no refresh token (the token a signup, an email
/// verification or a password reset answers); it expires with the token.
pub const KIND_TOKEN: &str = "token";

/// A session to create.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub user_id: i64,
    pub kind: &'static str,
    /// The hash of the browser session's cookie secret (browser sessions only).
    pub secret_hash: Option<&'a str>,
    pub now: i64,
    pub expires_at: i64,
    pub client_ip: Option<String>,
    pub actor: Option<String>,
    /// How the user signed in, when not with a password (see `session::Model::amr`).
    pub amr: Option<&'static str>,
}

/// How an exchange of a refresh token ended in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was unused: it is now used, `successor` stored, and the new token inserted.
    Rotated,
    /// Someone exchanged it first (the row as it is now).
    AlreadyUsed(RefreshToken),
}

impl Store {
    /// Creates a session and, for a refresh session, its first refresh token; one transaction.
    pub async fn create_session(&self, new: NewSession<'_>, first_token: Option<&str>) -> Result<Session, StoreError> {
        let (tx, _gate) = self.begin_write().await?;
        let row = session::ActiveModel {
            user_id: Set(new.user_id),
            kind: Set(new.kind.to_owned()),
            secret_hash: Set(new.secret_hash.map(str::to_owned)),
            created_at: Set(new.now),
            password_checked_at: Set(new.now),
            last_used_at: Set(new.now),
            expires_at: Set(new.expires_at),
            revoked_at: Set(None),
            client_ip: Set(new.client_ip),
            actor: Set(new.actor),
            amr: Set(new.amr.map(str::to_owned)),
            ..Default::default()
        };
        let session = row.insert(&tx).await?;
        if let Some(hash) = first_token {
            insert_token(&tx, session.id, hash, new.now).await?;
        }
        tx.commit().await?;
        Ok(session)
    }

    /// The refresh token with this hash and its session (one query).
    pub async fn refresh_token(&self, hash: &str) -> Result<Option<(RefreshToken, Session)>, StoreError> {
        let found = RefreshTokens::find()
            .filter(refresh_token::Column::TokenHash.eq(hash))
            .find_also_related(Sessions)
            .one(self.conn())
            .await?;
        Ok(found.and_then(|(token, session)| session.map(|session| (token, session))))
    }

    /// Exchanges an unused refresh token for `new_hash`, storing the sealed `successor` pair (if
    /// any) on the old row; one transaction, so the successor is visible exactly when the new
    /// token exists.
    pub async fn rotate_refresh_token(
        &self,
        old: &RefreshToken,
        new_hash: &str,
        successor: Option<&str>,
        now: i64,
    ) -> Result<Rotation, StoreError> {
        let (tx, _gate) = self.begin_write().await?;
        let claimed = RefreshTokens::update_many()
            .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
            .col_expr(refresh_token::Column::Successor, Expr::value(successor.map(str::to_owned)))
            .filter(refresh_token::Column::Id.eq(old.id))
            .filter(refresh_token::Column::UsedAt.is_null())
            .exec(&tx)
            .await?;
        if claimed.rows_affected == 0 {
            let current = RefreshTokens::find_by_id(old.id).one(&tx).await?;
            tx.rollback().await?;
            return Ok(Rotation::AlreadyUsed(current.unwrap_or_else(|| old.clone())));
        }
        // The session's idle time is the newest token's age: no session row to update.
        insert_token(&tx, old.session_id, new_hash, now).await?;
        tx.commit().await?;
        Ok(Rotation::Rotated)
    }

    /// The browser session whose cookie secret has this hash.
    pub async fn browser_session(&self, hash: &str) -> Result<Option<Session>, StoreError> {
        Ok(Sessions::find()
            .filter(session::Column::SecretHash.eq(hash))
            .filter(session::Column::Kind.eq(KIND_BROWSER))
            .one(self.conn())
            .await?)
    }

    pub async fn session(&self, id: i64) -> Result<Option<Session>, StoreError> {
        Ok(Sessions::find_by_id(id).one(self.conn()).await?)
    }

    /// Records a use of a browser session (it expires after a time without use).
    pub async fn touch_session(&self, id: i64, now: i64) -> Result<(), StoreError> {
        Sessions::update_many()
            .col_expr(session::Column::LastUsedAt, Expr::value(now))
            .filter(session::Column::Id.eq(id))
            .exec(self.conn())
            .await?;
        Ok(())
    }

    /// Marks the session as proven by the current password again (after the user changed it).
    pub async fn confirm_session_password(&self, id: i64, now: i64) -> Result<(), StoreError> {
        Sessions::update_many()
            .col_expr(session::Column::PasswordCheckedAt, Expr::value(now))
            .filter(session::Column::Id.eq(id))
            .exec(self.conn())
            .await?;
        Ok(())
    }

    /// Revokes one session; whether it was live.
    pub async fn revoke_session(&self, id: i64, now: i64) -> Result<bool, StoreError> {
        let updated = Sessions::update_many()
            .col_expr(session::Column::RevokedAt, Expr::value(now))
            .filter(session::Column::Id.eq(id))
            .filter(session::Column::RevokedAt.is_null())
            .exec(self.conn())
            .await?;
        Ok(updated.rows_affected > 0)
    }

    /// Revokes every live session of a user but `keep`; answers the ids it revoked.
    pub async fn revoke_user_sessions(
        &self,
        user_id: i64,
        keep: Option<i64>,
        now: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let mut live = Sessions::find()
            .select_only()
            .column(session::Column::Id)
            .filter(session::Column::UserId.eq(user_id))
            .filter(session::Column::RevokedAt.is_null())
            .filter(session::Column::ExpiresAt.gt(now));
        if let Some(keep) = keep {
            live = live.filter(session::Column::Id.ne(keep));
        }
        let ids: Vec<i64> = live.into_tuple().all(self.conn()).await?;
        if ids.is_empty() {
            return Ok(ids);
        }
        Sessions::update_many()
            .col_expr(session::Column::RevokedAt, Expr::value(now))
            .filter(session::Column::Id.is_in(ids.clone()))
            .filter(session::Column::RevokedAt.is_null())
            .exec(self.conn())
            .await?;
        Ok(ids)
    }

    /// Deletes sessions that ended (expired or revoked) more than `keep_seconds` ago, with their
    /// refresh tokens.
    pub async fn prune_sessions(&self, now: i64, keep_seconds: i64) -> Result<u64, StoreError> {
        let before = now - keep_seconds;
        let deleted = Sessions::delete_many()
            .filter(session::Column::ExpiresAt.lt(before).or(session::Column::RevokedAt.lt(before)))
            .exec(self.conn())
            .await?;
        Ok(deleted.rows_affected)
    }
}

async fn insert_token(db: &impl ConnectionTrait, session_id: i64, hash: &str, now: i64) -> Result<(), DbErr> {
    RefreshTokens::insert(unused_refresh_token(session_id, hash, now)).exec_without_returning(db).await?;
    Ok(())
}

/// A new refresh token of `session_id`, issued at `now`, stored as `hash`.
pub(super) fn unused_refresh_token(session_id: i64, hash: &str, now: i64) -> refresh_token::ActiveModel {
    refresh_token::ActiveModel {
        session_id: Set(session_id),
        token_hash: Set(hash.to_owned()),
        issued_at: Set(now),
        used_at: Set(None),
        successor: Set(None),
        ..Default::default()
    }
}
