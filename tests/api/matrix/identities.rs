//! `identities`: attached only by trusted delegates; listed by admins and delegates; read by the
//! owner, admins and delegates; removed by the owner and admins; never changed.

use serde_json::{Value, json};

use super::world;
use crate::backend_tests;
use crate::support::app::Backend;

backend_tests!(
    only_trusted_delegates_attach_identities,
    identities_are_read_by_owner_admins_and_delegates_and_removed_by_owner_and_admins,
);

fn new_identity(uid: &str, user: Option<i64>) -> Option<Value> {
    let mut data = json!({"type": "identities", "attributes": {"provider": "github", "uid": uid}});
    if let Some(user) = user {
        data["relationships"] = json!({"user": {"data": {"type": "users", "id": user.to_string()}}});
    }
    Some(json!({ "data": data }))
}

fn owner(body: &Value) -> Value {
    body["data"]["relationships"]["user"]["data"]["id"].clone()
}

async fn only_trusted_delegates_attach_identities(backend: Backend) {
    let w = world(backend).await;
    let for_bob = w.on_behalf_of(w.bob_id, "delegate for bob");
    let for_admin = w.on_behalf_of(w.admin_id, "delegate for admin");
    let mut ex = w.expect();
    for (actor, expected) in [(&w.anonymous, 401), (&w.bob, 403), (&w.admin, 403), (&w.alice, 403)] {
        ex.status(actor, "POST", "/identities", new_identity("1", Some(w.bob_id)), expected).await;
        ex.status(actor, "POST", "/identities", new_identity("1", None), expected).await;
    }
    let own = format!("/users/{}/identities", w.bob_id);
    ex.table("POST", &own, new_identity("1", None), &[(&w.bob, 403), (&w.admin, 403)]).await;
    let listed = ex.ids(&w.admin, "/identities").await;
    ex.check(listed.is_empty(), format!("refused attaches made nothing: {listed:?}"));

    let linked = ex.status(&w.delegate, "POST", "/identities", new_identity("10", Some(w.bob_id)), 201).await;
    ex.check(super::is_id(&owner(&linked.body), w.bob_id), format!("linked to bob: {}", linked.body));
    let behalf = ex.status(&for_bob, "POST", "/identities", new_identity("11", None), 201).await;
    ex.check(super::is_id(&owner(&behalf.body), w.bob_id), format!("on behalf of bob: {}", behalf.body));
    let named = ex.status(&for_admin, "POST", "/identities", new_identity("12", Some(w.carol_id)), 201).await;
    ex.check(super::is_id(&owner(&named.body), w.carol_id), format!("the relationship names the user: {}", named.body));
    ex.status(&w.delegate, "POST", "/identities", new_identity("13", None), 400).await;
    ex.status(&w.delegate, "POST", "/identities", new_identity("14", Some(999_999)), 404).await;
    ex.status(&w.delegate, "POST", "/identities", new_identity("10", Some(w.carol_id)), 409).await;
    let listed = ex.ids(&w.admin, "/identities").await;
    ex.check(listed.len() == 3, format!("three identities: {listed:?}"));
    ex.done();
}

async fn identities_are_read_by_owner_admins_and_delegates_and_removed_by_owner_and_admins(backend: Backend) {
    let w = world(backend).await;
    let for_carol = w.on_behalf_of(w.carol_id, "delegate for carol");
    let for_bob = w.on_behalf_of(w.bob_id, "delegate for bob");
    let mut ids = Vec::new();
    for uid in ["1", "2", "3", "4"] {
        let created = w.app.api("POST", "/identities", &w.delegate.who, new_identity(uid, Some(w.bob_id))).await;
        assert_eq!(created.status, 201, "{}", created.body);
        ids.push(created.id());
    }
    let mut ex = w.expect();
    let path = format!("/identities/{}", ids[0]);
    for read in [path.clone(), format!("{path}/user"), format!("{path}/relationships/user")] {
        ex.table(
            "GET",
            &read,
            None,
            &[
                (&w.anonymous, 401),
                (&w.carol, 404),
                (&w.alice, 404),
                (&w.bob, 200),
                (&w.admin, 200),
                (&w.delegate, 200),
                (&for_carol, 200),
            ],
        )
        .await;
    }
    ex.table(
        "GET",
        "/identities",
        None,
        &[(&w.anonymous, 401), (&w.bob, 403), (&w.alice, 403), (&w.admin, 200), (&w.delegate, 200), (&for_bob, 200)],
    )
    .await;
    let patch = Some(json!({"data": {"type": "identities", "id": ids[0].to_string(), "attributes": {}}}));
    ex.table(
        "PATCH",
        &path,
        patch,
        &[(&w.anonymous, 401), (&w.carol, 404), (&w.bob, 403), (&w.admin, 403), (&w.delegate, 403)],
    )
    .await;
    let uid = Some(json!({"data": {"type": "identities", "id": ids[0].to_string(), "attributes": {"uid": "666"}}}));
    ex.table("PATCH", &path, uid, &[(&w.bob, 400), (&w.admin, 400)]).await;
    let relink = Some(json!({"data": {"type": "users", "id": w.carol_id.to_string()}}));
    ex.table("PATCH", &format!("{path}/relationships/user"), relink, &[(&w.bob, 403), (&w.admin, 403)]).await;

    ex.table("DELETE", &path, None, &[(&w.anonymous, 401), (&w.carol, 404), (&w.alice, 404), (&for_carol, 403)]).await;
    ex.status(&w.bob, "DELETE", &path, None, 204).await;
    ex.status(&for_bob, "DELETE", &format!("/identities/{}", ids[1]), None, 204).await;
    ex.status(&w.admin, "DELETE", &format!("/identities/{}", ids[2]), None, 204).await;
    ex.status(&w.delegate, "DELETE", &format!("/identities/{}", ids[3]), None, 204).await;
    ex.status(&w.admin, "GET", &path, None, 404).await;
    let left = ex.ids(&w.admin, "/identities").await;
    ex.check(left.is_empty(), format!("all four were removed: {left:?}"));
    ex.done();
}
