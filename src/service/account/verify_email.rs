//! `POST /registration/verify`: email + password + the mailed token mark the account verified and
//! answer a token. The same route confirms a changed address: with the new address as `email`
//! and the token mailed to it, the address becomes the account's email. Every failure (unknown
//! email, wrong password, wrong, used, expired or other-purpose token) is the same
//! `Verification Failed`.

use crate::crypto::secret;
use crate::domain::{Email, Submitted};
use crate::error::Error;
use crate::runtime::request_context;
use crate::runtime::request_context::RequestMeta;
use crate::service::account::Account;
use crate::service::account::email_tokens::throttle_token_attempt;
use crate::service::account::mail_sign_in::{self, Completed, FactorCodes};
use crate::store::StoreError;
use crate::store::users::User;

/// A verification as it arrived.
#[derive(Debug, Clone)]
pub struct VerifyRequest {
    pub email: Submitted<Email>,
    pub password: String,
    pub token: String,
    pub totp_code: Option<String>,
    pub recovery_code: Option<String>,
    /// The HTTP request it came in (client address for the limits, id for the audit trail).
    pub meta: RequestMeta,
}

/// Verifies the account (or confirms its new address) and signs the user in, unless a second
/// factor holds it back (see `service::account::mail_sign_in`). Runs to completion whatever the client does.
pub async fn verify_email(account: &Account, request: VerifyRequest) -> Result<Completed, Error> {
    let owned = account.clone();
    request_context::run_to_completion(async move { verify(&owned, request).await }).await
}

#[tracing::instrument(skip_all)]
async fn verify(account: &Account, request: VerifyRequest) -> Result<Completed, Error> {
    throttle_token_attempt(account, request.email.text(), request.meta.client_ip).await?;
    let hash = secret::hash_secret(request.token.trim());
    let now = account.now();
    let (user, new_email) = match request.email.value() {
        Ok(email) => match account.store().user_by_email(email.as_str()).await? {
            Some(user) => (Some(user), None),
            None => match account.store().pending_email_change(email.as_str(), &hash, now).await? {
                Some((user_id, new_email)) => (account.store().user_by_id(user_id).await?, Some(new_email)),
                None => (None, None),
            },
        },
        Err(_) => (None, None),
    };
    let user = check_password(account, user, &request.password).await?;
    let confirmed = match new_email {
        None => account.store().verify_with_token(user.id, &user.email, &hash, now).await?,
        Some(new_email) => {
            let confirmed = account.store().confirm_email_change(user.id, &new_email, &hash, now).await;
            let confirmed = confirmed.map_err(|e| match e {
                StoreError::Taken { .. } => Error::DuplicateUser,
                other => other.into(),
            })?;
            account.auth.directory.changed();
            confirmed
        }
    };
    let user = confirmed.ok_or(Error::VerificationFailed)?;
    let codes =
        FactorCodes { totp_code: request.totp_code.as_deref(), recovery_code: request.recovery_code.as_deref() };
    mail_sign_in::sign_in(&account.auth, user, codes, &request.meta).await
}

/// The user when `password` is theirs (one argon2 check either way). An account a delegate created
/// without a password has only the token to prove anything.
async fn check_password(account: &Account, user: Option<User>, password: &str) -> Result<User, Error> {
    let stored = user.as_ref().and_then(|u| u.password_digest.clone());
    let password_ok = account.auth.hasher.verify(password, stored.as_deref()).await?;
    match user {
        Some(user) if password_ok || stored.is_none() => Ok(user),
        _ => Err(Error::VerificationFailed),
    }
}
