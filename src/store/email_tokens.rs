//! The `email_tokens` table: single-use tokens mailed to a user, stored only as SHA-256, bound to
//! one purpose and to the address they were mailed to. Consuming one is a conditional UPDATE
//! (`used_at IS NULL AND expires_at > now AND sent_to = :address`), so two concurrent uses cannot
//! both succeed on any backend. (`failed_attempts` is no longer read: wrong tokens are throttled per
//! account and client instead, see `service::email_tokens::throttle_token_attempt`.)

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryFilter};

use super::entity::email_token::{ActiveModel, Column, Entity};
use super::{Store, StoreError};

/// What a token may be used for; a token of one purpose never works for the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Verify,
    Reset,
    /// Confirms a new address for an existing account (`new_email`).
    EmailChange,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Verify => "verify",
            Purpose::Reset => "reset",
            Purpose::EmailChange => "email_change",
        }
    }
}

/// A token to store: only its hash is kept.
#[derive(Debug, Clone)]
pub struct NewEmailToken {
    pub purpose: Purpose,
    pub token_hash: String,
    pub expires_at: i64,
    /// For [`Purpose::EmailChange`]: the address being confirmed.
    pub new_email: Option<String>,
    /// The address the mail goes to (the account's, or for an email change the new one).
    pub sent_to: String,
}

/// Retires the user's live tokens of this purpose (only the newest mail works) and stores `token`.
pub(crate) async fn insert_token(
    conn: &impl ConnectionTrait,
    user_id: i64,
    token: &NewEmailToken,
    now: i64,
) -> Result<(), StoreError> {
    Entity::update_many()
        .col_expr(Column::UsedAt, Expr::value(now))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::Purpose.eq(token.purpose.as_str()))
        .filter(Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    let row = ActiveModel {
        user_id: Set(user_id),
        purpose: Set(token.purpose.as_str().to_owned()),
        token_hash: Set(token.token_hash.clone()),
        new_email: Set(token.new_email.clone()),
        expires_at: Set(token.expires_at),
        used_at: Set(None),
        failed_attempts: Set(0),
        created_at: Set(now),
        sent_to: Set(Some(token.sent_to.clone())),
        ..Default::default()
    };
    row.insert(conn).await?;
    Ok(())
}

/// Marks the matching live token used; `false` when there is none (wrong, used, expired, other
/// purpose, or mailed to another address than `sent_to`). Wrong tokens do not wear out the live
/// one: guessing 256 bits is hopeless, and attempts are throttled per account and client instead.
pub(crate) async fn consume_token(
    conn: &impl ConnectionTrait,
    user_id: i64,
    purpose: Purpose,
    token_hash: &str,
    sent_to: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let result = Entity::update_many()
        .col_expr(Column::UsedAt, Expr::value(now))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::Purpose.eq(purpose.as_str()))
        .filter(Column::TokenHash.eq(token_hash))
        .filter(Column::SentTo.eq(sent_to))
        .filter(Column::UsedAt.is_null())
        .filter(Column::ExpiresAt.gt(now))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Retires every live token of the user, of every purpose (after a reset or an email change: a
/// token mailed before must not change the account afterwards).
pub(crate) async fn retire_all_tokens(conn: &impl ConnectionTrait, user_id: i64, now: i64) -> Result<(), StoreError> {
    Entity::update_many()
        .col_expr(Column::UsedAt, Expr::value(now))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

impl Store {
    /// The live email-change token with this hash confirming `new_email`: `(user id, new email)`.
    pub async fn pending_email_change(
        &self,
        new_email: &str,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<(i64, String)>, StoreError> {
        let row = Entity::find()
            .filter(Column::Purpose.eq(Purpose::EmailChange.as_str()))
            .filter(Column::NewEmail.eq(new_email))
            .filter(Column::TokenHash.eq(token_hash))
            .filter(Column::UsedAt.is_null())
            .filter(Column::ExpiresAt.gt(now))
            .one(self.conn())
            .await?;
        Ok(row.and_then(|r| r.new_email.map(|email| (r.user_id, email))))
    }
}
