//! Password login: one answer and one cost for every failure, so neither the text nor the timing
//! tells an unknown email from a wrong password or an unverified account.

use serde_json::{Map, Value};

use super::issue_token::{IssuedToken, issue_for_user};
use crate::domain::Email;
use crate::error::Error;
use crate::state::AppState;

/// Checks email and password and signs a token for the user.
#[tracing::instrument(skip_all)]
pub async fn password_login(
    state: &AppState,
    email: &str,
    password: &str,
    inject: Option<Map<String, Value>>,
) -> Result<IssuedToken, Error> {
    let user = match Email::parse(email) {
        Ok(email) => state.store.user_by_email(email.as_str()).await?,
        Err(_) => None,
    };
    let stored = user.as_ref().and_then(|u| u.password_digest.as_deref());
    let password_ok = state.hasher.verify(password, stored).await?;
    let Some(user) = user.filter(|_| password_ok) else {
        return Err(Error::InvalidCredentials);
    };
    if user.disabled {
        return Err(Error::AccountDisabled);
    }
    if state.settings.verifications_required && !user.verified {
        return Err(Error::InvalidCredentials);
    }
    issue_for_user(state, &user, inject).await
}
