//! Fixtures for machine credentials: API keys (made through the service, as the API will),
//! trusted delegates, identities and organization memberships.

use std::time::Duration;

use authify::crypto::secret;
use authify::service::directory::api_keys::{self, CreatedApiKey};
use authify::store::delegates::NewDelegate;
use authify::store::entity::{organization, organization_membership};
use authify::store::users::User;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, Database};
use serde_json::{Value, json};

use crate::support::app::TestApp;

/// A key for `owner` through `service::api_keys::create_api_key`.
pub async fn create_key(
    app: &TestApp,
    owner: &User,
    scopes: Option<&[&str]>,
    expires_at: Option<i64>,
) -> CreatedApiKey {
    let scopes = scopes.map(|s| s.iter().map(|s| s.to_string()).collect());
    api_keys::create_api_key(&app.state.directory, owner, Some("ci".into()), scopes, expires_at)
        .await
        .expect("create API key")
}

/// `POST /jwt/token` with `body` (and `headers`); returns status and body.
pub async fn token_request(app: &TestApp, headers: &[(&str, &str)], body: &Value) -> (u16, Value) {
    let mut request = app.client.post(app.url("/jwt/token")).json(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

/// `POST /jwt/token` with `access_key` and `secret_key`.
pub async fn key_login(app: &TestApp, access: &str, secret: &str) -> (u16, Value) {
    token_request(app, &[], &json!({"access_key": access, "secret_key": secret})).await
}

/// The claims of a token from a 200 answer, checked at `/jwt/verify`.
pub async fn verified_claims(app: &TestApp, answer: &(u16, Value)) -> Value {
    assert_eq!(answer.0, 200, "{}", answer.1);
    let body = app.verify(answer.1["jwt"].as_str().expect("jwt")).await;
    assert_eq!(body["valid"], true, "{body}");
    body["payload"].clone()
}

/// The key's `last_used_at` as stored.
pub async fn last_used_at(app: &TestApp, id: i64) -> Option<i64> {
    app.state.store.api_key_by_id(id).await.expect("read key").expect("key exists").last_used_at
}

/// Waits (at most 5 s) until the key's `last_used_at` is `expected`; the write happens off the
/// response path, so it may land just after the token.
pub async fn wait_for_last_used(app: &TestApp, id: i64, expected: i64) {
    for _ in 0..250 {
        if last_used_at(app, id).await == Some(expected) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("last_used_at never became {expected}: it is {:?}", last_used_at(app, id).await);
}

/// Registers a trusted delegate with the default scopes (`user_access admin_access`); returns its
/// access key and secret.
pub async fn insert_delegate(app: &TestApp, name: &str) -> (String, String) {
    insert_delegate_with_scopes(app, name, "user_access admin_access").await
}

/// Registers a trusted delegate with `scopes` (space-separated); returns its access key and secret.
pub async fn insert_delegate_with_scopes(app: &TestApp, name: &str, scopes: &str) -> (String, String) {
    let (access, secret) = (secret::random_hex(16), secret::random_hex(32));
    let new = NewDelegate {
        name: name.into(),
        description: None,
        access_key: access.clone(),
        secret_hash: secret::hash_secret(&secret),
        scopes: scopes.into(),
        now: app.clock_now(),
    };
    app.state.store.insert_delegate(new).await.expect("insert delegate");
    (access, secret)
}

/// Makes `user` a member of a new organization `name` (an admin of it when `admin`); returns its id.
/// Written over a connection of its own, as another service sharing the database would.
pub async fn join_new_organization(app: &TestApp, user: &User, name: &str, admin: bool) -> i64 {
    let db = Database::connect(app.db.url.as_str()).await.expect("connect");
    let now = app.clock_now();
    let org = organization::ActiveModel {
        name: Set(name.into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&db)
    .await
    .expect("insert organization");
    organization_membership::ActiveModel {
        organization_id: Set(org.id),
        user_id: Set(user.id),
        admin: Set(admin),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&db)
    .await
    .expect("insert membership");
    db.close().await.expect("close");
    org.id
}
