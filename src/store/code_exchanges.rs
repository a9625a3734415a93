//! Group commit of authorization-code exchanges on SQLite. Each exchange is one write transaction,
//! and SQLite has one writer; sqlx hands every statement to the connection's thread, so a
//! transaction holds the write lock mostly for hand-offs (docs/benchmarks.md, "OpenID Provider").
//! Exchanges that arrive while one is being written wait here and are written together, in one
//! transaction of five or six statements whatever their number: their codes and users read in
//! one, each checked by the service's rule, the sessions of the accepted unused codes inserted in
//! one, those codes claimed and pointed at their sessions in one, their refresh tokens inserted in
//! one. The transaction holds SQLite's write lock from its start (`BEGIN IMMEDIATE`), so what it
//! reads stays true until it commits: of two exchanges of one code, in a batch or not, exactly one
//! wins, as with the one-by-one path.

use std::collections::HashMap;

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{CaseStatement, Expr};
use sea_orm::{ActiveValue::Set, DatabaseTransaction, QueryFilter};
use tokio::sync::{mpsc, oneshot};

use super::entity::oauth_code::{Column, Entity};
use super::entity::refresh_token;
use super::entity::session;
use super::oauth_codes::{
    Accepted, AuthorizationCode, CodeCheck, Exchange, KIND_OAUTH, OpenedSession, codes_with_users,
};
use super::sessions::unused_refresh_token;
use super::users::User;
use super::{Store, StoreError};

/// Exchanges written in one transaction at most.
const MAX_BATCH: usize = 64;

/// An exchange waiting to be written.
pub(super) struct Job {
    pub code_hash: String,
    pub check: CodeCheck,
    pub session: OwnedOauthSession,
    pub reply: oneshot::Sender<Result<Exchange, StoreError>>,
}

/// [`super::oauth_codes::NewOauthSession`], owned to cross to the writer.
pub(super) struct OwnedOauthSession {
    pub expires_at: i64,
    pub refresh_hash: String,
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
    let mut replies = Vec::with_capacity(jobs.len());
    let mut checks = Vec::with_capacity(jobs.len());
    let mut requests = Vec::with_capacity(jobs.len());
    for job in jobs {
        replies.push(job.reply);
        checks.push(job.check);
        requests.push(Request { code_hash: job.code_hash, session: job.session });
    }
    match exchange_batch(store, requests, checks).await {
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

/// One exchange of a batch.
struct Request {
    code_hash: String,
    session: OwnedOauthSession,
}

/// What the batch found for one exchange before writing.
enum Verdict {
    /// Accepted, the first exchange of an unused code: it opens a session.
    Wins(AuthorizationCode, User, Accepted),
    /// Accepted, but the code was used before (by an earlier transaction or an earlier exchange
    /// of this batch, whose index is given).
    Reuse(AuthorizationCode, Option<usize>),
    Done(Exchange),
}

/// Writes a batch in one transaction; the outcome of each exchange, in order.
async fn exchange_batch(
    store: &Store,
    requests: Vec<Request>,
    checks: Vec<CodeCheck>,
) -> Result<Vec<Exchange>, StoreError> {
    let now = requests.iter().map(|r| r.session.now).max().unwrap_or_default();
    let (tx, _gate) = store.begin_write().await?;
    let found: HashMap<String, (AuthorizationCode, User)> =
        codes_with_users(&tx, requests.iter().map(|r| r.code_hash.clone()))
            .await?
            .into_iter()
            .map(|(code, user)| (code.code_hash.clone(), (code, user)))
            .collect();
    let verdicts = judge(&requests, checks, &found);
    let winners: Vec<usize> =
        verdicts.iter().enumerate().filter(|(_, v)| matches!(v, Verdict::Wins(..))).map(|(i, _)| i).collect();
    let sessions = open_sessions(&tx, &requests, &verdicts, &winners).await?;
    claim_codes(&tx, &verdicts, &sessions, now).await?;
    let tokens: Vec<refresh_token::ActiveModel> = sessions
        .iter()
        .filter(|(at, _)| matches!(verdicts[*at], Verdict::Wins(_, _, accepted) if accepted.with_refresh_token))
        .map(|(at, s)| unused_refresh_token(s.id, &requests[*at].session.refresh_hash, now))
        .collect();
    if !tokens.is_empty() {
        refresh_token::Entity::insert_many(tokens).exec_without_returning(&tx).await?;
    }
    let outcomes = outcomes(verdicts, sessions)?;
    tx.commit().await?;
    Ok(outcomes)
}

/// Each exchange's outcome, in order, once its batch's sessions are open.
fn outcomes(verdicts: Vec<Verdict>, sessions: Vec<(usize, session::Model)>) -> Result<Vec<Exchange>, StoreError> {
    let first_sessions: HashMap<usize, i64> = sessions.iter().map(|(at, s)| (*at, s.id)).collect();
    let mut opened: HashMap<usize, session::Model> = sessions.into_iter().collect();
    verdicts
        .into_iter()
        .enumerate()
        .map(|(at, verdict)| match verdict {
            Verdict::Wins(code, user, accepted) => {
                let session = opened.remove(&at).ok_or_else(|| {
                    StoreError::Db(DbErr::Custom("an exchange of the batch has no session".to_owned()))
                })?;
                Ok(Exchange::Opened(Box::new(OpenedSession { code, user, session, accepted })))
            }
            Verdict::Reuse(code, first) => {
                let first_session = match first {
                    Some(first) => first_sessions.get(&first).copied(),
                    None => code.session_id,
                };
                Ok(Exchange::AlreadyUsed { code: Box::new(code), first_session })
            }
            Verdict::Done(exchange) => Ok(exchange),
        })
        .collect()
}

/// Runs each exchange's check on its code; of the accepted exchanges of an unused code, the
/// first wins and any other is a reuse of it.
fn judge(
    requests: &[Request],
    checks: Vec<CodeCheck>,
    found: &HashMap<String, (AuthorizationCode, User)>,
) -> Vec<Verdict> {
    let mut first_of: HashMap<i64, usize> = HashMap::new();
    let mut verdicts = Vec::with_capacity(requests.len());
    for (at, (request, check)) in requests.iter().zip(checks).enumerate() {
        let Some((code, user)) = found.get(&request.code_hash) else {
            verdicts.push(Verdict::Done(Exchange::Unknown));
            continue;
        };
        let verdict = match check(code, user) {
            Err(reason) => Verdict::Done(Exchange::Refused(reason)),
            Ok(_) if code.used_at.is_some() => Verdict::Reuse(code.clone(), None),
            Ok(accepted) => match first_of.get(&code.id) {
                Some(first) => Verdict::Reuse(code.clone(), Some(*first)),
                None => {
                    first_of.insert(code.id, at);
                    Verdict::Wins(code.clone(), user.clone(), accepted)
                }
            },
        };
        verdicts.push(verdict);
    }
    verdicts
}

/// Inserts the winners' sessions in one statement; each winner's index with its session. The
/// table's ids are AUTOINCREMENT, so the rows of one insert get increasing ids in the order of its
/// VALUES: the returned rows (in no promised order) are matched to winners by id, and checked.
async fn open_sessions(
    tx: &DatabaseTransaction,
    requests: &[Request],
    verdicts: &[Verdict],
    winners: &[usize],
) -> Result<Vec<(usize, session::Model)>, StoreError> {
    if winners.is_empty() {
        return Ok(Vec::new());
    }
    let code_of = |at: usize| match &verdicts[at] {
        Verdict::Wins(code, ..) => Some(code),
        _ => None,
    };
    let rows: Vec<session::ActiveModel> =
        winners.iter().filter_map(|at| Some(session_row(code_of(*at)?, &requests[*at].session))).collect();
    let mut inserted = session::Entity::insert_many(rows).exec_with_returning(tx).await?;
    inserted.sort_unstable_by_key(|s| s.id);
    let paired: Vec<(usize, session::Model)> = winners.iter().copied().zip(inserted).collect();
    // Never a session matched to another exchange's code: checked, not assumed.
    let matched = paired.len() == winners.len()
        && paired.iter().all(|(at, s)| {
            code_of(*at).is_some_and(|c| s.user_id == c.user_id && s.client_id.as_deref() == Some(c.client_id.as_str()))
        });
    if !matched {
        return Err(StoreError::Db(DbErr::Custom("the batch's sessions came back unmatched".to_owned())));
    }
    Ok(paired)
}

/// Marks the winners' codes used and points each at its session, in one statement; any code
/// found used meanwhile fails the whole batch rather than open a second session.
async fn claim_codes(
    tx: &DatabaseTransaction,
    verdicts: &[Verdict],
    sessions: &[(usize, session::Model)],
    now: i64,
) -> Result<(), StoreError> {
    if sessions.is_empty() {
        return Ok(());
    }
    let code_ids: Vec<(i64, i64)> = sessions
        .iter()
        .filter_map(|(at, s)| match &verdicts[*at] {
            Verdict::Wins(code, ..) => Some((code.id, s.id)),
            _ => None,
        })
        .collect();
    let mut case = CaseStatement::new();
    for (code_id, session_id) in &code_ids {
        case = case.case(Column::Id.eq(*code_id), Expr::value(*session_id));
    }
    let claimed = Entity::update_many()
        .col_expr(Column::UsedAt, Expr::value(now))
        .col_expr(Column::SessionId, case.finally(Expr::col(Column::SessionId)).into())
        .filter(Column::Id.is_in(code_ids.iter().map(|(code, _)| *code)))
        .filter(Column::UsedAt.is_null())
        .exec(tx)
        .await?;
    if claimed.rows_affected != code_ids.len() as u64 {
        return Err(StoreError::Db(DbErr::Custom("a code of the batch was claimed meanwhile".to_owned())));
    }
    Ok(())
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
