//! `users`: reads by anyone signed in (email and verified to self and admins), creates by admins,
//! updates and deletes by self and admins, relationships read-only.

use serde_json::json;

use super::{find, resource, shows, world};
use crate::backend_tests;
use crate::support::app::Backend;
use crate::support::jsonapi::linkage;

backend_tests!(
    anyone_signed_in_reads_users_but_only_self_and_admins_see_email_and_verified,
    only_admins_and_delegates_acting_as_themselves_create_users,
    users_change_their_name_and_handle_and_only_admins_change_the_rest,
    users_are_deleted_by_themselves_and_admins_only,
    user_relationships_are_read_by_the_right_callers_and_never_written,
);

async fn anyone_signed_in_reads_users_but_only_self_and_admins_see_email_and_verified(backend: Backend) {
    let w = world(backend).await;
    let for_bob = w.on_behalf_of(w.bob_id, "delegate for bob");
    let for_carol = w.on_behalf_of(w.carol_id, "delegate for carol");
    let mut ex = w.expect();
    let bob = format!("/users/{}", w.bob_id);
    ex.table("GET", &bob, None, &[(&w.anonymous, 401)]).await;
    ex.table("GET", "/users", None, &[(&w.anonymous, 401)]).await;
    for (actor, private) in [
        (&w.bob, true),
        (&w.carol, false),
        (&w.alice, false),
        (&w.admin, true),
        (&w.delegate, true),
        (&for_bob, true),
        (&for_carol, false),
    ] {
        let shown = ex.status(actor, "GET", &bob, None, 200).await;
        let listed = ex.status(actor, "GET", "/users", None, 200).await;
        let listed_bob = find(&listed.body, "users", w.bob_id).unwrap_or_default();
        ex.check(listed.body["meta"]["total"] == 4, format!("GET /users as {} lists every user", actor.name));
        for (path, object) in [(bob.as_str(), &shown.body["data"]), ("/users", &listed_bob)] {
            ex.check(shows(object, "handle"), format!("GET {path} as {}: bob's handle is public", actor.name));
            for attribute in ["email", "verified"] {
                ex.check(
                    shows(object, attribute) == private,
                    format!("GET {path} as {}: {attribute} shown should be {private}: {object}", actor.name),
                );
            }
        }
    }
    ex.done();
}

async fn only_admins_and_delegates_acting_as_themselves_create_users(backend: Backend) {
    let w = world(backend).await;
    let for_bob = w.on_behalf_of(w.bob_id, "delegate for bob");
    let for_admin = w.on_behalf_of(w.admin_id, "delegate for admin");
    let mut ex = w.expect();
    let new =
        |n: &str| resource("users", None, json!({"email": format!("{n}@example.com"), "password": "long enough pw 1"}));
    for (n, actor, expected) in [
        ("u1", &w.anonymous, 401),
        ("u2", &w.bob, 403),
        ("u3", &w.alice, 403),
        ("u4", &for_bob, 403),
        ("u5", &w.admin, 201),
        ("u6", &w.delegate, 201),
        ("u7", &for_admin, 201),
    ] {
        let created = ex.status(actor, "POST", "/users", Some(new(n)), expected).await;
        if expected == 201 && created.status == 201 {
            let data = &created.body["data"];
            ex.check(
                data["attributes"]["email"] == format!("{n}@example.com"),
                format!("{n}: the creator sees the email"),
            );
            ex.check(!shows(data, "password"), format!("{n}: the password is never shown"));
        }
    }
    let listed = ex.status(&w.admin, "GET", "/users", None, 200).await;
    ex.check(
        listed.body["meta"]["total"] == 7,
        format!("only the 3 allowed creates made users: {}", listed.body["meta"]),
    );
    ex.done();
}

async fn users_change_their_name_and_handle_and_only_admins_change_the_rest(backend: Backend) {
    let w = world(backend).await;
    let for_bob = w.on_behalf_of(w.bob_id, "delegate for bob");
    let mut ex = w.expect();
    let bob = format!("/users/{}", w.bob_id);
    let patch = |attributes: serde_json::Value| Some(resource("users", Some(w.bob_id), attributes));
    ex.status(&w.anonymous, "PATCH", &bob, patch(json!({"full-name": "X"})), 401).await;
    ex.status(&w.carol, "PATCH", &bob, patch(json!({"full-name": "X"})), 403).await;
    ex.status(&w.alice, "PATCH", &bob, patch(json!({"full-name": "X"})), 403).await;
    let own = ex.status(&w.bob, "PATCH", &bob, patch(json!({"full-name": "Bob B", "handle": "bobby"})), 200).await;
    ex.check(own.body["data"]["attributes"]["handle"] == "bobby", format!("bob renamed himself: {}", own.body));
    ex.status(&for_bob, "PATCH", &bob, patch(json!({"full-name": "Robert"})), 200).await;
    for attributes in [json!({"admin": true}), json!({"verified": false}), json!({"disabled": true})] {
        ex.status(&w.bob, "PATCH", &bob, patch(attributes.clone()), 403).await;
        ex.status(&for_bob, "PATCH", &bob, patch(attributes), 403).await;
    }
    // A user's own new email stays pending until confirmed through the verification mail.
    let pending = ex.status(&w.bob, "PATCH", &bob, patch(json!({"email": "new-bob@example.com"})), 200).await;
    ex.check(
        pending.body["data"]["attributes"]["email"] != "new-bob@example.com",
        format!("a new email waits for its confirmation: {}", pending.body),
    );
    let carol = format!("/users/{}", w.carol_id);
    let taken = resource("users", Some(w.carol_id), json!({"handle": "bobby"}));
    ex.status(&w.carol, "PATCH", &carol, Some(taken), 409).await;

    let by_admin = json!({"email": "robert@example.com", "full-name": "Rob", "verified": false, "admin": true});
    let changed = ex.status(&w.admin, "PATCH", &bob, patch(by_admin), 200).await;
    let attributes = &changed.body["data"]["attributes"];
    ex.check(
        attributes["email"] == "robert@example.com" && attributes["admin"] == true && attributes["verified"] == false,
        format!("the admin changed everything: {attributes}"),
    );
    ex.status(&w.delegate, "PATCH", &bob, patch(json!({"admin": false, "disabled": true})), 200).await;
    let (status, _) = w.app.login("robert@example.com", crate::support::app::PASSWORD).await;
    ex.check(status == 403, format!("a disabled user cannot log in: {status}"));
    // Whatever was refused left bob's name as bob and the admins set it.
    let shown = ex.status(&w.admin, "GET", &bob, None, 200).await;
    ex.check(
        shown.body["data"]["attributes"]["full-name"] == "Rob",
        format!("refused writes changed nothing: {}", shown.body),
    );
    ex.done();
}

async fn users_are_deleted_by_themselves_and_admins_only(backend: Backend) {
    let w = world(backend).await;
    let (dave_id, dave) = w.app.user_with_token("dave@example.com", false).await;
    let (erin_id, _) = w.app.user_with_token("erin@example.com", false).await;
    let (frank_id, _) = w.app.user_with_token("frank@example.com", false).await;
    let dave = super::Actor { name: "dave", who: dave };
    let for_carol = w.on_behalf_of(w.carol_id, "delegate for carol");
    let mut ex = w.expect();
    let path = |id: i64| format!("/users/{id}");
    ex.table(
        "DELETE",
        &path(erin_id),
        None,
        &[(&w.anonymous, 401), (&w.bob, 403), (&w.alice, 403), (&dave, 403), (&for_carol, 403)],
    )
    .await;
    ex.status(&dave, "DELETE", &path(dave_id), None, 204).await;
    ex.status(&dave, "GET", "/users", None, 401).await;
    ex.status(&w.admin, "GET", &path(dave_id), None, 404).await;
    ex.status(&w.admin, "DELETE", &path(erin_id), None, 204).await;
    ex.status(&w.delegate, "DELETE", &path(frank_id), None, 204).await;
    ex.status(&w.admin, "DELETE", &path(frank_id), None, 404).await;
    let listed = ex.status(&w.admin, "GET", "/users", None, 200).await;
    ex.check(listed.body["meta"]["total"] == 4, format!("three users were deleted: {}", listed.body["meta"]));
    ex.done();
}

async fn user_relationships_are_read_by_the_right_callers_and_never_written(backend: Backend) {
    let w = world(backend).await;
    let for_carol = w.on_behalf_of(w.carol_id, "delegate for carol");
    let mut ex = w.expect();
    let bob = w.bob_id;
    for shape in ["", "relationships/"] {
        for rel in ["organizations", "groups"] {
            let path = format!("/users/{bob}/{shape}{rel}");
            ex.table(
                "GET",
                &path,
                None,
                &[(&w.anonymous, 401), (&w.bob, 200), (&w.carol, 200), (&w.admin, 200), (&w.delegate, 200)],
            )
            .await;
        }
        let apikeys = format!("/users/{bob}/{shape}apikeys");
        ex.table(
            "GET",
            &apikeys,
            None,
            &[(&w.anonymous, 401), (&w.carol, 403), (&w.alice, 403), (&for_carol, 403), (&w.bob, 200), (&w.admin, 200)],
        )
        .await;
        let identities = format!("/users/{bob}/{shape}identities");
        ex.table(
            "GET",
            &identities,
            None,
            &[
                (&w.anonymous, 401),
                (&w.carol, 403),
                (&w.alice, 403),
                (&w.bob, 200),
                (&w.admin, 200),
                (&w.delegate, 200),
                (&for_carol, 200),
            ],
        )
        .await;
    }
    let orgs = ex.status(&w.carol, "GET", &format!("/users/{bob}/relationships/organizations"), None, 200).await;
    ex.check(
        orgs.body["data"] == json!([{"type": "organizations", "id": w.org.to_string()}]),
        format!("bob is in Acme: {}", orgs.body),
    );
    for (rel, kind, target) in [
        ("organizations", "organizations", w.org),
        ("groups", "groups", 1),
        ("apikeys", "apikeys", 1),
        ("identities", "identities", 1),
    ] {
        let path = format!("/users/{bob}/relationships/{rel}");
        for method in ["POST", "PATCH", "DELETE"] {
            ex.table(method, &path, Some(linkage(kind, &[target])), &[(&w.bob, 403), (&w.admin, 403)]).await;
        }
    }
    let still = ex.status(&w.admin, "GET", &format!("/users/{bob}/relationships/organizations"), None, 200).await;
    ex.check(
        still.body["data"].as_array().is_some_and(|a| a.len() == 1),
        format!("refused writes changed nothing: {}", still.body),
    );
    ex.done();
}
