//! `trusted-delegates`: admin users only; the secret is in the create response only.

use serde_json::json;

use super::{Actor, shows, world};
use crate::backend_tests;
use crate::support::app::Backend;
use crate::support::jsonapi::As;

backend_tests!(trusted_delegates_are_managed_by_admin_users_only);

async fn trusted_delegates_are_managed_by_admin_users_only(backend: Backend) {
    let w = world(backend).await;
    let for_bob = w.on_behalf_of(w.bob_id, "delegate for bob");
    let for_admin = w.on_behalf_of(w.admin_id, "delegate for admin");
    let mut ex = w.expect();
    let new = |name: &str| Some(json!({"data": {"type": "trusted-delegates", "attributes": {"name": name}}}));
    let outsiders = [(&w.anonymous, 401), (&w.bob, 403), (&w.alice, 403), (&w.delegate, 403), (&for_bob, 403)];
    ex.table("GET", "/trusted-delegates", None, &outsiders).await;
    // A delegate cannot mint other delegates, not even when acting for an admin.
    ex.table("POST", "/trusted-delegates", new("rogue"), &outsiders).await;
    ex.table("POST", "/trusted-delegates", new("rogue"), &[(&for_admin, 403)]).await;
    let existing = ex.ids(&w.admin, "/trusted-delegates").await;
    ex.check(existing.len() == 1, format!("only portal exists: {existing:?}"));

    let created = ex.status(&w.admin, "POST", "/trusted-delegates", new("mailer"), 201).await;
    if created.status != 201 {
        return ex.done();
    }
    let id = created.id();
    let attributes = &created.body["data"]["attributes"];
    let access = attributes["access-key"].as_str().unwrap_or_default().to_owned();
    let secret = attributes["secret-key"].as_str().unwrap_or_default().to_owned();
    ex.check(!secret.is_empty(), format!("the create response carries the secret: {attributes}"));
    let path = format!("/trusted-delegates/{id}");
    ex.table("GET", &path, None, &outsiders).await;
    let shown = ex.status(&w.admin, "GET", &path, None, 200).await;
    ex.check(!shows(&shown.body["data"], "secret-key"), format!("never shown again: {}", shown.body));
    let listed = ex.status(&w.admin, "GET", "/trusted-delegates", None, 200).await;
    let leaked = super::objects(&listed.body).iter().any(|o| shows(o, "secret-key"));
    ex.check(!leaked, format!("the list shows no secret: {}", listed.body));
    ex.status(&w.admin, "POST", "/trusted-delegates", new("mailer"), 409).await;

    let mailer = Actor { name: "the new delegate", who: As::Delegate { access, secret, on_behalf_of: None } };
    ex.status(&mailer, "GET", "/users", None, 200).await;
    let patch = Some(json!({"data": {"type": "trusted-delegates", "id": id.to_string(), "attributes": {}}}));
    ex.table("PATCH", &path, patch, &[(&w.anonymous, 401), (&w.bob, 403), (&w.delegate, 403), (&w.admin, 403)]).await;
    ex.table("DELETE", &path, None, &outsiders).await;
    let spare = w.app.delegate("spare").await;
    let spare_id = ex.ids(&w.admin, "/trusted-delegates?filter[name]=spare").await;
    ex.check(spare_id.len() == 1, format!("spare is listed: {spare_id:?}"));
    for id in spare_id {
        ex.table("DELETE", &format!("/trusted-delegates/{id}"), None, &[(&for_admin, 403)]).await;
    }
    let spare = Actor { name: "spare delegate", who: spare };
    ex.status(&spare, "GET", "/users", None, 200).await;
    ex.status(&mailer, "GET", "/users", None, 200).await;
    ex.status(&w.admin, "DELETE", &path, None, 204).await;
    ex.status(&mailer, "GET", "/users", None, 401).await;
    ex.status(&w.admin, "GET", &path, None, 404).await;
    ex.status(&w.admin, "DELETE", &path, None, 404).await;
    ex.done();
}
