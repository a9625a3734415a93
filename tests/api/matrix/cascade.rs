//! Deleting a user or an organization removes what depends on it, as seen through the API.

use serde_json::json;

use super::{World, resource, world};
use crate::backend_tests;
use crate::support::app::{Backend, TestApp};
use crate::support::credentials::key_login;
use crate::support::jsonapi::linkage;

backend_tests!(
    deleting_a_user_removes_their_memberships_keys_and_identities,
    deleting_an_organization_removes_its_groups_and_memberships,
);

/// Ops in Acme (bob and alice in it), a key and an identity for bob: (group, key, access, secret,
/// identity).
async fn bob_everywhere(w: &World) -> (i64, i64, String, String, i64) {
    let app: &TestApp = &w.app;
    let group_body = resource("groups", None, json!({"name": "Ops"}));
    let group = app.api("POST", &format!("/organizations/{}/groups", w.org), &w.alice.who, Some(group_body)).await;
    assert_eq!(group.status, 201, "{}", group.body);
    let group = group.id();
    let join = linkage("users", &[w.alice_id, w.bob_id]);
    let joined = app.api("POST", &format!("/groups/{group}/relationships/users"), &w.alice.who, Some(join)).await;
    assert_eq!(joined.status, 204, "{}", joined.body);
    let key = app.api("POST", "/apikeys", &w.bob.who, Some(resource("apikeys", None, json!({"name": "ci"})))).await;
    assert_eq!(key.status, 201, "{}", key.body);
    let access = key.body["data"]["attributes"]["access-key"].as_str().expect("access key").to_owned();
    let secret = key.body["data"]["attributes"]["secret-key"].as_str().expect("secret").to_owned();
    let identity = json!({"data": {"type": "identities", "attributes": {"provider": "github", "uid": "42"},
        "relationships": {"user": {"data": {"type": "users", "id": w.bob_id.to_string()}}}}});
    let identity = app.api("POST", "/identities", &w.delegate.who, Some(identity)).await;
    assert_eq!(identity.status, 201, "{}", identity.body);
    (group, key.id(), access, secret, identity.id())
}

async fn deleting_a_user_removes_their_memberships_keys_and_identities(backend: Backend) {
    let w = world(backend).await;
    let (group, key, access, secret, identity) = bob_everywhere(&w).await;
    let (status, _) = key_login(&w.app, &access, &secret).await;
    assert_eq!(status, 200, "the key works before");
    let mut ex = w.expect();
    ex.status(&w.admin, "DELETE", &format!("/users/{}", w.bob_id), None, 204).await;

    let bob = w.bob_id.to_string();
    let members = ex.ids(&w.alice, &format!("/organizations/{}/users", w.org)).await;
    ex.check(members == vec![w.alice_id.to_string()], format!("Acme's members no longer list bob: {members:?}"));
    let in_group = ex.ids(&w.alice, &format!("/groups/{group}/relationships/users")).await;
    ex.check(in_group == vec![w.alice_id.to_string()], format!("Ops no longer lists bob: {in_group:?}"));
    ex.status(&w.admin, "GET", &format!("/apikeys/{key}"), None, 404).await;
    let keys = ex.ids(&w.admin, "/apikeys").await;
    ex.check(keys.is_empty(), format!("bob's key is gone: {keys:?}"));
    let (status, body) = key_login(&w.app, &access, &secret).await;
    ex.check(status == 401, format!("bob's key no longer logs in: {status} {body}"));
    ex.status(&w.admin, "GET", &format!("/identities/{identity}"), None, 404).await;
    let identities = ex.ids(&w.delegate, "/identities").await;
    ex.check(identities.is_empty(), format!("bob's identity is gone: {identities:?}"));
    let headers = match &w.delegate.who {
        crate::support::jsonapi::As::Delegate { access, secret, .. } => (access.clone(), secret.clone()),
        _ => unreachable!("a delegate"),
    };
    let (status, _) = crate::support::credentials::token_request(
        &w.app,
        &[("x-authify-access", &headers.0), ("x-authify-secret", &headers.1)],
        &json!({"provider": "github", "uid": "42"}),
    )
    .await;
    ex.check(status == 401, format!("bob's identity no longer logs in: {status}"));
    ex.status(&w.bob, "GET", "/users", None, 401).await;
    let users = ex.ids(&w.admin, "/users").await;
    ex.check(!users.contains(&bob), format!("bob is not listed: {users:?}"));
    ex.done();
}

async fn deleting_an_organization_removes_its_groups_and_memberships(backend: Backend) {
    let w = world(backend).await;
    let (group, key, access, secret, _) = bob_everywhere(&w).await;
    let other = w.app.create_organization(&w.carol.who, "Other").await;
    let mut ex = w.expect();
    ex.status(&w.alice, "DELETE", &format!("/organizations/{}", w.org), None, 204).await;

    ex.status(&w.admin, "GET", &format!("/organizations/{}", w.org), None, 404).await;
    ex.status(&w.admin, "GET", &format!("/organizations/{}/users", w.org), None, 404).await;
    for path in
        [format!("/groups/{group}"), format!("/groups/{group}/users"), format!("/groups/{group}/relationships/users")]
    {
        ex.status(&w.admin, "GET", &path, None, 404).await;
    }
    let groups = ex.ids(&w.admin, "/groups").await;
    ex.check(groups.is_empty(), format!("Acme's groups are gone: {groups:?}"));
    for (actor, id) in [(&w.bob, w.bob_id), (&w.alice, w.alice_id)] {
        let mine = ex.ids(actor, "/organizations/mine").await;
        ex.check(mine.is_empty(), format!("{} is in no organization: {mine:?}", actor.name));
        let orgs = ex.ids(&w.admin, &format!("/users/{id}/organizations")).await;
        ex.check(orgs.is_empty(), format!("{} lists no organization: {orgs:?}", actor.name));
        let groups = ex.ids(&w.admin, &format!("/users/{id}/groups")).await;
        ex.check(groups.is_empty(), format!("{} lists no group: {groups:?}", actor.name));
    }
    // What belongs to users, and other organizations, stay.
    ex.status(&w.bob, "GET", &format!("/apikeys/{key}"), None, 200).await;
    let (status, _) = key_login(&w.app, &access, &secret).await;
    ex.check(status == 200, format!("bob's key still logs in: {status}"));
    let all = ex.ids(&w.admin, "/organizations").await;
    ex.check(all == vec![other.to_string()], format!("only Other is left: {all:?}"));
    ex.done();
}
