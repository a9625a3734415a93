//! `POST /registration/verify`: email + password + the mailed token mark the account verified and
//! answer a token. Every failure (unknown email, wrong password, wrong, used, expired or
//! other-purpose token) is the same `Verification Failed`.

use super::issue_token::issue_for_user;
use crate::crypto::secret;
use crate::domain::Email;
use crate::error::Error;
use crate::state::AppState;
use crate::store::email_tokens::Purpose;
use crate::store::users::User;

/// Verifies the account and signs a token for it.
#[tracing::instrument(skip_all)]
pub async fn verify_email(state: &AppState, email: &str, password: &str, token: &str) -> Result<(User, String), Error> {
    let user = match Email::parse(email) {
        Ok(email) => state.store.user_by_email(email.as_str()).await?,
        Err(_) => None,
    };
    let stored = user.as_ref().and_then(|u| u.password_digest.clone());
    let password_ok = state.hasher.verify(password, stored.as_deref()).await?;
    let Some(user) = user else { return Err(Error::VerificationFailed) };
    // An account a delegate created without a password has only the token to prove anything.
    if stored.is_some() && !password_ok {
        return Err(Error::VerificationFailed);
    }
    let attempts = state.settings.email_token_attempts;
    let hash = secret::hash_secret(token.trim());
    let Some(user) = state.store.verify_with_token(user.id, &hash, state.now(), attempts).await? else {
        state.store.record_failed_token(user.id, Purpose::Verify).await?;
        return Err(Error::VerificationFailed);
    };
    if user.disabled {
        return Err(Error::AccountDisabled);
    }
    let jwt = issue_for_user(state, &user, None).await?.jwt;
    Ok((user, jwt))
}
