//! Private attributes (a user's email and verified; an organization's billing and gravatar
//! emails) stay hidden on every path that can carry the resource: show, index, `include`, related
//! routes and sparse fieldsets.

use serde_json::json;

use super::{Actor, Expect, find, resource, world};
use crate::backend_tests;
use crate::support::app::Backend;
use crate::support::jsonapi::linkage;

backend_tests!(
    a_users_email_and_verified_stay_hidden_from_others_on_every_path,
    billing_and_gravatar_emails_stay_hidden_from_all_but_org_admins_on_every_path,
);

/// Checks that `path` read by `actor` carries `kind`/`id` and shows `attributes` exactly when
/// `shown`.
async fn sees(ex: &mut Expect<'_>, actor: &Actor, path: &str, kind: &str, id: i64, attributes: &[&str], shown: bool) {
    let response = ex.status(actor, "GET", path, None, 200).await;
    let Some(object) = find(&response.body, kind, id) else {
        ex.check(false, format!("GET {path} as {}: no {kind} {id} in {}", actor.name, response.body));
        return;
    };
    for attribute in attributes {
        ex.check(
            super::shows(&object, attribute) == shown,
            format!("GET {path} as {}: {kind} {id} {attribute} shown should be {shown}: {object}", actor.name),
        );
    }
}

async fn a_users_email_and_verified_stay_hidden_from_others_on_every_path(backend: Backend) {
    let w = world(backend).await;
    let group = w
        .app
        .api(
            "POST",
            &format!("/organizations/{}/groups", w.org),
            &w.alice.who,
            Some(resource("groups", None, json!({"name": "Ops"}))),
        )
        .await
        .id();
    let users = format!("/groups/{group}/relationships/users");
    assert_eq!(
        w.app.api("POST", &users, &w.alice.who, Some(linkage("users", &[w.alice_id, w.bob_id]))).await.status,
        204
    );
    let identity = json!({"data": {"type": "identities", "attributes": {"provider": "github", "uid": "7"},
        "relationships": {"user": {"data": {"type": "users", "id": w.bob_id.to_string()}}}}});
    let identity = w.app.api("POST", "/identities", &w.delegate.who, Some(identity)).await.id();
    let for_carol = w.on_behalf_of(w.carol_id, "delegate for carol");
    let private = ["email", "verified"];
    let org = w.org;
    let mut ex = w.expect();

    // bob (a member) reading alice (the org admin) sees no private attribute; himself he does.
    for path in [
        format!("/organizations/{org}/users"),
        format!("/organizations/{org}/admins"),
        format!("/organizations/{org}?include=users,admins"),
        "/organizations/mine?include=users".to_owned(),
        format!("/groups/{group}/users"),
        format!("/groups/{group}?include=users"),
        format!("/groups/{group}?include=organization.admins"),
        format!("/users/{}?include=organizations.users", w.bob_id),
        "/users?include=organizations.admins".to_owned(),
        "/users?fields[users]=email,verified,handle".to_owned(),
        format!("/users/{}?fields[users]=email,verified,handle", w.alice_id),
    ] {
        sees(&mut ex, &w.bob, &path, "users", w.alice_id, &private, false).await;
    }
    for path in [format!("/organizations/{org}/users"), format!("/groups/{group}?include=users")] {
        sees(&mut ex, &w.bob, &path, "users", w.bob_id, &private, true).await;
    }
    // An organization's admin is no global admin: members' emails stay theirs.
    for path in
        [format!("/organizations/{org}/users"), format!("/groups/{group}/users"), format!("/users/{}", w.bob_id)]
    {
        sees(&mut ex, &w.alice, &path, "users", w.bob_id, &private, false).await;
    }
    // A delegate acting for a user sees what that user sees.
    for path in [format!("/identities/{identity}/user"), format!("/identities/{identity}?include=user")] {
        sees(&mut ex, &for_carol, &path, "users", w.bob_id, &private, false).await;
        sees(&mut ex, &w.delegate, &path, "users", w.bob_id, &private, true).await;
    }
    for path in [format!("/organizations/{org}?include=users"), format!("/groups/{group}/users")] {
        sees(&mut ex, &w.admin, &path, "users", w.bob_id, &private, true).await;
    }
    ex.done();
}

async fn billing_and_gravatar_emails_stay_hidden_from_all_but_org_admins_on_every_path(backend: Backend) {
    let w = world(backend).await;
    let org = w.org;
    let patch = resource(
        "organizations",
        Some(org),
        json!({"billing-email": "pay@acme.test", "gravatar-email": "g@acme.test"}),
    );
    assert_eq!(w.app.api("PATCH", &format!("/organizations/{org}"), &w.alice.who, Some(patch)).await.status, 200);
    let group = w
        .app
        .api(
            "POST",
            &format!("/organizations/{org}/groups"),
            &w.alice.who,
            Some(resource("groups", None, json!({"name": "Ops"}))),
        )
        .await
        .id();
    let for_bob = w.on_behalf_of(w.bob_id, "delegate for bob");
    let private = ["billing-email", "gravatar-email"];
    let bob = w.bob_id;
    let mut ex = w.expect();

    let everyone = [
        format!("/organizations/{org}"),
        "/organizations".to_owned(),
        "/organizations?fields[organizations]=name,billing-email,gravatar-email".to_owned(),
        format!("/users/{bob}/organizations"),
        format!("/users/{bob}?include=organizations"),
        "/users?include=organizations".to_owned(),
    ];
    let members_only = [
        "/organizations/mine".to_owned(),
        format!("/groups/{group}/organization"),
        format!("/groups/{group}?include=organization"),
        format!("/organizations/{org}/groups?include=organization"),
    ];
    for path in everyone.iter().chain(&members_only) {
        sees(&mut ex, &w.bob, path, "organizations", org, &private, false).await;
        sees(&mut ex, &for_bob, path, "organizations", org, &private, false).await;
        sees(&mut ex, &w.alice, path, "organizations", org, &private, true).await;
    }
    for path in &everyone {
        sees(&mut ex, &w.carol, path, "organizations", org, &private, false).await;
        sees(&mut ex, &w.admin, path, "organizations", org, &private, true).await;
    }
    ex.done();
}
