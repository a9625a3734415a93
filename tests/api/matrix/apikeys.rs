//! `apikeys`: any user creates keys for themselves (the secret shown once); the owner and admins
//! see, rename and delete them; only admins list every key.

use serde_json::{Value, json};

use super::{Actor, World, shows, world};
use crate::backend_tests;
use crate::support::app::Backend;
use crate::support::credentials::key_login;
use crate::support::jsonapi::As;

backend_tests!(
    users_create_keys_for_themselves_and_the_secret_is_shown_once,
    keys_are_seen_renamed_and_deleted_by_their_owner_and_admins_only,
    a_key_cannot_create_a_key_with_more_scopes_than_it_has,
);

fn new_key(attributes: Value) -> Option<Value> {
    Some(json!({"data": {"type": "apikeys", "attributes": attributes}}))
}

/// A key created by `actor` through the API: (id, access key, secret).
async fn create(w: &World, actor: &Actor, attributes: Value) -> (i64, String, String) {
    let created = w.app.api("POST", "/apikeys", &actor.who, new_key(attributes)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let attributes = &created.body["data"]["attributes"];
    let text = |name: &str| attributes[name].as_str().unwrap_or_else(|| panic!("{name}: {attributes}")).to_owned();
    (created.id(), text("access-key"), text("secret-key"))
}

async fn users_create_keys_for_themselves_and_the_secret_is_shown_once(backend: Backend) {
    let w = world(backend).await;
    let for_bob = w.on_behalf_of(w.bob_id, "delegate for bob");
    let mut ex = w.expect();
    ex.status(&w.anonymous, "POST", "/apikeys", new_key(json!({"name": "x"})), 401).await;
    ex.status(&w.delegate, "POST", "/apikeys", new_key(json!({"name": "x"})), 403).await;
    let refused = ex.status(&w.bob, "POST", "/apikeys", new_key(json!({"scopes": ["admin_access"]})), 422).await;
    ex.check(
        refused.body["errors"][0]["source"]["pointer"] == "/data/attributes/scopes",
        format!("the pointer names scopes: {}", refused.body),
    );
    let (own, access, secret) = create(&w, &w.bob, json!({"name": "ci"})).await;
    let (via_delegate, _, _) = create(&w, &for_bob, json!({"name": "portal"})).await;
    let (admins, _, _) = create(&w, &w.admin, json!({"scopes": ["user_access", "admin_access"]})).await;
    for (id, owner) in [(own, w.bob_id), (via_delegate, w.bob_id), (admins, w.admin_id)] {
        let shown = ex.status(&w.admin, "GET", &format!("/apikeys/{id}"), None, 200).await;
        let data = &shown.body["data"];
        ex.check(!shows(data, "secret-key"), format!("GET /apikeys/{id} never shows the secret: {data}"));
        ex.check(super::is_id(&data["relationships"]["user"]["data"]["id"], owner), format!("key {id} owner: {data}"));
    }
    for path in [format!("/users/{}/apikeys", w.bob_id), "/apikeys".to_owned(), "/apikeys?include=user".to_owned()] {
        let listed = ex.status(&w.admin, "GET", &path, None, 200).await;
        let leaked = super::objects(&listed.body).iter().any(|o| shows(o, "secret-key"));
        ex.check(!leaked, format!("GET {path} shows no secret: {}", listed.body));
    }
    let (status, body) = key_login(&w.app, &access, &secret).await;
    ex.check(status == 200, format!("the new key logs in: {status} {body}"));
    let (status, _) = key_login(&w.app, &access, "authify_sk_0000").await;
    ex.check(status == 401, format!("a wrong secret does not: {status}"));
    ex.done();
}

async fn keys_are_seen_renamed_and_deleted_by_their_owner_and_admins_only(backend: Backend) {
    let w = world(backend).await;
    let (key, access, secret) = create(&w, &w.bob, json!({"name": "ci"})).await;
    let (spare, _, _) = create(&w, &w.bob, json!({"name": "spare"})).await;
    let for_bob = w.on_behalf_of(w.bob_id, "delegate for bob");
    let for_carol = w.on_behalf_of(w.carol_id, "delegate for carol");
    let mut ex = w.expect();
    let path = format!("/apikeys/{key}");
    for read in [path.clone(), format!("{path}/user"), format!("{path}/relationships/user")] {
        ex.table(
            "GET",
            &read,
            None,
            &[
                (&w.anonymous, 401),
                (&w.carol, 404),
                (&w.alice, 404),
                (&for_carol, 404),
                (&w.bob, 200),
                (&for_bob, 200),
                (&w.admin, 200),
                (&w.delegate, 200),
            ],
        )
        .await;
    }
    ex.table(
        "GET",
        "/apikeys",
        None,
        &[(&w.anonymous, 401), (&w.bob, 403), (&w.alice, 403), (&for_bob, 403), (&w.admin, 200), (&w.delegate, 200)],
    )
    .await;
    let all = ex.ids(&w.admin, "/apikeys").await;
    ex.check(all == vec![key.to_string(), spare.to_string()], format!("admins list every key: {all:?}"));
    let bobs = format!("/users/{}/apikeys", w.bob_id);
    ex.table("GET", &bobs, None, &[(&w.carol, 403), (&w.alice, 403), (&w.bob, 200), (&w.admin, 200)]).await;

    let rename =
        |name: &str| Some(json!({"data": {"type": "apikeys", "id": key.to_string(), "attributes": {"name": name}}}));
    ex.table("PATCH", &path, rename("stolen"), &[(&w.anonymous, 401), (&w.carol, 404), (&for_carol, 404)]).await;
    for actor in [&w.bob, &for_bob, &w.admin, &w.delegate] {
        let renamed = ex.status(actor, "PATCH", &path, rename(actor.name), 200).await;
        ex.check(renamed.body["data"]["attributes"]["name"] == actor.name, format!("renamed by {}", actor.name));
        ex.check(!shows(&renamed.body["data"], "secret-key"), "a rename shows no secret");
    }
    let scopes = json!({"data": {"type": "apikeys", "id": key.to_string(), "attributes": {"scopes": []}}});
    ex.status(&w.bob, "PATCH", &path, Some(scopes), 400).await;
    ex.table(
        "POST",
        &format!("{path}/relationships/user"),
        Some(json!({"data": {"type": "users", "id": "1"}})),
        &[(&w.admin, 403)],
    )
    .await;
    ex.table(
        "PATCH",
        &format!("{path}/relationships/user"),
        Some(json!({"data": {"type": "users", "id": w.carol_id.to_string()}})),
        &[(&w.bob, 403), (&w.admin, 403)],
    )
    .await;

    ex.table("DELETE", &path, None, &[(&w.anonymous, 401), (&w.carol, 404), (&w.alice, 404), (&for_carol, 404)]).await;
    let (status, _) = key_login(&w.app, &access, &secret).await;
    ex.check(status == 200, format!("refused deletes left the key working: {status}"));
    ex.status(&w.bob, "DELETE", &path, None, 204).await;
    let (status, _) = key_login(&w.app, &access, &secret).await;
    ex.check(status == 401, format!("a deleted key no longer logs in: {status}"));
    ex.status(&w.bob, "GET", &path, None, 404).await;
    ex.status(&w.admin, "DELETE", &format!("/apikeys/{spare}"), None, 204).await;
    let left = ex.ids(&w.admin, "/apikeys").await;
    ex.check(left.is_empty(), format!("both keys are gone: {left:?}"));
    ex.done();
}

/// An admin's key made without `admin_access` narrows them to a user; with it they must not mint a
/// key that has it back.
async fn a_key_cannot_create_a_key_with_more_scopes_than_it_has(backend: Backend) {
    let w = world(backend).await;
    let (_, access, secret) = create(&w, &w.admin, json!({"scopes": ["user_access"]})).await;
    let (status, body) = key_login(&w.app, &access, &secret).await;
    assert_eq!(status, 200, "{body}");
    let narrowed =
        Actor { name: "admin via a user_access key", who: As::Bearer(body["jwt"].as_str().expect("jwt").into()) };
    let mut ex = w.expect();
    ex.status(&narrowed, "GET", "/apikeys", None, 403).await;
    let wider = new_key(json!({"scopes": ["user_access", "admin_access"]}));
    let minted = ex.status(&narrowed, "POST", "/apikeys", wider, 422).await;
    if minted.status == 201 {
        let attributes = &minted.body["data"]["attributes"];
        let (access, secret) =
            (attributes["access-key"].as_str().unwrap_or(""), attributes["secret-key"].as_str().unwrap_or(""));
        let (_, body) = key_login(&w.app, access, secret).await;
        let escalated = Actor { name: "the minted key", who: As::Bearer(body["jwt"].as_str().unwrap_or("").into()) };
        ex.status(&escalated, "GET", "/apikeys", None, 403).await;
    }
    // Left to the default, a new key gets no more than the credential that asked for it.
    let defaulted = ex.status(&narrowed, "POST", "/apikeys", new_key(json!({"name": "default"})), 201).await;
    let scopes = &defaulted.body["data"]["attributes"]["scopes"];
    ex.check(*scopes == json!(["user_access"]), format!("default scopes of a narrowed caller's key: {scopes}"));
    ex.done();
}
