//! Helpers for the session tests: token pairs from `/jwt/token`, `/jwt/refresh`, `/jwt/revoke`,
//! and bounded waits for what other instances and the poller do.

use std::future::Future;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::app::{PASSWORD, TestApp};

/// The answer to a refresh token that no longer works.
pub fn invalid_refresh() -> (u16, Value) {
    (401, json!({"error": "Invalid refresh token"}))
}

/// Asserts the shape of an interactive login's or a refresh's answer and returns it.
pub fn assert_pair(status: u16, body: Value) -> Value {
    assert_eq!(status, 200, "{body}");
    let refresh_token = body["refresh_token"].as_str().expect("a refresh_token");
    let hex = refresh_token.strip_prefix("authify_rt_").expect("the authify_rt_ prefix");
    assert_eq!(hex.len(), 64, "{refresh_token}");
    assert!(hex.chars().all(|c| c.is_ascii_hexdigit()), "{refresh_token}");
    assert_eq!(body["token_type"], json!("Bearer"));
    assert_eq!(body["expires_in"], json!(15 * 60), "AUTHIFY_JWT_EXPIRATION is 15 minutes");
    assert!(body["jwt"].is_string());
    body
}

/// A password login's token pair.
pub async fn login_pair(app: &TestApp, email: &str) -> Value {
    let (status, body) = app.login(email, PASSWORD).await;
    assert_pair(status, body)
}

/// `POST /jwt/refresh {"refresh_token"}`.
pub async fn refresh(app: &TestApp, refresh_token: &str) -> (u16, Value) {
    post(app, "/jwt/refresh", &json!({ "refresh_token": refresh_token })).await
}

/// A refresh that must work; its new pair.
pub async fn refreshed(app: &TestApp, refresh_token: &str) -> Value {
    let (status, body) = refresh(app, refresh_token).await;
    assert_pair(status, body)
}

pub async fn post(app: &TestApp, path: &str, body: &Value) -> (u16, Value) {
    let response = app.post_json(path, body).await;
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

/// `POST /jwt/revoke` with `Authorization: Bearer <jwt>` and no body.
pub async fn revoke_bearer(app: &TestApp, jwt: &str) -> (u16, Value) {
    let response = app.client.post(app.url("/jwt/revoke")).bearer_auth(jwt).send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

/// `POST /jwt/revoke {"refresh_token"}`.
pub async fn revoke_refresh(app: &TestApp, refresh_token: &str) -> (u16, Value) {
    post(app, "/jwt/revoke", &json!({ "refresh_token": refresh_token })).await
}

pub fn jwt(pair: &Value) -> &str {
    pair["jwt"].as_str().expect("jwt")
}

pub fn refresh_token(pair: &Value) -> &str {
    pair["refresh_token"].as_str().expect("refresh_token")
}

/// The claims of a token `/jwt/verify` finds valid.
pub async fn claims(app: &TestApp, jwt: &str) -> Value {
    let body = app.verify(jwt).await;
    assert_eq!(body["valid"], json!(true), "{body}");
    body["payload"].clone()
}

/// Asserts that `/jwt/verify` says the token was revoked.
pub async fn assert_revoked(app: &TestApp, jwt: &str) {
    assert_eq!(app.verify_error(jwt).await, "Token has been revoked");
}

/// Waits (at most 5 s) until `condition` holds; panics with `what` otherwise.
pub async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..100 {
        if condition().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not within 5 s: {what}");
}

/// Waits until `app` reports `jwt` revoked (revocations made elsewhere arrive with the poll).
pub async fn wait_until_revoked(app: &TestApp, jwt: &str) {
    eventually("the token is reported revoked", || async {
        let body = app.verify(jwt).await;
        body["errors"] == json!(["Token has been revoked"])
    })
    .await;
}
