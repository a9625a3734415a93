//! Recognising a trusted delegate by its `X-Authify-Access` / `X-Authify-Secret` pair.

use super::audit::{self, Actor, AuditEvent};
use crate::crypto::secret;
use crate::error::Error;
use crate::state::AppState;
use crate::store::delegates::Delegate;

/// The delegate owning `access_key` when `secret` is its secret; one error for every failure.
/// Every attempt is audited (`delegate.authenticate`).
pub async fn authenticate_delegate(state: &AppState, access_key: &str, secret: &str) -> Result<Delegate, Error> {
    let delegate = state.store.delegate_by_access_key(access_key).await?;
    let matches = secret::secret_matches_stored(secret, delegate.as_ref().map(|d| d.secret_hash.as_str()));
    let result = delegate.filter(|_| matches).ok_or(Error::InvalidCredentials);
    let event = match &result {
        Ok(delegate) => AuditEvent::new(Actor::Delegate(delegate.name.clone()), "delegate.authenticate")
            .target(format!("trusted-delegates:{}", delegate.id)),
        Err(_) => AuditEvent::new(Actor::Anonymous, "delegate.authenticate"),
    };
    let mut detail = audit::outcome(&result);
    detail["access_key"] = access_key.chars().take(64).collect::<String>().into();
    audit::record(state, event.detail(detail)).await;
    result
}
