//! `POST /registration/verify`: email + password + the mailed token mark the account verified and
//! answer a token. The same route confirms a changed address: with the new address as `email`
//! and the token mailed to it, the address becomes the account's email. Every failure (unknown
//! email, wrong password, wrong, used, expired or other-purpose token) is the same
//! `Verification Failed`.

use super::issue_token::issue_for_user;
use crate::crypto::secret;
use crate::domain::Email;
use crate::error::Error;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::email_tokens::Purpose;
use crate::store::users::User;

/// Verifies the account (or confirms its new address) and signs a token for it.
#[tracing::instrument(skip_all)]
pub async fn verify_email(state: &AppState, email: &str, password: &str, token: &str) -> Result<(User, String), Error> {
    let hash = secret::hash_secret(token.trim());
    let (user, change) = match Email::parse(email) {
        Ok(email) => match state.store.user_by_email(email.as_str()).await? {
            Some(user) => (Some(user), false),
            None => match state.store.pending_email_change(email.as_str(), &hash, state.now()).await? {
                Some((user_id, _)) => (state.store.user_by_id(user_id).await?, true),
                None => (None, false),
            },
        },
        Err(_) => (None, false),
    };
    let user = check_password(state, user, password).await?;
    let attempts = state.settings.email_token_attempts;
    let (purpose, confirmed) = match change {
        false => (Purpose::Verify, state.store.verify_with_token(user.id, &hash, state.now(), attempts).await?),
        true => {
            let confirmed = state.store.confirm_email_change(user.id, &hash, state.now(), attempts).await;
            let confirmed = confirmed.map_err(|e| match e {
                StoreError::Taken { .. } => Error::DuplicateUser,
                other => other.into(),
            })?;
            state.directory_changed();
            (Purpose::EmailChange, confirmed)
        }
    };
    let Some(user) = confirmed else {
        state.store.record_failed_token(user.id, purpose).await?;
        return Err(Error::VerificationFailed);
    };
    if user.disabled {
        return Err(Error::AccountDisabled);
    }
    let jwt = issue_for_user(state, &user, None).await?.jwt;
    Ok((user, jwt))
}

/// The user when `password` is theirs (one argon2 check either way). An account a delegate created
/// without a password has only the token to prove anything.
async fn check_password(state: &AppState, user: Option<User>, password: &str) -> Result<User, Error> {
    let stored = user.as_ref().and_then(|u| u.password_digest.clone());
    let password_ok = state.hasher.verify(password, stored.as_deref()).await?;
    match user {
        Some(user) if password_ok || stored.is_none() => Ok(user),
        _ => Err(Error::VerificationFailed),
    }
}
