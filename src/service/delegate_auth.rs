//! Recognising a trusted delegate by its `X-Authify-Access` / `X-Authify-Secret` pair.

use crate::crypto::secret;
use crate::error::Error;
use crate::state::AppState;
use crate::store::delegates::Delegate;

/// The delegate owning `access_key` when `secret` is its secret; one error for every failure.
pub async fn authenticate_delegate(state: &AppState, access_key: &str, secret: &str) -> Result<Delegate, Error> {
    let delegate = state.store.delegate_by_access_key(access_key).await?;
    let matches = secret::secret_matches_stored(secret, delegate.as_ref().map(|d| d.secret_hash.as_str()));
    delegate.filter(|_| matches).ok_or(Error::InvalidCredentials)
}
