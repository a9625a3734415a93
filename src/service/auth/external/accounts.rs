//! The account an upstream identity signs in to: the one it is linked to; else, with
//! `link_by_email` and an email the provider says is verified, the account with that email (the
//! link is audited); else, with `create_users`, a new account (verified when the provider
//! verified the email). The provider's `allowed_email_domains` hold for all three.

use serde_json::json;

use super::PROVIDER_PREFIX;
use super::id_token::UpstreamIdentity;
use super::upstream::Upstream;
use crate::domain::Handle;
use crate::error::Error;
use crate::runtime::audit::{Actor, AuditEvent};
use crate::runtime::request_context::RequestMeta;
use crate::service::auth::Auth;
use crate::service::directory::users::free_handle;
use crate::store::StoreError;
use crate::store::registration::{LinkedIdentity, Registration};
use crate::store::users::{NewUser, User};

pub async fn user_for(
    auth: &Auth,
    upstream: &Upstream,
    identity: &UpstreamIdentity,
    meta: &RequestMeta,
) -> Result<User, Error> {
    let refused = |problem: &str| Error::ExternalLoginRefused(problem.to_owned());
    let provider = format!("{PROVIDER_PREFIX}{}", upstream.name);
    let domains = &upstream.settings.allowed_email_domains;
    let domain = identity.email.as_ref().and_then(|e| e.as_str().rsplit_once('@')).map(|(_, d)| d.to_owned());
    if !domains.is_empty() && !domain.as_ref().is_some_and(|d| domains.contains(d)) {
        return Err(refused("the email domain is not allowed for this provider"));
    }
    let store = auth.store();
    if let Some(linked) = store.identity_by_provider_uid(&provider, &identity.subject).await? {
        return store.user_by_id(linked.user_id).await?.ok_or(Error::NotFound);
    }
    let email = identity.email.as_ref().ok_or_else(|| refused("the provider gave no email address"))?;
    if let Some(existing) = store.user_by_email(email.as_str()).await? {
        if !(upstream.settings.link_by_email && identity.email_verified) {
            return Err(refused(
                "an account with this email exists; sign in to it and link this provider, or ask an admin",
            ));
        }
        store.insert_identity(existing.id, None, &provider, &identity.subject, auth.now()).await.map_err(taken)?;
        let event = AuditEvent::during(meta, Actor::User(existing.id), "identities.link")
            .target(format!("users:{}", existing.id))
            .detail(json!({"provider": provider, "by": "verified email"}));
        auth.audit().record(event).await;
        return Ok(existing);
    }
    if !upstream.settings.create_users {
        return Err(refused("no account is linked to this identity, and this provider creates none"));
    }
    let handle = free_handle(store, &Handle::derive_from(email)).await?;
    let user = NewUser {
        email: email.as_str().to_owned(),
        handle: handle.as_str().to_owned(),
        full_name: identity.name.as_deref().map(|n| n.chars().take(255).collect()),
        password_digest: None,
        admin: false,
        verified: identity.email_verified,
        now: auth.now(),
    };
    let link = LinkedIdentity { provider: provider.clone(), uid: identity.subject.clone(), delegate_id: None };
    let registration = Registration { user, identity: Some(link), token: None, mail: None };
    let user = store.register_user(registration).await.map_err(taken)?;
    let event = AuditEvent::during(meta, Actor::User(user.id), "users.create")
        .target(format!("users:{}", user.id))
        .detail(json!({"provider": provider, "attributes": {"email": user.email}}));
    auth.audit().record(event).await;
    auth.directory.changed();
    Ok(user)
}

/// A concurrent sign-in of the same person won the race: they sign in again.
fn taken(err: StoreError) -> Error {
    match err {
        StoreError::Taken { .. } => {
            Error::ExternalLoginFailed("a concurrent sign-in got there first; sign in again".into())
        }
        other => other.into(),
    }
}
