//! Recognising a trusted delegate by its `X-Authify-Access` / `X-Authify-Secret` pair, and the one
//! rule for everything a delegate reaches through a user (`X-Authify-On-Behalf-Of`, an identity
//! login, refreshes of such a session, a token carrying `act`): never more than the delegate's own
//! scopes. See docs/delegates.md.

use crate::crypto::secret::{self, StoredMatch};
use crate::domain::claims::DELEGATE_ACTOR_PREFIX as ACTOR_PREFIX;
use crate::error::Error;
use crate::runtime::audit::{self, Actor, AuditEvent};
use crate::runtime::request_context::RequestMeta;
use crate::service::auth::Auth;
use crate::store::Store;
use crate::store::delegates::Delegate;

/// The delegate owning `access_key` when `secret` is its secret; one error for every failure.
/// Every attempt is audited (`delegate.authenticate`).
pub async fn authenticate_delegate(
    auth: &Auth,
    access_key: &str,
    secret: &str,
    request: &RequestMeta,
) -> Result<Delegate, Error> {
    let delegate = auth.store().delegate_by_access_key(access_key).await?;
    let matched = secret::check_stored(secret, delegate.as_ref().map(|d| d.secret_hash.as_str()));
    let mut result = delegate.filter(|_| matched != StoredMatch::No).ok_or(Error::InvalidCredentials);
    if let (Ok(delegate), StoredMatch::Legacy) = (&mut result, matched) {
        upgrade_secret(auth.store(), delegate, secret).await;
    }
    let event = match &result {
        Ok(delegate) => AuditEvent::during(request, Actor::Delegate(delegate.name.clone()), "delegate.authenticate")
            .target(format!("trusted-delegates:{}", delegate.id)),
        Err(_) => AuditEvent::during(request, Actor::Anonymous, "delegate.authenticate"),
    };
    let mut detail = audit::outcome(&result);
    detail["access_key"] = access_key.chars().take(64).collect::<String>().into();
    auth.audit().record(event.detail(detail)).await;
    result
}

/// Replaces a delegate's imported authify-api digest with Authify's hash of the secret just
/// checked (`secret_hash` only); a failed write keeps the imported digest, which still works.
async fn upgrade_secret(store: &Store, delegate: &mut Delegate, secret: &str) {
    let current = secret::hash_secret(secret);
    match store.upgrade_delegate_secret(delegate.id, &delegate.secret_hash, &current).await {
        Ok(_) => delegate.secret_hash = current,
        Err(err) => {
            tracing::warn!(error = %err, delegate = delegate.id, "could not replace the imported secret digest")
        }
    }
}

/// `delegate:<name>`, as tokens (`act.sub`) and sessions (`actor`) name the delegate.
pub fn actor_of(delegate: &Delegate) -> String {
    format!("{ACTOR_PREFIX}{}", delegate.name)
}

/// The scopes a delegate was registered with.
pub fn scopes_of_delegate(delegate: &Delegate) -> Vec<String> {
    delegate.scopes.split_whitespace().map(str::to_owned).collect()
}

/// `scopes` narrowed to those the delegate holds itself.
pub fn confine(scopes: Vec<String>, delegate: &Delegate) -> Vec<String> {
    let held = scopes_of_delegate(delegate);
    scopes.into_iter().filter(|s| held.contains(s)).collect()
}

/// The delegate an `act.sub` / `sessions.actor` names, as it is registered now. A removed
/// delegate (or an actor that names none) is [`Error::Unauthenticated`]: what it started ends.
pub async fn acting_delegate(store: &Store, actor: &str) -> Result<Delegate, Error> {
    let name = actor.strip_prefix(ACTOR_PREFIX).ok_or(Error::Unauthenticated)?;
    store.delegate_by_name(name).await?.ok_or(Error::Unauthenticated)
}
