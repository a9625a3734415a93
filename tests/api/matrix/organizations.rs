//! `organizations`: read by anyone signed in, created by any user (who becomes its admin), changed
//! and deleted by its admins and admins; members, admins and groups as relationships.

use serde_json::json;

use super::{Actor, resource, shows, world};
use crate::backend_tests;
use crate::support::app::Backend;
use crate::support::jsonapi::linkage;

backend_tests!(
    organizations_are_read_by_everyone_and_changed_by_their_admins_and_admins,
    any_user_creates_an_organization_and_becomes_its_admin,
    member_routes_are_read_by_members_and_admins_only,
    org_admins_and_admins_manage_members_and_admins,
    removing_a_member_also_removes_them_from_the_organizations_groups,
);

async fn organizations_are_read_by_everyone_and_changed_by_their_admins_and_admins(backend: Backend) {
    let w = world(backend).await;
    let for_bob = w.on_behalf_of(w.bob_id, "delegate for bob");
    let for_alice = w.on_behalf_of(w.alice_id, "delegate for alice");
    let mut ex = w.expect();
    let acme = format!("/organizations/{}", w.org);
    ex.table("GET", &acme, None, &[(&w.anonymous, 401)]).await;
    ex.table("GET", "/organizations", None, &[(&w.anonymous, 401)]).await;
    for actor in [&w.carol, &w.bob, &w.alice, &w.admin, &w.delegate, &for_bob] {
        ex.status(actor, "GET", &acme, None, 200).await;
        let listed = ex.status(actor, "GET", "/organizations", None, 200).await;
        ex.check(
            listed.ids() == vec![w.org.to_string()],
            format!("GET /organizations as {}: {}", actor.name, listed.body),
        );
    }
    let patch = |attributes: serde_json::Value| Some(resource("organizations", Some(w.org), attributes));
    let change = json!({"description": "changed", "billing-email": "pay@acme.test"});
    ex.table(
        "PATCH",
        &acme,
        patch(change.clone()),
        &[(&w.anonymous, 401), (&w.carol, 403), (&w.bob, 403), (&for_bob, 403)],
    )
    .await;
    let before = ex.status(&w.admin, "GET", &acme, None, 200).await;
    ex.check(
        before.body["data"]["attributes"]["description"].is_null(),
        format!("refused updates changed nothing: {}", before.body),
    );
    for actor in [&w.alice, &for_alice, &w.admin, &w.delegate] {
        let changed = ex.status(actor, "PATCH", &acme, patch(change.clone()), 200).await;
        ex.check(
            changed.body["data"]["attributes"]["billing-email"] == "pay@acme.test",
            format!("PATCH as {} shows the billing email back: {}", actor.name, changed.body),
        );
    }

    // One organization per deleter, each with alice as its admin and bob as a member.
    let mut targets = Vec::new();
    for n in 0..3 {
        let id = w.app.create_organization(&w.alice.who, &format!("Doomed {n}")).await;
        let path = format!("/organizations/{id}/relationships/users");
        ex.status(&w.alice, "POST", &path, Some(linkage("users", &[w.bob_id])), 204).await;
        targets.push(format!("/organizations/{id}"));
    }
    ex.table("DELETE", &targets[0], None, &[(&w.anonymous, 401), (&w.carol, 403), (&w.bob, 403), (&for_bob, 403)])
        .await;
    ex.status(&w.alice, "DELETE", &targets[0], None, 204).await;
    ex.status(&w.admin, "DELETE", &targets[1], None, 204).await;
    ex.status(&w.delegate, "DELETE", &targets[2], None, 204).await;
    for target in &targets {
        ex.status(&w.admin, "GET", target, None, 404).await;
    }
    ex.done();
}

async fn any_user_creates_an_organization_and_becomes_its_admin(backend: Backend) {
    let w = world(backend).await;
    let for_carol = w.on_behalf_of(w.carol_id, "delegate for carol");
    let mut ex = w.expect();
    let new = |name: &str| Some(resource("organizations", None, json!({"name": name, "billing-email": "b@x.test"})));
    ex.status(&w.anonymous, "POST", "/organizations", new("Nobody's"), 401).await;
    ex.status(&w.delegate, "POST", "/organizations", new("Portal's"), 403).await;
    ex.status(&w.delegate, "GET", "/organizations/mine", None, 403).await;
    ex.status(&w.anonymous, "GET", "/organizations/mine", None, 401).await;
    for (actor, name) in [(&w.bob, "Bob's"), (&for_carol, "Carol's")] {
        let created = ex.status(actor, "POST", "/organizations", new(name), 201).await;
        if created.status != 201 {
            continue;
        }
        let id = created.id();
        ex.check(shows(&created.body["data"], "billing-email"), format!("{name}: the creator sees private attributes"));
        let admins = ex.status(actor, "GET", &format!("/organizations/{id}/relationships/admins"), None, 200).await;
        let creator = if name == "Bob's" { w.bob_id } else { w.carol_id };
        ex.check(
            admins.body["data"] == json!([{"type": "users", "id": creator.to_string()}]),
            format!("{name}: the creator is its only admin: {}", admins.body),
        );
        let mine = ex.status(actor, "GET", "/organizations/mine", None, 200).await;
        ex.check(mine.ids().contains(&id.to_string()), format!("{name} is among the creator's: {}", mine.body));
    }
    let bobs = ex.status(&w.bob, "GET", "/organizations/mine", None, 200).await;
    ex.check(bobs.ids().len() == 2, format!("bob is in Acme and his own: {}", bobs.body));
    let alices = ex.status(&w.alice, "GET", "/organizations/mine", None, 200).await;
    ex.check(alices.ids() == vec![w.org.to_string()], format!("alice is only in Acme: {}", alices.body));
    let listed = ex.status(&w.admin, "GET", "/organizations", None, 200).await;
    ex.check(listed.ids().len() == 3, format!("refused creates made nothing: {}", listed.body));
    ex.done();
}

async fn member_routes_are_read_by_members_and_admins_only(backend: Backend) {
    let w = world(backend).await;
    let for_carol = w.on_behalf_of(w.carol_id, "delegate for carol");
    let for_bob = w.on_behalf_of(w.bob_id, "delegate for bob");
    let mut ex = w.expect();
    for shape in ["", "relationships/"] {
        for rel in ["users", "admins", "groups"] {
            let path = format!("/organizations/{}/{shape}{rel}", w.org);
            ex.table(
                "GET",
                &path,
                None,
                &[
                    (&w.anonymous, 401),
                    (&w.carol, 403),
                    (&for_carol, 403),
                    (&w.bob, 200),
                    (&for_bob, 200),
                    (&w.alice, 200),
                    (&w.admin, 200),
                    (&w.delegate, 200),
                ],
            )
            .await;
        }
    }
    let users = ex.status(&w.bob, "GET", &format!("/organizations/{}/relationships/users", w.org), None, 200).await;
    let expected = linkage("users", &[w.alice_id, w.bob_id]);
    ex.check(users.body["data"] == expected["data"], format!("members are alice and bob: {}", users.body));
    let admins = ex.status(&w.bob, "GET", &format!("/organizations/{}/relationships/admins", w.org), None, 200).await;
    let expected = linkage("users", &[w.alice_id]);
    ex.check(admins.body["data"] == expected["data"], format!("alice is the admin: {}", admins.body));
    ex.status(&w.admin, "GET", "/organizations/999999/users", None, 404).await;
    ex.done();
}

async fn org_admins_and_admins_manage_members_and_admins(backend: Backend) {
    let w = world(backend).await;
    let (dave_id, _) = w.app.user_with_token("dave@example.com", false).await;
    let for_bob = w.on_behalf_of(w.bob_id, "delegate for bob");
    let for_alice = w.on_behalf_of(w.alice_id, "delegate for alice");
    let mut ex = w.expect();
    let users = format!("/organizations/{}/relationships/users", w.org);
    let admins = format!("/organizations/{}/relationships/admins", w.org);
    let refused: [(&Actor, u16); 4] = [(&w.anonymous, 401), (&w.carol, 403), (&w.bob, 403), (&for_bob, 403)];
    for method in ["POST", "PATCH", "DELETE"] {
        for path in [&users, &admins] {
            ex.table(method, path, Some(linkage("users", &[w.carol_id])), &refused).await;
        }
    }
    let now = ex.ids(&w.admin, &users).await;
    ex.check(now.len() == 2, "refused writes changed no membership");

    ex.status(&w.alice, "POST", &users, Some(linkage("users", &[w.carol_id])), 204).await;
    ex.status(&w.carol, "GET", &format!("/organizations/{}/users", w.org), None, 200).await;
    // Adding an admin makes them a member too.
    ex.status(&for_alice, "POST", &admins, Some(linkage("users", &[dave_id])), 204).await;
    let ids = ex.ids(&w.admin, &users).await;
    ex.check(ids.contains(&dave_id.to_string()), format!("dave became a member: {ids:?}"));
    let listed = ex.status(&w.admin, "GET", &admins, None, 200).await;
    ex.check(listed.ids() == vec![w.alice_id.to_string(), dave_id.to_string()], format!("admins: {}", listed.body));
    // Deleting from admins demotes; deleting from users removes.
    ex.status(&w.admin, "DELETE", &admins, Some(linkage("users", &[dave_id])), 204).await;
    let listed = ex.status(&w.admin, "GET", &admins, None, 200).await;
    ex.check(listed.ids() == vec![w.alice_id.to_string()], format!("dave was demoted: {}", listed.body));
    let now = ex.ids(&w.admin, &users).await;
    ex.check(now.contains(&dave_id.to_string()), "a demoted admin stays a member");
    ex.status(&w.delegate, "DELETE", &users, Some(linkage("users", &[dave_id])), 204).await;
    let now = ex.ids(&w.admin, &users).await;
    ex.check(!now.contains(&dave_id.to_string()), "dave was removed");
    // PATCH replaces the whole set.
    ex.status(&w.alice, "PATCH", &users, Some(linkage("users", &[w.alice_id, w.carol_id])), 204).await;
    let ids = ex.ids(&w.admin, &users).await;
    ex.check(ids == vec![w.alice_id.to_string(), w.carol_id.to_string()], format!("members replaced: {ids:?}"));
    ex.status(&w.bob, "GET", &format!("/organizations/{}/users", w.org), None, 403).await;

    // Unknown users, and groups (which are created and deleted instead), are refused.
    ex.table("POST", &users, Some(linkage("users", &[999_999])), &[(&w.alice, 404), (&w.admin, 404)]).await;
    ex.table("PATCH", &admins, Some(linkage("users", &[w.alice_id, 999_999])), &[(&w.admin, 404)]).await;
    let groups = format!("/organizations/{}/relationships/groups", w.org);
    for method in ["POST", "PATCH", "DELETE"] {
        ex.table(method, &groups, Some(linkage("groups", &[1])), &[(&w.alice, 403), (&w.admin, 403)]).await;
    }
    ex.status(&w.admin, "POST", "/organizations/999999/relationships/users", Some(linkage("users", &[w.bob_id])), 404)
        .await;
    let now = ex.ids(&w.admin, &users).await;
    ex.check(now.len() == 2, "refused writes changed no membership");
    ex.done();
}

async fn removing_a_member_also_removes_them_from_the_organizations_groups(backend: Backend) {
    let w = world(backend).await;
    let mut ex = w.expect();
    let body = json!({"data": {"type": "groups", "attributes": {"name": "Ops"}}});
    let group = ex.status(&w.alice, "POST", &format!("/organizations/{}/groups", w.org), Some(body), 201).await.id();
    let group_users = format!("/groups/{group}/relationships/users");
    ex.status(&w.alice, "POST", &group_users, Some(linkage("users", &[w.bob_id])), 204).await;
    let users = format!("/organizations/{}/relationships/users", w.org);
    ex.status(&w.alice, "DELETE", &users, Some(linkage("users", &[w.bob_id])), 204).await;
    let in_group = ex.status(&w.admin, "GET", &group_users, None, 200).await;
    ex.check(in_group.body["data"] == json!([]), format!("bob left the group: {}", in_group.body));
    let bobs = ex.status(&w.admin, "GET", &format!("/users/{}/groups", w.bob_id), None, 200).await;
    ex.check(bobs.body["data"] == json!([]), format!("bob has no groups: {}", bobs.body));
    ex.status(&w.bob, "GET", &format!("/groups/{group}"), None, 404).await;
    // Coming back does not restore the old group membership.
    ex.status(&w.alice, "POST", &users, Some(linkage("users", &[w.bob_id])), 204).await;
    let in_group = ex.status(&w.admin, "GET", &group_users, None, 200).await;
    ex.check(in_group.body["data"] == json!([]), format!("rejoining restores no group: {}", in_group.body));
    ex.done();
}
