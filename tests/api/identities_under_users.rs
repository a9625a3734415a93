//! `POST /users/{id}/identities`: a trusted delegate links an identity under the user's URL, as
//! the OpenAPI document says; the user is the one the URL names, and nobody else may link.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::app::{Backend, spawn};
use crate::support::credentials::{insert_delegate_with_scopes, token_request};
use crate::support::jsonapi::As;

backend_tests!(a_delegate_links_an_identity_under_the_users_url_and_nobody_else_may);

fn identity(uid: &str, user: Option<i64>) -> Value {
    let mut document = json!({"data": {"type": "identities", "attributes": {"provider": "github", "uid": uid}}});
    if let Some(user) = user {
        document["data"]["relationships"] = json!({"user": {"data": {"type": "users", "id": user.to_string()}}});
    }
    document
}

async fn a_delegate_links_an_identity_under_the_users_url_and_nobody_else_may(backend: Backend) {
    let app = spawn(backend).start().await;
    let (bob, bob_token) = app.user_with_token("bob@example.com", false).await;
    let carol = app.insert_user("carol@example.com", true, false).await;
    let (access, secret) = insert_delegate_with_scopes(&app, "portal", "user_access").await;
    let portal = As::Delegate { access: access.clone(), secret: secret.clone(), on_behalf_of: None };
    let path = format!("/users/{bob}/identities");

    let linked = app.api("POST", &path, &portal, Some(identity("42", None))).await;
    assert_eq!(linked.status, 201, "{}", linked.body);
    assert_eq!(linked.body["data"]["type"], "identities");
    assert_eq!(linked.body["data"]["attributes"]["uid"], "42");
    let listed = app.api("GET", &path, &portal, None).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(1), "{}", listed.body);

    // The identity logs bob in through the delegate that linked it.
    let headers = [("X-Authify-Access", access.as_str()), ("X-Authify-Secret", secret.as_str())];
    let (status, pair) = token_request(&app, &headers, &json!({"provider": "github", "uid": "42"})).await;
    assert_eq!(status, 200, "{pair}");

    // A relationship naming another user than the URL's is refused, and nothing is linked.
    let elsewhere = app.api("POST", &path, &portal, Some(identity("43", Some(carol.id)))).await;
    assert!(matches!(elsewhere.status, 400 | 403 | 409 | 422), "{} {}", elsewhere.status, elsewhere.body);
    // A user may not link identities, not even to themselves.
    let own = app.api("POST", &path, &bob_token, Some(identity("44", None))).await;
    assert_eq!(own.status, 403, "{}", own.body);
    let listed = app.api("GET", &path, &portal, None).await;
    assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(1), "{}", listed.body);
}
