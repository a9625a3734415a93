//! Email tokens and the mails that carry them: a token of 256 bits from a CSPRNG (stored only
//! as its SHA-256), rendered into the mail at enqueue time (so a template change or a restart does
//! not alter mail in flight), and the per-recipient / per-client-address limits on queued mail,
//! counted in the database so they hold across instances.

use std::net::IpAddr;

use chrono::{DateTime, SecondsFormat};

use crate::crypto::{secret, tokens};
use crate::email::templates::{self, ParsedOverrides};
use crate::email::{MailKind, MailVars};
use crate::error::Error;
use crate::runtime::rate_limit::Limit;
use crate::service::account::Account;
use crate::store::email_tokens::{NewEmailToken, Purpose};
use crate::store::outbox::NewOutboxMail;

/// Random bytes in a token.
pub const TOKEN_BYTES: usize = 32;
/// The window of the mail limits.
pub const LIMIT_WINDOW_SECONDS: i64 = 3600;

/// Who a mail is for and how it should look.
#[derive(Clone, Copy)]
pub struct MailRequest<'a> {
    pub kind: MailKind,
    pub email: &'a str,
    pub name: &'a str,
    pub handle: &'a str,
    pub overrides: Option<&'a ParsedOverrides>,
    pub client_ip: Option<IpAddr>,
    /// The mail confirms `email` as an existing account's new address (not a signup).
    pub new_email: bool,
}

/// A token and its rendered mail, ready to be stored in one transaction.
#[derive(Debug, Clone)]
pub struct PreparedMail {
    pub token: NewEmailToken,
    pub mail: NewOutboxMail,
}

/// Who a mail would reach and who asked for it: every path that queues mail asks
/// [`mail_allowed`] with all three first.
#[derive(Debug, Clone, Copy)]
pub struct MailAudience<'a> {
    pub recipient: &'a str,
    pub client_ip: Option<IpAddr>,
    /// The account the mail is about (`None` for a signup, whose account does not exist yet).
    pub user_id: Option<i64>,
}

/// Past the per-address or per-account limit, one more mail may go out this long after the newest
/// (seconds): whoever spends the hour's mails, the owner gets a fresh one within 10 minutes.
pub const OWNER_MAIL_INTERVAL_SECONDS: i64 = 600;

/// Whether another mail may be queued (AUTHIFY_MAIL_LIMIT_PER_RECIPIENT, _PER_IP, _PER_USER).
/// The per-client limit is strict; past the per-address and per-account limits a mail may still
/// go out [`OWNER_MAIL_INTERVAL_SECONDS`] after the newest, so an attacker who spends them cannot
/// keep an owner from a fresh mail for an hour (docs/account-recovery.md).
pub async fn mail_allowed(account: &Account, audience: MailAudience<'_>) -> Result<bool, Error> {
    let settings = &account.auth.settings;
    let ip = audience.client_ip.map(|ip| ip.to_string());
    let now = account.now();
    let since = now - LIMIT_WINDOW_SECONDS;
    let counts = account.store().recent_mail_counts(audience.recipient, ip.as_deref(), audience.user_id, since).await?;
    let over = |count: u64, limit: u32| limit > 0 && count >= u64::from(limit);
    let spaced = |latest: Option<i64>| latest.is_none_or(|at| now - at >= OWNER_MAIL_INTERVAL_SECONDS);
    Ok(!over(counts.by_ip, settings.mail_limit_per_ip)
        && (!over(counts.by_recipient, settings.mail_limit_per_recipient) || spaced(counts.latest_to_recipient))
        && (!over(counts.by_user, settings.mail_limit_per_user) || spaced(counts.latest_for_user)))
}

/// The window of [`throttle_token_attempt`].
pub const ATTEMPT_WINDOW_SECONDS: u32 = 900;

/// Counts an attempt to use a mailed token for `email` from `client_ip`: at most
/// AUTHIFY_EMAIL_TOKEN_ATTEMPTS per 15 minutes per (account, client), else 429. Wrong tokens are
/// throttled this way instead of wearing out the live token, so nobody can block another's
/// recovery by guessing.
pub async fn throttle_token_attempt(account: &Account, email: &str, client_ip: Option<IpAddr>) -> Result<(), Error> {
    let client = client_ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    let key = format!("email-token:{client}:{}", crate::service::account::lockout::account_key(email));
    let limit = Limit { limit: account.auth.settings.email_token_attempts, window: ATTEMPT_WINDOW_SECONDS };
    account.auth.limiter.hit(&key, limit, account.now()).await
}

/// Makes a token and renders its mail (422 when a template fails to render).
pub async fn prepare_mail(account: &Account, request: MailRequest<'_>) -> Result<PreparedMail, Error> {
    let token = tokens::random_token(TOKEN_BYTES);
    let expires_at = account.now() + i64::from(account.auth.settings.email_token_minutes) * 60;
    let valid_until = DateTime::from_timestamp(expires_at, 0)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default();
    let base = account.templates.for_kind(request.kind);
    let chosen = match request.overrides {
        Some(overrides) => base.with_overrides(overrides),
        None => base.clone(),
    };
    let vars = MailVars {
        token: token.clone(),
        valid_until,
        email: request.email.to_owned(),
        name: request.name.to_owned(),
        handle: request.handle.to_owned(),
    };
    let rendered = templates::render(chosen, vars).await?;
    let purpose = match (request.kind, request.new_email) {
        (MailKind::Verify, true) => Purpose::EmailChange,
        (MailKind::Verify, false) => Purpose::Verify,
        (MailKind::Reset, _) => Purpose::Reset,
    };
    let new_email = request.new_email.then(|| request.email.to_owned());
    Ok(PreparedMail {
        token: NewEmailToken {
            purpose,
            token_hash: secret::hash_secret(&token),
            expires_at,
            new_email,
            sent_to: request.email.to_owned(),
        },
        mail: NewOutboxMail {
            recipient: request.email.to_owned(),
            client_ip: request.client_ip.map(|ip| ip.to_string()),
            subject: rendered.subject,
            text_body: rendered.text,
            html_body: rendered.html,
        },
    })
}
