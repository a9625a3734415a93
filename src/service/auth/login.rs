//! Password login: one answer and one cost for every failure, so neither the text nor the timing
//! tells an unknown email from a wrong password or an unverified account.

use std::time::Instant;

use serde_json::{Map, Value};

use crate::crypto::password::PasswordHasher;
use crate::domain::{Email, Submitted};
use crate::error::Error;
use crate::runtime::audit::{self, Actor, AuditEvent};
use crate::runtime::equal_time::TypicalDuration;
use crate::runtime::request_context::{self, RequestMeta};
use crate::service::account::lockout::{self, Outcome};
use crate::service::account::totp;
use crate::service::auth::Auth;
use crate::service::auth::passkeys::second_factor::{self, Assertion};
use crate::service::auth::refresh::{TokenPair, start_session};
use crate::store::users::User;

/// One interactive login attempt as it arrived (`POST /jwt/token`, `POST /session`).
#[derive(Debug, Clone, Copy)]
pub struct PasswordAttempt<'a> {
    /// The login name as typed: an unknown account when it is not an email address.
    pub email: &'a Submitted<Email>,
    pub password: &'a str,
    /// A current TOTP code, for accounts with a second factor.
    pub totp_code: Option<&'a str>,
    /// A one-time recovery code, instead of `totp_code`.
    pub recovery_code: Option<&'a str>,
    /// A passkey assertion, instead of `totp_code`, for the ceremony the refusal that asked for a
    /// second factor carried.
    pub passkey: Option<&'a Assertion>,
    /// The request it came in, for rate limits and the audit trail.
    pub request: &'a RequestMeta,
}

/// Checks email and password and opens a session: a token and a refresh token.
#[tracing::instrument(skip_all)]
pub async fn password_login(
    auth: &Auth,
    attempt: &PasswordAttempt<'_>,
    inject: Option<Map<String, Value>>,
) -> Result<TokenPair, Error> {
    let user = check_password(auth, attempt).await?;
    start_session(auth, &user, None, None, inject, attempt.request).await
}

/// Checks an interactive login and answers the user it is good for (see [`verify_password`]).
/// Every attempt is audited (`login.password`), so callers do not record it again. The check runs
/// to completion even when the client goes away mid-way (see [`request_context::run_to_completion`]).
pub async fn check_password(auth: &Auth, attempt: &PasswordAttempt<'_>) -> Result<User, Error> {
    let auth = auth.clone();
    let attempt = OwnedAttempt::from(attempt);
    request_context::run_to_completion(async move { audited_check(&auth, &attempt.borrowed()).await }).await
}

/// [`PasswordAttempt`] owned, to move into the task that checks it.
struct OwnedAttempt {
    email: Submitted<Email>,
    password: String,
    totp_code: Option<String>,
    recovery_code: Option<String>,
    passkey: Option<Assertion>,
    request: RequestMeta,
}

impl OwnedAttempt {
    fn from(attempt: &PasswordAttempt<'_>) -> Self {
        Self {
            email: attempt.email.clone(),
            password: attempt.password.to_owned(),
            totp_code: attempt.totp_code.map(str::to_owned),
            recovery_code: attempt.recovery_code.map(str::to_owned),
            passkey: attempt.passkey.cloned(),
            request: attempt.request.clone(),
        }
    }

    fn borrowed(&self) -> PasswordAttempt<'_> {
        PasswordAttempt {
            email: &self.email,
            password: &self.password,
            totp_code: self.totp_code.as_deref(),
            recovery_code: self.recovery_code.as_deref(),
            passkey: self.passkey.as_ref(),
            request: &self.request,
        }
    }
}

async fn audited_check(auth: &Auth, attempt: &PasswordAttempt<'_>) -> Result<User, Error> {
    let result = verify_password(auth, attempt).await;
    if matches!(result, Err(Error::Busy { .. })) {
        return result;
    }
    let event = match &result {
        Ok(user) => AuditEvent::during(attempt.request, Actor::User(user.id), "login.password")
            .target(format!("users:{}", user.id)),
        Err(_) => AuditEvent::during(attempt.request, Actor::Anonymous, "login.password"),
    };
    let mut detail = audit::outcome(&result);
    detail["email"] = attempt.email.text().chars().take(254).collect::<String>().into();
    auth.audit().record(event.detail(detail)).await;
    result
}

/// How long a failed password check takes (the lockout reserved, the account looked up, the hash
/// verified, the failure counted): a locked account's refusal is held to it.
static FAILED_CHECK: TypicalDuration = TypicalDuration::new();

/// The per-(IP, account) rate limit and the account lockout first (a locked account's password is
/// not checked; its refusal takes as long as a failed check), then the password, the account's standing and its second factor. Failures: the same
/// [`Error::InvalidCredentials`] for any wrong credential; [`Error::AccountDisabled`] (403),
/// [`Error::TotpRequired`] and [`Error::InvalidSecondFactor`] only after a correct password;
/// [`Error::RateLimited`] / [`Error::AccountLocked`] (429) before the account is looked at.
async fn verify_password(auth: &Auth, attempt: &PasswordAttempt<'_>) -> Result<User, Error> {
    let account = lockout::login_key(attempt.email);
    lockout::limit_per_client(auth, &account, attempt.request).await?;
    let started = Instant::now();
    match lockout::reserve(auth, &account).await {
        Ok(()) => {}
        Err(locked @ Error::AccountLocked { .. }) => {
            // Not checked, but answered in the time a failed check takes.
            auth.hasher.verify(attempt.password, None).await?;
            FAILED_CHECK.wait_out(started).await;
            return Err(locked);
        }
        Err(other) => return Err(other),
    }
    let result = check_reserved(auth, attempt).await;
    let outcome = match &result {
        Ok(_) | Err(Error::AccountDisabled) => Outcome::Success,
        Err(Error::InvalidCredentials | Error::InvalidSecondFactor) => Outcome::Failure,
        Err(_) => Outcome::Neutral,
    };
    lockout::settle(auth, &account, outcome).await?;
    if matches!(outcome, Outcome::Failure) {
        FAILED_CHECK.note(started);
    }
    let user = result?;
    if let Some(old) = user.password_digest.as_deref().filter(|d| PasswordHasher::needs_rehash(d)) {
        upgrade_digest(auth, &user, old, attempt.password).await;
    }
    Ok(user)
}

/// The checks behind a reserved attempt: password, standing, second factor.
async fn check_reserved(auth: &Auth, attempt: &PasswordAttempt<'_>) -> Result<User, Error> {
    auth.hasher.admit().await?;
    let user = match attempt.email.value() {
        Ok(email) => auth.store().user_by_email(email.as_str()).await?,
        Err(_) => None,
    };
    let stored = user.as_ref().and_then(|u| u.password_digest.as_deref());
    let password_ok = auth.hasher.verify(attempt.password, stored).await?;
    let Some(user) = user.filter(|_| password_ok) else {
        return Err(Error::InvalidCredentials);
    };
    check_standing(auth, &user)?;
    check_second_factor(auth, &user, attempt).await?;
    Ok(user)
}

/// The account's second factor, when it has one: a TOTP or recovery code, or a passkey. Without
/// any, [`Error::TotpRequired`] carries a passkey ceremony for an account with passkeys.
async fn check_second_factor(auth: &Auth, user: &User, attempt: &PasswordAttempt<'_>) -> Result<(), Error> {
    match totp::check_login(auth, user, attempt.totp_code, attempt.recovery_code).await {
        Err(Error::TotpRequired(None)) => match attempt.passkey {
            Some(assertion) => match second_factor::verify(auth, user, assertion, attempt.request).await? {
                true => Ok(()),
                false => Err(Error::InvalidSecondFactor),
            },
            None => {
                let offer = second_factor::offer(auth, user).await?;
                let offer =
                    offer.map(|c| serde_json::to_value(c).map(Box::new)).transpose().map_err(Error::internal)?;
                Err(Error::TotpRequired(offer))
            }
        },
        other => other,
    }
}

/// Whether a user whose credentials were correct may get a token: a disabled account gets 403 (only
/// ever after correct credentials, so it reveals nothing to a guesser); an unverified one, when
/// verification is required, the same 401 as a wrong credential.
pub fn check_standing(auth: &Auth, user: &User) -> Result<(), Error> {
    if user.disabled {
        return Err(Error::AccountDisabled);
    }
    if auth.settings.verifications_required && !user.verified {
        return Err(Error::InvalidCredentials);
    }
    Ok(())
}

/// Replaces a legacy authify-api digest, or an argon2 hash of other parameters, by a current argon2id
/// hash now that the password is known; only while the stored digest is still the one just checked. A
/// failure is logged and the old digest keeps working until the next login.
async fn upgrade_digest(auth: &Auth, user: &User, old: &str, password: &str) {
    let result = match auth.hasher.hash(password).await {
        Ok(digest) => {
            auth.store().upgrade_password_digest(user.id, old, &digest, auth.now()).await.map_err(Error::from)
        }
        Err(err) => Err(Error::from(err)),
    };
    match result {
        Ok(true) => tracing::info!(user_id = user.id, "replaced a password digest with current argon2id"),
        Ok(false) => tracing::info!(user_id = user.id, "the password changed before its digest could be replaced"),
        Err(err) => tracing::warn!(user_id = user.id, error = %err, "could not replace a password digest"),
    }
}
