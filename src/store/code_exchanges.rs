//! Group commit of authorization-code exchanges on SQLite. Each exchange is one write transaction,
//! and SQLite has one writer; sqlx hands every statement to the connection's thread, so a
//! transaction holds the write lock mostly for hand-offs (docs/benchmarks.md, "OpenID Provider").
//! Exchanges that arrive while one is being written wait here and are written together: their
//! codes claimed in one statement, their sessions inserted, the codes pointed at them in one
//! statement, their refresh tokens inserted in one statement, one commit. Of two exchanges of one
//! code, in a batch or not, exactly one wins, as with the one-by-one path.

use std::collections::HashMap;

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{CaseStatement, Expr};
use sea_orm::{ActiveValue::Set, QueryFilter};
use tokio::sync::{mpsc, oneshot};

use super::entity::oauth_code::{Column, Entity};
use super::entity::refresh_token;
use super::entity::session;
use super::oauth_codes::{AuthorizationCode, Exchange, KIND_OAUTH};
use super::{Store, StoreError};

/// Exchanges written in one transaction at most.
const MAX_BATCH: usize = 64;

/// An exchange waiting to be written.
pub(super) struct Job {
    pub code: AuthorizationCode,
    pub session: OwnedOauthSession,
    pub reply: oneshot::Sender<Result<Exchange, StoreError>>,
}

/// [`super::oauth_codes::NewOauthSession`], owned to cross to the writer.
pub(super) struct OwnedOauthSession {
    pub expires_at: i64,
    pub refresh_hash: Option<String>,
    pub client_ip: Option<String>,
    pub now: i64,
}

/// The queue of exchanges and the task that writes them; the task ends when the last store
/// handle holding the queue is dropped.
pub(super) fn start(store: Store) -> mpsc::Sender<Job> {
    let (sender, mut receiver) = mpsc::channel::<Job>(4 * MAX_BATCH);
    tokio::spawn(async move {
        while let Some(first) = receiver.recv().await {
            let mut jobs = vec![first];
            while jobs.len() < MAX_BATCH {
                match receiver.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            write_batch(&store, jobs).await;
        }
    });
    sender
}

async fn write_batch(store: &Store, jobs: Vec<Job>) {
    let (requests, replies): (Vec<_>, Vec<_>) =
        jobs.into_iter().map(|job| ((job.code, job.session), job.reply)).unzip();
    match exchange_batch(store, &requests).await {
        Ok(outcomes) => {
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                let _ = reply.send(Ok(outcome));
            }
        }
        Err(err) => {
            let unavailable = matches!(err, StoreError::Unavailable);
            let text = err.to_string();
            for reply in replies {
                let err =
                    if unavailable { StoreError::Unavailable } else { StoreError::Db(DbErr::Custom(text.clone())) };
                let _ = reply.send(Err(err));
            }
        }
    }
}

/// Writes a batch in one transaction; the outcome of each exchange, in order.
async fn exchange_batch(
    store: &Store,
    requests: &[(AuthorizationCode, OwnedOauthSession)],
) -> Result<Vec<Exchange>, StoreError> {
    let now = requests.iter().map(|(_, s)| s.now).max().unwrap_or_default();
    let (tx, _gate) = store.begin_write().await?;
    let claimed = Entity::update_many()
        .col_expr(Column::UsedAt, Expr::value(now))
        .filter(Column::Id.is_in(requests.iter().map(|(code, _)| code.id)))
        .filter(Column::UsedAt.is_null())
        .exec_with_returning(&tx)
        .await?;
    // A code claimed now goes to the first of its exchanges in the batch; any other is a reuse.
    let mut unclaimed: Vec<i64> = claimed.iter().map(|row| row.id).collect();
    let mut opened: Vec<Option<session::Model>> = Vec::with_capacity(requests.len());
    for (code, new) in requests {
        let Some(at) = unclaimed.iter().position(|id| *id == code.id) else {
            opened.push(None);
            continue;
        };
        unclaimed.swap_remove(at);
        opened.push(Some(session_row(code, new).insert(&tx).await?));
    }
    let winners: Vec<(i64, i64)> =
        requests.iter().zip(&opened).filter_map(|((code, _), s)| s.as_ref().map(|s| (code.id, s.id))).collect();
    if !winners.is_empty() {
        let mut case = CaseStatement::new();
        for (code_id, session_id) in &winners {
            case = case.case(Column::Id.eq(*code_id), Expr::value(*session_id));
        }
        Entity::update_many()
            .col_expr(Column::SessionId, case.finally(Expr::col(Column::SessionId)).into())
            .filter(Column::Id.is_in(winners.iter().map(|(code, _)| *code)))
            .exec(&tx)
            .await?;
    }
    let tokens: Vec<refresh_token::ActiveModel> = requests
        .iter()
        .zip(&opened)
        .filter_map(|((_, new), s)| Some((new.refresh_hash.as_ref()?, s.as_ref()?)))
        .map(|(hash, s)| refresh_token::ActiveModel {
            session_id: Set(s.id),
            token_hash: Set(hash.clone()),
            issued_at: Set(now),
            used_at: Set(None),
            successor: Set(None),
            ..Default::default()
        })
        .collect();
    if !tokens.is_empty() {
        refresh_token::Entity::insert_many(tokens).exec_without_returning(&tx).await?;
    }
    // Reuses learn the session of the code's first exchange (this batch's or an earlier one).
    let reused: Vec<i64> = requests.iter().zip(&opened).filter(|(_, s)| s.is_none()).map(|((c, _), _)| c.id).collect();
    let first_sessions: HashMap<i64, Option<i64>> = match reused.is_empty() {
        true => HashMap::new(),
        false => Entity::find()
            .filter(Column::Id.is_in(reused))
            .all(&tx)
            .await?
            .into_iter()
            .map(|row| (row.id, row.session_id))
            .collect(),
    };
    tx.commit().await?;
    Ok(requests
        .iter()
        .zip(opened)
        .map(|((code, _), s)| match s {
            Some(session) => Exchange::Opened(Box::new(session)),
            None => Exchange::AlreadyUsed(first_sessions.get(&code.id).copied().flatten()),
        })
        .collect())
}

/// The session an exchange of `code` opens.
pub(super) fn session_row(code: &AuthorizationCode, new: &OwnedOauthSession) -> session::ActiveModel {
    session::ActiveModel {
        user_id: Set(code.user_id),
        kind: Set(KIND_OAUTH.to_owned()),
        secret_hash: Set(None),
        created_at: Set(new.now),
        password_checked_at: Set(code.auth_time),
        last_used_at: Set(new.now),
        expires_at: Set(new.expires_at),
        revoked_at: Set(None),
        client_ip: Set(new.client_ip.clone()),
        actor: Set(None),
        client_id: Set(Some(code.client_id.clone())),
        scope: Set(Some(code.scope.clone())),
        auth_time: Set(Some(code.auth_time)),
        amr: Set(code.amr.clone()),
        ..Default::default()
    }
}
