//! The `outbox_mails` table. Rows are inserted in the transaction of the change that causes the
//! mail; senders claim due rows with a conditional UPDATE (owner + lease) and check
//! `rows_affected`, so two instances never send the same row at once, and a crashed sender's lease
//! simply runs out.

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, Condition, ConnectionTrait, QueryFilter, QueryOrder, QuerySelect};

use super::entity::email_token;
use super::entity::outbox_mail::{ActiveModel, Column, Entity, Model};
use super::{Store, StoreError};

/// A stored outgoing mail.
pub type OutboxMail = Model;

pub const PENDING: &str = "pending";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";

/// A rendered mail to queue.
#[derive(Debug, Clone)]
pub struct NewOutboxMail {
    pub recipient: String,
    pub client_ip: Option<String>,
    pub subject: String,
    pub text_body: String,
    pub html_body: Option<String>,
}

pub(crate) async fn insert_mail(conn: &impl ConnectionTrait, mail: &NewOutboxMail, now: i64) -> Result<(), StoreError> {
    let row = ActiveModel {
        recipient: Set(mail.recipient.clone()),
        client_ip: Set(mail.client_ip.clone()),
        subject: Set(mail.subject.clone()),
        text_body: Set(mail.text_body.clone()),
        html_body: Set(mail.html_body.clone()),
        status: Set(PENDING.to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        claimed_by: Set(None),
        lease_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        ..Default::default()
    };
    row.insert(conn).await?;
    Ok(())
}

/// What happened to a claimed mail.
#[derive(Debug, Clone)]
pub enum Delivery {
    Sent,
    /// Try again at `next_attempt_at`.
    Retry {
        next_attempt_at: i64,
        error: String,
    },
    /// Given up: the row stays, marked failed.
    GiveUp {
        error: String,
    },
}

/// Mails queued in a window: to one address, from one client address, for one account; and when
/// the newest to that address and for that account were queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailCounts {
    pub by_recipient: u64,
    pub by_ip: u64,
    pub by_user: u64,
    pub latest_to_recipient: Option<i64>,
    pub latest_for_user: Option<i64>,
}

impl Store {
    /// Mails queued after `since` for this recipient and from this client address.
    pub async fn recent_mail_counts(
        &self,
        recipient: &str,
        client_ip: Option<&str>,
        user_id: Option<i64>,
        since: i64,
    ) -> Result<MailCounts, StoreError> {
        let recent = || Entity::find().filter(Column::CreatedAt.gt(since));
        let by_recipient = recent().filter(Column::Recipient.eq(recipient)).count(self.conn()).await?;
        let latest_to_recipient: Option<i64> = recent()
            .select_only()
            .column_as(Column::CreatedAt.max(), "latest")
            .filter(Column::Recipient.eq(recipient))
            .into_tuple()
            .one(self.conn())
            .await?
            .flatten();
        let by_ip = match client_ip {
            Some(ip) => recent().filter(Column::ClientIp.eq(ip)).count(self.conn()).await?,
            None => 0,
        };
        // Every mail to an account carries one of its email tokens (kept when retired).
        let (by_user, latest_for_user) = match user_id {
            Some(user_id) => {
                let tokens = || {
                    email_token::Entity::find()
                        .filter(email_token::Column::UserId.eq(user_id))
                        .filter(email_token::Column::CreatedAt.gt(since))
                };
                let count = tokens().count(self.conn()).await?;
                let latest: Option<i64> = tokens()
                    .select_only()
                    .column_as(email_token::Column::CreatedAt.max(), "latest")
                    .into_tuple()
                    .one(self.conn())
                    .await?
                    .flatten();
                (count, latest)
            }
            None => (0, None),
        };
        Ok(MailCounts { by_recipient, by_ip, by_user, latest_to_recipient, latest_for_user })
    }

    /// Ids of pending mails that are due and not leased by a live sender.
    pub async fn due_mail_ids(&self, now: i64, limit: u64) -> Result<Vec<i64>, StoreError> {
        Ok(Entity::find()
            .select_only()
            .column(Column::Id)
            .filter(Column::Status.eq(PENDING))
            .filter(Column::NextAttemptAt.lte(now))
            .filter(free_lease(now))
            .order_by_asc(Column::Id)
            .limit(limit)
            .into_tuple::<i64>()
            .all(self.conn())
            .await?)
    }

    /// Claims one mail for `owner` until `lease_until`; `None` when another sender got it first.
    pub async fn claim_mail(
        &self,
        id: i64,
        owner: &str,
        now: i64,
        lease_until: i64,
    ) -> Result<Option<OutboxMail>, StoreError> {
        let claimed = Entity::update_many()
            .col_expr(Column::ClaimedBy, Expr::value(owner))
            .col_expr(Column::LeaseUntil, Expr::value(lease_until))
            .filter(Column::Id.eq(id))
            .filter(Column::Status.eq(PENDING))
            .filter(Column::NextAttemptAt.lte(now))
            .filter(free_lease(now))
            .exec(self.conn())
            .await?;
        if claimed.rows_affected != 1 {
            return Ok(None);
        }
        Ok(Entity::find_by_id(id).filter(Column::ClaimedBy.eq(owner)).one(self.conn()).await?)
    }

    /// Records the outcome of a send by the sender that holds the claim.
    pub async fn finish_mail(
        &self,
        id: i64,
        owner: &str,
        attempts: i32,
        now: i64,
        outcome: &Delivery,
    ) -> Result<(), StoreError> {
        let mut update = Entity::update_many()
            .col_expr(Column::Attempts, Expr::value(attempts))
            .col_expr(Column::LeaseUntil, Expr::value(Option::<i64>::None))
            .col_expr(Column::ClaimedBy, Expr::value(Option::<String>::None));
        update = match outcome {
            Delivery::Sent => {
                update.col_expr(Column::Status, Expr::value(SENT)).col_expr(Column::SentAt, Expr::value(now))
            }
            Delivery::Retry { next_attempt_at, error } => update
                .col_expr(Column::NextAttemptAt, Expr::value(*next_attempt_at))
                .col_expr(Column::LastError, Expr::value(error.clone())),
            Delivery::GiveUp { error } => update
                .col_expr(Column::Status, Expr::value(FAILED))
                .col_expr(Column::LastError, Expr::value(error.clone())),
        };
        update.filter(Column::Id.eq(id)).filter(Column::ClaimedBy.eq(owner)).exec(self.conn()).await?;
        Ok(())
    }

    /// One outbox row (for operators and tests).
    pub async fn outbox_mail(&self, id: i64) -> Result<Option<OutboxMail>, StoreError> {
        Ok(Entity::find_by_id(id).one(self.conn()).await?)
    }

    /// Every outbox row for a recipient, oldest first (for operators and tests).
    pub async fn outbox_for(&self, recipient: &str) -> Result<Vec<OutboxMail>, StoreError> {
        Ok(Entity::find().filter(Column::Recipient.eq(recipient)).order_by_asc(Column::Id).all(self.conn()).await?)
    }
}

/// No sender holds the row: never claimed, or its lease ran out.
fn free_lease(now: i64) -> Condition {
    Condition::any().add(Column::LeaseUntil.is_null()).add(Column::LeaseUntil.lt(now))
}
