//! `groups`: created, changed and deleted by the organization's admins and admins, shown to its
//! members, listed to admins only; membership only for the organization's members.

use serde_json::{Value, json};

use super::{World, world};
use crate::backend_tests;
use crate::support::app::Backend;
use crate::support::jsonapi::linkage;

backend_tests!(
    groups_are_created_changed_and_deleted_by_org_admins_and_admins,
    groups_are_shown_to_members_and_listed_to_admins_only,
    group_membership_is_managed_by_org_admins_for_org_members_only,
);

fn new_group(name: &str, org: Option<i64>) -> Option<Value> {
    let mut data = json!({"type": "groups", "attributes": {"name": name}});
    if let Some(org) = org {
        data["relationships"] = json!({"organization": {"data": {"type": "organizations", "id": org.to_string()}}});
    }
    Some(json!({ "data": data }))
}

/// A group "Ops" in Acme made by alice, with bob in it.
async fn ops(w: &World) -> i64 {
    let created = w.app.api("POST", "/groups", &w.alice.who, new_group("Ops", Some(w.org))).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.id();
    let path = format!("/groups/{id}/relationships/users");
    assert_eq!(w.app.api("POST", &path, &w.alice.who, Some(linkage("users", &[w.bob_id]))).await.status, 204);
    id
}

async fn groups_are_created_changed_and_deleted_by_org_admins_and_admins(backend: Backend) {
    let w = world(backend).await;
    let for_bob = w.on_behalf_of(w.bob_id, "delegate for bob");
    let for_alice = w.on_behalf_of(w.alice_id, "delegate for alice");
    let mut ex = w.expect();
    let nested = format!("/organizations/{}/groups", w.org);
    for (actor, expected) in [(&w.anonymous, 401), (&w.carol, 403), (&w.bob, 403), (&for_bob, 403)] {
        ex.status(actor, "POST", "/groups", new_group("Nope", Some(w.org)), expected).await;
        ex.status(actor, "POST", &nested, new_group("Nope", None), expected).await;
    }
    let mut created = Vec::new();
    for (n, actor) in [&w.alice, &for_alice, &w.admin, &w.delegate].into_iter().enumerate() {
        let flat = ex.status(actor, "POST", "/groups", new_group(&format!("flat {n}"), Some(w.org)), 201).await;
        let under = ex.status(actor, "POST", &nested, new_group(&format!("nested {n}"), None), 201).await;
        for response in [flat, under] {
            if response.status == 201 {
                let org = &response.body["data"]["relationships"]["organization"]["data"]["id"];
                ex.check(super::is_id(org, w.org), format!("created as {} in Acme: {}", actor.name, response.body));
                created.push(response.id());
            }
        }
    }
    ex.status(&w.admin, "POST", "/groups", new_group("Orphan", None), 400).await;
    ex.status(&w.admin, "POST", "/groups", new_group("Lost", Some(999_999)), 404).await;
    ex.status(&w.admin, "POST", "/organizations/999999/groups", new_group("Lost", None), 404).await;
    ex.status(&w.alice, "POST", &nested, new_group("flat 0", None), 409).await;
    let listed = ex.ids(&w.admin, &format!("/organizations/{}/groups", w.org)).await;
    ex.check(listed.len() == 8, format!("only the allowed creates made groups: {listed:?}"));

    let Some(&group) = created.first() else { return ex.done() };
    let path = format!("/groups/{group}");
    let patch =
        |name: &str| Some(json!({"data": {"type": "groups", "id": group.to_string(), "attributes": {"name": name}}}));
    ex.table("PATCH", &path, patch("Renamed"), &[(&w.anonymous, 401), (&w.carol, 404), (&w.bob, 403), (&for_bob, 403)])
        .await;
    for actor in [&w.alice, &for_alice, &w.admin, &w.delegate] {
        let changed = ex.status(actor, "PATCH", &path, patch(actor.name), 200).await;
        ex.check(changed.body["data"]["attributes"]["name"] == actor.name, format!("renamed by {}", actor.name));
    }
    ex.table("DELETE", &path, None, &[(&w.anonymous, 401), (&w.carol, 404), (&w.bob, 403), (&for_bob, 403)]).await;
    for (actor, id) in [&w.alice, &for_alice, &w.admin, &w.delegate].into_iter().zip(&created) {
        ex.status(actor, "DELETE", &format!("/groups/{id}"), None, 204).await;
        ex.status(&w.admin, "GET", &format!("/groups/{id}"), None, 404).await;
    }
    ex.done();
}

async fn groups_are_shown_to_members_and_listed_to_admins_only(backend: Backend) {
    let w = world(backend).await;
    let group = ops(&w).await;
    let for_bob = w.on_behalf_of(w.bob_id, "delegate for bob");
    let for_carol = w.on_behalf_of(w.carol_id, "delegate for carol");
    let mut ex = w.expect();
    let readers = [(&w.bob, 200), (&for_bob, 200), (&w.alice, 200), (&w.admin, 200), (&w.delegate, 200)];
    let strangers = [(&w.anonymous, 401), (&w.carol, 404), (&for_carol, 404)];
    for path in [
        format!("/groups/{group}"),
        format!("/groups/{group}/users"),
        format!("/groups/{group}/relationships/users"),
        format!("/groups/{group}/organization"),
        format!("/groups/{group}/relationships/organization"),
    ] {
        ex.table("GET", &path, None, &readers).await;
        ex.table("GET", &path, None, &strangers).await;
    }
    ex.table(
        "GET",
        "/groups",
        None,
        &[
            (&w.anonymous, 401),
            (&w.carol, 403),
            (&w.bob, 403),
            (&w.alice, 403),
            (&for_bob, 403),
            (&w.admin, 200),
            (&w.delegate, 200),
        ],
    )
    .await;
    let all = ex.ids(&w.admin, "/groups").await;
    ex.check(all == vec![group.to_string()], format!("admins list every group: {all:?}"));
    let nested = format!("/organizations/{}/groups", w.org);
    ex.table("GET", &nested, None, &[(&w.carol, 403), (&w.bob, 200), (&w.alice, 200)]).await;
    let members = ex.ids(&w.bob, &format!("/groups/{group}/relationships/users")).await;
    ex.check(members == vec![w.bob_id.to_string()], format!("bob is in Ops: {members:?}"));
    ex.status(&w.admin, "GET", "/groups/999999", None, 404).await;
    ex.done();
}

async fn group_membership_is_managed_by_org_admins_for_org_members_only(backend: Backend) {
    let w = world(backend).await;
    let group = ops(&w).await;
    let for_bob = w.on_behalf_of(w.bob_id, "delegate for bob");
    let mut ex = w.expect();
    let users = format!("/groups/{group}/relationships/users");
    for method in ["POST", "PATCH", "DELETE"] {
        ex.table(
            method,
            &users,
            Some(linkage("users", &[w.alice_id])),
            &[(&w.anonymous, 401), (&w.carol, 404), (&w.bob, 403), (&for_bob, 403)],
        )
        .await;
    }
    let now = ex.ids(&w.admin, &users).await;
    ex.check(now == vec![w.bob_id.to_string()], format!("refused writes changed nothing: {now:?}"));
    // Only members of Acme may join; carol is not one.
    for actor in [&w.alice, &w.admin] {
        ex.status(actor, "POST", &users, Some(linkage("users", &[w.carol_id])), 409).await;
        ex.status(actor, "PATCH", &users, Some(linkage("users", &[w.bob_id, w.carol_id])), 409).await;
    }
    ex.status(&w.alice, "POST", &users, Some(linkage("users", &[w.alice_id])), 204).await;
    let now = ex.ids(&w.bob, &users).await;
    ex.check(now == vec![w.alice_id.to_string(), w.bob_id.to_string()], format!("alice joined: {now:?}"));
    ex.status(&w.admin, "DELETE", &users, Some(linkage("users", &[w.bob_id])), 204).await;
    ex.status(&w.delegate, "PATCH", &users, Some(linkage("users", &[w.bob_id])), 204).await;
    let now = ex.ids(&w.admin, &users).await;
    ex.check(now == vec![w.bob_id.to_string()], format!("PATCH replaced the members: {now:?}"));

    // The organization of a group never changes.
    let organization = format!("/groups/{group}/relationships/organization");
    let other = w.app.create_organization(&w.alice.who, "Other").await;
    let to_one = json!({"data": {"type": "organizations", "id": other.to_string()}});
    ex.table("PATCH", &organization, Some(to_one.clone()), &[(&w.alice, 403), (&w.admin, 403)]).await;
    ex.table("POST", &organization, Some(to_one), &[(&w.admin, 403)]).await;
    ex.table("PATCH", &organization, Some(json!({"data": null})), &[(&w.admin, 403)]).await;
    let shown = ex.status(&w.admin, "GET", &format!("/groups/{group}"), None, 200).await;
    let org = &shown.body["data"]["relationships"]["organization"]["data"]["id"];
    ex.check(super::is_id(org, w.org), format!("still in Acme: {}", shown.body));
    ex.done();
}
