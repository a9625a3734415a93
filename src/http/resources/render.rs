//! Every resource as a {json:api} resource object, in one place. What a caller may see has been
//! decided before a renderer runs (by the services, and by [`Caller::is_self_or_admin`] for a
//! user's private attributes); a renderer only writes it down.
//!
//! Each type's relationship names are listed here as well as declared in its resource module
//! (the declarations carry targets and cardinality); a test in `mod.rs` keeps the two alike.

use serde_json::Value;

use super::attributes::rfc3339;
use crate::http::jsonapi::document::{Identifier, Linkage, ResourceObject};
use crate::service::auth::access::Caller;
use crate::service::directory::api_keys::key_scopes;
use crate::service::directory::clients::{post_logout_redirect_uris, redirect_uris};
use crate::service::directory::organizations::OrganizationView;
use crate::store::api_keys::ApiKey;
use crate::store::audit_events::StoredAuditEvent;
use crate::store::delegates::Delegate;
use crate::store::groups::Group;
use crate::store::identities::Identity;
use crate::store::oauth_clients::OauthClient;
use crate::store::passkeys::StoredPasskey;
use crate::store::users::User;

pub const USER_RELATIONSHIPS: &[&str] = &["organizations", "groups", "apikeys", "identities"];
pub const ORGANIZATION_RELATIONSHIPS: &[&str] = &["users", "admins", "groups"];
pub const GROUP_RELATIONSHIPS: &[&str] = &["organization", "users"];
pub const API_KEY_RELATIONSHIPS: &[&str] = &["user"];
pub const IDENTITY_RELATIONSHIPS: &[&str] = &["user"];

/// A user as `caller` may see them: email and verified only for themselves and admins.
pub fn user(caller: &Caller, user: &User) -> ResourceObject {
    let private = caller.is_self_or_admin(user.id);
    ResourceObject::new("users", user.id, USER_RELATIONSHIPS)
        .attr_if(private, "email", user.email.clone())
        .attr("full-name", user.full_name.clone())
        .attr("handle", user.handle.clone())
        .attr("admin", user.admin)
        .attr_if(private, "verified", user.verified)
        .attr("disabled", user.disabled)
        .attr("created-at", rfc3339(user.created_at))
}

pub fn users(caller: &Caller, users: &[User]) -> Vec<ResourceObject> {
    users.iter().map(|u| user(caller, u)).collect()
}

/// An organization; its billing and gravatar emails only for those who administer it.
pub fn organization(view: &OrganizationView) -> ResourceObject {
    let (org, admin) = (&view.organization, view.admin);
    ResourceObject::new("organizations", org.id, ORGANIZATION_RELATIONSHIPS)
        .attr("name", org.name.clone())
        .attr("public-email", org.public_email.clone())
        .attr_if(admin, "gravatar-email", org.gravatar_email.clone())
        .attr_if(admin, "billing-email", org.billing_email.clone())
        .attr("description", org.description.clone())
        .attr("url", org.url.clone())
        .attr("location", org.location.clone())
        .attr("created-at", rfc3339(org.created_at))
}

pub fn organizations(views: &[OrganizationView]) -> Vec<ResourceObject> {
    views.iter().map(organization).collect()
}

/// A group; its organization linkage is always known, so it is always given.
pub fn group(group: &Group) -> ResourceObject {
    let mut object = ResourceObject::new("groups", group.id, GROUP_RELATIONSHIPS)
        .attr("name", group.name.clone())
        .attr("description", group.description.clone())
        .attr("created-at", rfc3339(group.created_at));
    object.set_linkage("organization", Linkage::ToOne(Some(Identifier::new("organizations", group.organization_id))));
    object
}

pub fn groups(groups: &[Group]) -> Vec<ResourceObject> {
    groups.iter().map(group).collect()
}

/// An API key without its secret (which only the create response adds, as `secret-key`).
pub fn api_key(key: &ApiKey) -> ResourceObject {
    let mut object = ResourceObject::new("apikeys", key.id, API_KEY_RELATIONSHIPS)
        .attr("name", key.name.clone())
        .attr("access-key", key.access_key.clone())
        .attr("scopes", key_scopes(key))
        .attr("expires-at", key.expires_at.map(rfc3339))
        .attr("last-used-at", key.last_used_at.map(rfc3339))
        .attr("created-at", rfc3339(key.created_at));
    object.set_linkage("user", Linkage::ToOne(Some(Identifier::new("users", key.user_id))));
    object
}

pub fn api_keys(keys: &[ApiKey]) -> Vec<ResourceObject> {
    keys.iter().map(api_key).collect()
}

/// A passkey: its label, backup flags and times; never the credential itself.
pub fn passkey(passkey: &StoredPasskey) -> ResourceObject {
    let mut object = ResourceObject::new("passkeys", passkey.id, API_KEY_RELATIONSHIPS)
        .attr("name", passkey.name.clone())
        .attr("backup-eligible", passkey.backup_eligible)
        .attr("backed-up", passkey.backup_state)
        .attr("last-used-at", passkey.last_used_at.map(rfc3339))
        .attr("created-at", rfc3339(passkey.created_at));
    object.set_linkage("user", Linkage::ToOne(Some(Identifier::new("users", passkey.user_id))));
    object
}

pub fn identity(identity: &Identity) -> ResourceObject {
    let mut object = ResourceObject::new("identities", identity.id, IDENTITY_RELATIONSHIPS)
        .attr("provider", identity.provider.clone())
        .attr("uid", identity.uid.clone())
        .attr("created-at", rfc3339(identity.created_at));
    object.set_linkage("user", Linkage::ToOne(Some(Identifier::new("users", identity.user_id))));
    object
}

pub fn identities(identities: &[Identity]) -> Vec<ResourceObject> {
    identities.iter().map(identity).collect()
}

/// A trusted delegate without its secret (which only the create response adds, as `secret-key`).
pub fn delegate(delegate: &Delegate) -> ResourceObject {
    ResourceObject::new("trusted-delegates", delegate.id, &[])
        .attr("name", delegate.name.clone())
        .attr("description", delegate.description.clone())
        .attr("access-key", delegate.access_key.clone())
        .attr("scopes", delegate.scopes.split_whitespace().collect::<Vec<_>>())
        .attr("created-at", rfc3339(delegate.created_at))
}

pub fn client(client: &OauthClient) -> ResourceObject {
    ResourceObject::new("clients", client.id, &[])
        .attr("name", client.name.clone())
        .attr("client-id", client.client_id.clone())
        .attr("redirect-uris", redirect_uris(client).collect::<Vec<_>>())
        .attr("post-logout-redirect-uris", post_logout_redirect_uris(client).collect::<Vec<_>>())
        .attr("scopes", client.scopes.split_whitespace().collect::<Vec<_>>())
        .attr("public", client.public)
        .attr("first-party", client.first_party)
        .attr("created-at", rfc3339(client.created_at))
}

pub fn audit_event(event: &StoredAuditEvent) -> ResourceObject {
    // Stored as JSON text; anything else (never written by this service) is shown as a string.
    let details = event.detail.as_deref().map(|d| serde_json::from_str::<Value>(d).unwrap_or_else(|_| d.into()));
    ResourceObject::new("audit-events", event.id, &[])
        .attr("actor", event.actor.clone())
        .attr("action", event.action.clone())
        .attr("target", event.target.clone())
        .attr("ip", event.client_ip.clone())
        .attr("at", rfc3339(event.occurred_at))
        .attr("details", details)
        .attr("request-id", event.request_id.clone())
        .attr("occurrences", event.occurrences)
}
