//! `POST /registration/forgot_password`: asking for a reset mail, and setting a new password with
//! the mailed token.
//!
//! Asking never changes the account and answers the same whether or not the email has an account:
//! the lookup, the limits and the write happen after the answer (see [`request_reset`]), so neither
//! the body nor the time tells anything. A completed reset stores a new argon2id digest with
//! `password_changed_at = now` (which ends the user's other sessions), marks the email verified and
//! retires every other mailed token of the user; it signs the user in only past their second
//! factor (see `service::account::mail_sign_in`).

use std::net::IpAddr;

use crate::crypto::secret;
use crate::domain::{Email, Password, Submitted};
use crate::email::MailKind;
use crate::email::RequestTemplates;
use crate::email::templates::ParsedOverrides;
use crate::error::Error;
use crate::runtime::audit::{Actor, AuditEvent};
use crate::runtime::request_context;
use crate::runtime::request_context::RequestMeta;
use crate::service::account::Account;
use crate::service::account::email_tokens::{
    MailAudience, MailRequest, mail_allowed, prepare_mail, throttle_token_attempt,
};
use crate::service::account::mail_sign_in::{self, Completed, FactorCodes};
use crate::service::account::signup;
use crate::service::auth::delegate_auth::authenticate_delegate;
use crate::service::auth::revoke;
use crate::service::directory::api_keys;

/// `POST /registration/forgot_password` with an email alone: checks the delegate (needed for
/// per-request `templates`) and the templates, then queues the reset mail in a task of its own, so
/// the answer (`{}` either way) and its timing say nothing about whether the account exists.
pub async fn ask_for_reset(
    account: &Account,
    email: Submitted<Email>,
    delegate: Option<(String, String)>,
    templates: Option<RequestTemplates>,
    request: &RequestMeta,
) -> Result<(), Error> {
    let delegate = match delegate {
        Some((access, secret)) => Some(authenticate_delegate(&account.auth, &access, &secret, request).await?),
        None => None,
    };
    let overrides = signup::request_overrides(account, delegate.as_ref(), templates.as_ref())?;
    let (account, client_ip) = (account.clone(), request.client_ip);
    let Ok(email) = email.into_value() else { return Ok(()) };
    tokio::spawn(async move {
        if let Err(err) = request_reset(&account, &email, overrides.as_ref(), client_ip).await {
            tracing::error!(code = err.code(), error = ?err, "could not queue a reset mail");
        }
    });
    Ok(())
}

/// Queues a reset mail when `email` has an enabled account and the mail limits allow it; otherwise
/// does nothing. Errors are logged, never answered (the caller has already been told `{}`).
#[tracing::instrument(skip_all)]
pub async fn request_reset(
    account: &Account,
    email: &Email,
    overrides: Option<&ParsedOverrides>,
    client_ip: Option<IpAddr>,
) -> Result<bool, Error> {
    let Some(user) = account.store().user_by_email(email.as_str()).await? else { return Ok(false) };
    if user.disabled {
        tracing::info!(user_id = user.id, "reset mail not queued: the account is disabled");
        return Ok(false);
    }
    let audience = MailAudience { recipient: email.as_str(), client_ip, user_id: Some(user.id) };
    if !mail_allowed(account, audience).await? {
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
    let prepared = prepare_mail(account, request).await?;
    account.store().issue_email_token(user.id, &prepared.token, &prepared.mail, account.now()).await?;
    account.mail_queued();
    Ok(true)
}

/// A reset as it arrived: the mailed token, the new password, the codes of a second factor and
/// whether to revoke the account's API keys too (off by default: machine clients keep working).
#[derive(Debug, Clone)]
pub struct ResetRequest {
    pub email: Submitted<Email>,
    pub token: String,
    pub password: Submitted<Password>,
    pub totp_code: Option<String>,
    pub recovery_code: Option<String>,
    pub revoke_api_keys: bool,
    /// The HTTP request it came in (client address for the limits, id for the audit trail).
    pub meta: RequestMeta,
}

/// Sets a new password with a reset token, ends every session of the user (and, when asked, every
/// API key), and signs the user in unless a second factor holds it back. Runs to completion even
/// when the client goes away, so a reset never stops between the new password and the ended
/// sessions.
pub async fn reset_password(account: &Account, request: ResetRequest) -> Result<Completed, Error> {
    let owned = account.clone();
    request_context::run_to_completion(async move { reset(&owned, request).await }).await
}

#[tracing::instrument(skip_all)]
async fn reset(account: &Account, request: ResetRequest) -> Result<Completed, Error> {
    let password = request.password.value().map_err(|_| Error::InvalidPassword)?;
    throttle_token_attempt(account, request.email.text(), request.meta.client_ip).await?;
    // Hashed first: the same cost whether or not the account exists.
    let digest = account.auth.hasher.hash(password.expose()).await?;
    let user = match request.email.value() {
        Ok(email) => account.store().user_by_email(email.as_str()).await?,
        Err(_) => None,
    };
    let Some(user) = user else { return Err(Error::VerificationFailed) };
    let hash = secret::hash_secret(request.token.trim());
    let now = account.now();
    let Some(user) = account.store().reset_with_token(user.id, &user.email, &hash, &digest, now).await? else {
        return Err(Error::VerificationFailed);
    };
    account.auth.directory.changed();
    account.auth.tokens.monitor.password_reset();
    let sessions_ended = revoke::end_all_sessions(&account.auth.sessions, user.id, None).await?;
    let api_keys_revoked = match request.revoke_api_keys {
        true => api_keys::delete_all_api_keys(&account.auth.directory, &account.auth.sessions, user.id).await?,
        false => 0,
    };
    let detail = serde_json::json!({"sessions_ended": sessions_ended, "api_keys_revoked": api_keys_revoked});
    let event = AuditEvent::during(&request.meta, Actor::User(user.id), "users.password-reset")
        .target(format!("users:{}", user.id));
    account.audit().record(event.detail(detail)).await;
    let codes =
        FactorCodes { totp_code: request.totp_code.as_deref(), recovery_code: request.recovery_code.as_deref() };
    mail_sign_in::sign_in(&account.auth, user, codes, &request.meta).await
}
