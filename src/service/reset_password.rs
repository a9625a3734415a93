//! `POST /registration/forgot_password`: asking for a reset mail, and setting a new password with
//! the mailed token.
//!
//! Asking never changes the account and answers the same whether or not the email has an account:
//! the lookup, the limits and the write happen after the answer (see [`request_reset`]), so neither
//! the body nor the time tells anything. A completed reset stores a new argon2id digest with
//! `password_changed_at = now` (which ends the user's other sessions) and marks the email verified.

use std::net::IpAddr;

use super::audit::{self, Actor, AuditEvent};
use super::email_tokens::{MailAudience, MailRequest, mail_allowed, prepare_mail};
use super::issue_token::issue_for_user;
use crate::crypto::secret;
use crate::domain::{Email, Password};
use crate::email::MailKind;
use crate::email::templates::ParsedOverrides;
use crate::error::Error;
use crate::state::AppState;
use crate::store::email_tokens::Purpose;
use crate::store::users::User;

/// Queues a reset mail when `email` has an enabled account and the mail limits allow it; otherwise
/// does nothing. Errors are logged, never answered (the caller has already been told `{}`).
#[tracing::instrument(skip_all)]
pub async fn request_reset(
    state: &AppState,
    email: &str,
    overrides: Option<&ParsedOverrides>,
    client_ip: Option<IpAddr>,
) -> Result<bool, Error> {
    let Ok(email) = Email::parse(email) else { return Ok(false) };
    let Some(user) = state.store.user_by_email(email.as_str()).await? else { return Ok(false) };
    if user.disabled {
        tracing::info!(user_id = user.id, "reset mail not queued: the account is disabled");
        return Ok(false);
    }
    let audience = MailAudience { recipient: email.as_str(), client_ip, user_id: Some(user.id) };
    if !mail_allowed(state, audience).await? {
        tracing::info!(user_id = user.id, "reset mail not queued: mail limit reached");
        return Ok(false);
    }
    let request = MailRequest {
        kind: MailKind::Reset,
        email: email.as_str(),
        name: user.full_name.as_deref().unwrap_or_default(),
        handle: &user.handle,
        overrides,
        client_ip,
        new_email: false,
    };
    let prepared = prepare_mail(state, request).await?;
    state.store.issue_email_token(user.id, &prepared.token, &prepared.mail, state.now()).await?;
    state.mail_queued();
    Ok(true)
}

/// Sets a new password with a reset token and signs a token for the user.
#[tracing::instrument(skip_all)]
pub async fn reset_password(
    state: &AppState,
    email: &str,
    token: &str,
    password: &str,
) -> Result<(User, String), Error> {
    let password = Password::parse(password).map_err(|_| Error::InvalidPassword)?;
    // Hashed first: the same cost whether or not the account exists.
    let digest = state.hasher.hash(password.expose()).await?;
    let user = match Email::parse(email) {
        Ok(email) => state.store.user_by_email(email.as_str()).await?,
        Err(_) => None,
    };
    let Some(user) = user else { return Err(Error::VerificationFailed) };
    let attempts = state.settings.email_token_attempts;
    let hash = secret::hash_secret(token.trim());
    let Some(user) = state.store.reset_with_token(user.id, &hash, &digest, state.now(), attempts).await? else {
        state.store.record_failed_token(user.id, Purpose::Reset).await?;
        return Err(Error::VerificationFailed);
    };
    state.directory_changed();
    state.monitor.password_reset();
    super::revoke::end_all_sessions(state, user.id, None).await?;
    let event = AuditEvent::new(Actor::User(user.id), "users.password-reset").target(format!("users:{}", user.id));
    audit::record(state, event).await;
    if user.disabled {
        return Err(Error::AccountDisabled);
    }
    let jwt = issue_for_user(state, &user, None).await?.jwt;
    Ok((user, jwt))
}
