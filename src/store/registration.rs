//! The writes of the registration flows, each in one transaction: a new user with its identity,
//! email token and outbox mail; a new token with its mail; a token consumed with its effect.

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, QueryFilter, TransactionTrait, UpdateMany};

use super::email_tokens::{NewEmailToken, Purpose, consume_token, insert_token, retire_all_tokens};
use super::entity::identity;
use super::outbox::{NewOutboxMail, insert_mail};
use super::users::{self, NewUser, User};
use super::{Store, StoreError, classify};

/// An external identity a trusted delegate links to a new user.
#[derive(Debug, Clone)]
pub struct LinkedIdentity {
    pub provider: String,
    pub uid: String,
    /// The trusted delegate that vouched for it; `None` for a login through an external provider.
    pub delegate_id: Option<i64>,
}

/// A signup to store: the user, and optionally an external identity, a token and its mail.
#[derive(Debug, Clone)]
pub struct Registration {
    pub user: NewUser,
    /// An identity vouched for by a trusted delegate.
    pub identity: Option<LinkedIdentity>,
    pub token: Option<NewEmailToken>,
    pub mail: Option<NewOutboxMail>,
}

impl Store {
    /// Stores a registration atomically; a taken email, handle or identity gives
    /// [`StoreError::Taken`] naming the field, and nothing is written.
    pub async fn register_user(&self, registration: Registration) -> Result<User, StoreError> {
        let now = registration.user.now;
        let txn = self.conn().begin().await?;
        let user = users::ActiveModel {
            email: Set(registration.user.email),
            handle: Set(registration.user.handle),
            full_name: Set(registration.user.full_name),
            password_digest: Set(registration.user.password_digest),
            admin: Set(registration.user.admin),
            verified: Set(registration.user.verified),
            disabled: Set(false),
            password_changed_at: Set(now),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| classify(e, &["email", "handle"]))?;
        if let Some(link) = registration.identity {
            identity::ActiveModel {
                user_id: Set(user.id),
                provider: Set(link.provider),
                uid: Set(link.uid),
                created_at: Set(now),
                delegate_id: Set(link.delegate_id),
                ..Default::default()
            }
            .insert(&txn)
            .await
            .map_err(|e| classify(e, &["provider", "uid"]))?;
        }
        if let Some(token) = &registration.token {
            insert_token(&txn, user.id, token, now).await?;
        }
        if let Some(mail) = &registration.mail {
            insert_mail(&txn, mail, now).await?;
        }
        txn.commit().await?;
        Ok(user.into())
    }

    /// Stores a new token (retiring older ones of its purpose) and its mail together.
    pub async fn issue_email_token(
        &self,
        user_id: i64,
        token: &NewEmailToken,
        mail: &NewOutboxMail,
        now: i64,
    ) -> Result<(), StoreError> {
        let txn = self.conn().begin().await?;
        insert_token(&txn, user_id, token, now).await?;
        insert_mail(&txn, mail, now).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Consumes a verify token mailed to `sent_to` (the account's address) and marks the user
    /// verified; `None` when the token is not good.
    pub async fn verify_with_token(
        &self,
        user_id: i64,
        sent_to: &str,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<User>, StoreError> {
        let token = PresentedToken { user_id, purpose: Purpose::Verify, sent_to, token_hash, now };
        self.complete_with_token(token, false, |update| update.col_expr(users::Column::Verified, Expr::value(true)))
            .await
    }

    /// Consumes an email-change token mailed to `new_email` and makes that the user's (verified)
    /// email, retiring every other live token of the user; `None` when the token is not good,
    /// [`StoreError::Taken`] when the address was taken meanwhile.
    pub async fn confirm_email_change(
        &self,
        user_id: i64,
        new_email: &str,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<User>, StoreError> {
        let token = PresentedToken { user_id, purpose: Purpose::EmailChange, sent_to: new_email, token_hash, now };
        self.complete_with_token(token, true, |update| {
            update
                .col_expr(users::Column::Email, Expr::value(new_email))
                .col_expr(users::Column::Verified, Expr::value(true))
        })
        .await
    }

    /// Consumes a reset token mailed to `sent_to` (the account's address) and sets the new password
    /// digest (`password_changed_at = now`, which ends the user's other sessions), retiring every
    /// other live token of the user. A completed reset proves control of the mailbox, so it also
    /// marks the email verified. `None` when the token is not good.
    pub async fn reset_with_token(
        &self,
        user_id: i64,
        sent_to: &str,
        token_hash: &str,
        digest: &str,
        now: i64,
    ) -> Result<Option<User>, StoreError> {
        let token = PresentedToken { user_id, purpose: Purpose::Reset, sent_to, token_hash, now };
        self.complete_with_token(token, true, |update| {
            update
                .col_expr(users::Column::PasswordDigest, Expr::value(digest))
                .col_expr(users::Column::PasswordChangedAt, Expr::value(now))
                .col_expr(users::Column::Verified, Expr::value(true))
        })
        .await
    }

    /// In one transaction: consumes the token, optionally retires every other live token of the
    /// user, writes the columns `set` names (and `updated_at`) and reads the user back.
    async fn complete_with_token(
        &self,
        token: PresentedToken<'_>,
        retire_others: bool,
        set: impl FnOnce(UpdateMany<users::Entity>) -> UpdateMany<users::Entity>,
    ) -> Result<Option<User>, StoreError> {
        let PresentedToken { user_id, purpose, sent_to, token_hash, now } = token;
        let txn = self.conn().begin().await?;
        if !consume_token(&txn, user_id, purpose, token_hash, sent_to, now).await? {
            return Ok(None);
        }
        if retire_others {
            retire_all_tokens(&txn, user_id, now).await?;
        }
        set(users::Entity::update_many())
            .col_expr(users::Column::UpdatedAt, Expr::value(now))
            .filter(users::Column::Id.eq(user_id))
            .exec(&txn)
            .await
            .map_err(|e| classify(e, &["email"]))?;
        let user = users::Entity::find_by_id(user_id).one(&txn).await?;
        txn.commit().await?;
        Ok(user.map(User::from))
    }
}

/// A mailed token presented back, for the account it was issued to.
struct PresentedToken<'a> {
    user_id: i64,
    purpose: Purpose,
    sent_to: &'a str,
    token_hash: &'a str,
    now: i64,
}
