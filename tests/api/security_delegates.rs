//! A trusted delegate never reaches more than its own scopes through a user: not through an
//! identity it linked, an identity linked before delegates were recorded, a refresh of such a
//! session, or the Bearer token such a login answers (issue 16, item 1).

use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::app::{Backend, TestApp, spawn};
use crate::support::credentials::{insert_delegate_with_scopes, token_request};
use crate::support::jsonapi::As;
use crate::support::tokens::{claims, jwt, refresh_token, refreshed};

backend_tests!(
    a_user_access_delegate_gets_no_admin_powers_through_an_admins_identity,
    an_identity_logs_in_only_through_the_delegate_that_linked_it,
    a_token_minted_through_a_delegate_is_never_an_admin_person_and_dies_with_the_delegate,
    a_removed_delegates_tokens_are_reported_revoked_even_if_its_name_returns,
);

fn new_identity(uid: &str, user: i64) -> Value {
    json!({"data": {"type": "identities", "attributes": {"provider": "github", "uid": uid},
                    "relationships": {"user": {"data": {"type": "users", "id": user.to_string()}}}}})
}

fn delegate_as(access: &str, secret: &str) -> As {
    As::Delegate { access: access.into(), secret: secret.into(), on_behalf_of: None }
}

async fn identity_login(app: &TestApp, access: &str, secret: &str, uid: &str) -> (u16, Value) {
    let headers = [("X-Authify-Access", access), ("X-Authify-Secret", secret)];
    token_request(app, &headers, &json!({"provider": "github", "uid": uid})).await
}

fn new_delegate_document(name: &str) -> Value {
    json!({"data": {"type": "trusted-delegates", "attributes": {"name": name}}})
}

/// The reviewer's reproduction: a delegate with `user_access` only, an identity on user 1 (an
/// admin), a login through it, then `/trusted-delegates` and `/audit-events` with that token.
async fn a_user_access_delegate_gets_no_admin_powers_through_an_admins_identity(backend: Backend) {
    let app = spawn(backend).start().await;
    let admin = app.insert_user("root@example.com", true, true).await;
    let (access, secret) = insert_delegate_with_scopes(&app, "portal", "user_access").await;
    let portal = delegate_as(&access, &secret);

    // Linking an identity to an admin is refused to a delegate that is no admin itself.
    let linked = app.api("POST", "/identities", &portal, Some(new_identity("1", admin.id))).await;
    assert_eq!(linked.status, 403, "{}", linked.body);

    // A link made before delegates were recorded still confines the login to the delegate's scopes.
    app.state.store.insert_identity(admin.id, None, "github", "legacy", app.clock_now()).await.expect("identity");
    let (status, pair) = identity_login(&app, &access, &secret, "legacy").await;
    assert_eq!(status, 200, "{pair}");
    assert_eq!(claims(&app, jwt(&pair)).await["scopes"], json!(["user_access"]));
    let token = As::Bearer(jwt(&pair).to_owned());
    assert_eq!(app.api("GET", "/audit-events", &token, None).await.status, 403);
    assert_eq!(app.api("POST", "/trusted-delegates", &token, Some(new_delegate_document("evil"))).await.status, 403);
    assert_eq!(app.api("GET", "/users", &token, None).await.status, 200, "still the user's own powers");

    // Refreshing the session does not bring the admin's scopes back.
    let next = refreshed(&app, refresh_token(&pair)).await;
    assert_eq!(claims(&app, jwt(&next)).await["scopes"], json!(["user_access"]));
    let token = As::Bearer(jwt(&next).to_owned());
    assert_eq!(app.api("GET", "/audit-events", &token, None).await.status, 403);
}

async fn an_identity_logs_in_only_through_the_delegate_that_linked_it(backend: Backend) {
    let app = spawn(backend).start().await;
    let bob = app.insert_user("bob@example.com", true, false).await;
    let (access, secret) = insert_delegate_with_scopes(&app, "portal", "user_access").await;
    let (other_access, other_secret) = insert_delegate_with_scopes(&app, "other", "user_access admin_access").await;

    let linked = app.api("POST", "/identities", &delegate_as(&access, &secret), Some(new_identity("7", bob.id))).await;
    assert_eq!(linked.status, 201, "{}", linked.body);
    let (status, pair) = identity_login(&app, &access, &secret, "7").await;
    assert_eq!(status, 200, "{pair}");
    assert_eq!(claims(&app, jwt(&pair)).await["act"], json!({"sub": "delegate:portal"}));

    let stranger = identity_login(&app, &other_access, &other_secret, "7").await;
    assert_eq!(stranger, (401, json!({"error": "Invalid credentials"})));
}

async fn a_token_minted_through_a_delegate_is_never_an_admin_person_and_dies_with_the_delegate(backend: Backend) {
    let app = spawn(backend).start().await;
    let admin = app.insert_user("root@example.com", true, true).await;
    let (access, secret) = insert_delegate_with_scopes(&app, "portal", "user_access admin_access").await;
    let linked =
        app.api("POST", "/identities", &delegate_as(&access, &secret), Some(new_identity("1", admin.id))).await;
    assert_eq!(linked.status, 201, "{}", linked.body);
    let (status, pair) = identity_login(&app, &access, &secret, "1").await;
    assert_eq!(status, 200, "{pair}");
    assert_eq!(claims(&app, jwt(&pair)).await["scopes"], json!(["user_access", "admin_access"]));
    let token = As::Bearer(jwt(&pair).to_owned());
    assert_eq!(app.api("GET", "/audit-events", &token, None).await.status, 200, "the delegate may read it itself");
    let minted = app.api("POST", "/trusted-delegates", &token, Some(new_delegate_document("evil"))).await;
    assert_eq!(minted.status, 403, "only an admin person manages delegates: {}", minted.body);

    authify::service::directory::delegates::remove_delegate(&app.state.directory, app.state.sessions(), "portal")
        .await
        .expect("remove");
    assert_eq!(app.api("GET", "/me", &token, None).await.status, 401, "a removed delegate's tokens end");
    let again = app.post_json("/jwt/refresh", &json!({"refresh_token": refresh_token(&pair)})).await;
    assert_eq!(again.status().as_u16(), 401);
}

/// `/jwt/verify` agrees with the routes: a removed delegate's tokens are invalid, and a delegate
/// added again under the same name does not revive them.
async fn a_removed_delegates_tokens_are_reported_revoked_even_if_its_name_returns(backend: Backend) {
    let app = spawn(backend).start().await;
    let (_, root) = app.user_with_token("root@example.com", true).await;
    let bob = app.insert_user("bob@example.com", true, false).await;
    let (access, secret) = insert_delegate_with_scopes(&app, "portal", "user_access").await;
    let linked = app.api("POST", "/identities", &delegate_as(&access, &secret), Some(new_identity("7", bob.id))).await;
    assert_eq!(linked.status, 201, "{}", linked.body);
    let (status, pair) = identity_login(&app, &access, &secret, "7").await;
    assert_eq!(status, 200, "{pair}");
    claims(&app, jwt(&pair)).await;

    let listed = app.api_get("/trusted-delegates", &root).await;
    let id = listed.ids().into_iter().next().expect("the delegate");
    assert_eq!(app.api("DELETE", &format!("/trusted-delegates/{id}"), &root, None).await.status, 204);
    assert_eq!(app.verify_error(jwt(&pair)).await, "Token has been revoked");
    app.clock.advance(1);
    insert_delegate_with_scopes(&app, "portal", "user_access").await;
    assert_eq!(app.verify_error(jwt(&pair)).await, "Token has been revoked", "the name came back, the token did not");
}
