//! Second-factor helpers for tests: codes are computed with `totp-lite` (not the service's
//! `totp-rs`) from the base32 secret the service handed out.

use serde_json::{Value, json};

use crate::support::app::{PASSWORD, TestApp};

/// The RFC 6238 code (SHA-1, 6 digits, 30 s) for `secret_b32` at Unix time `at`.
pub fn code_at(secret_b32: &str, at: i64) -> String {
    let secret = data_encoding::BASE32_NOPAD.decode(secret_b32.as_bytes()).expect("a base32 secret");
    totp_lite::totp_custom::<totp_lite::Sha1>(30, 6, &secret, u64::try_from(at).expect("a positive time"))
}

/// `method path` with a Bearer token and an optional JSON body: status and body (`null` if empty).
pub async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("a JSON body") })
}

/// Enrols and confirms a second factor for `email`: the secret and the recovery codes. Moves the
/// clock on one step afterwards, so the confirming code does not block the next login's.
pub async fn enable_totp(app: &TestApp, email: &str) -> (String, Vec<String>) {
    let token = app.token_for(email).await;
    let (status, enrolment) = call(app, reqwest::Method::POST, "/me/totp", &token, None).await;
    assert_eq!(status, 200, "{enrolment}");
    let secret = enrolment["secret"].as_str().expect("secret").to_owned();
    let code = code_at(&secret, app.clock_now());
    let (status, body) = call(
        app,
        reqwest::Method::POST,
        "/me/totp/confirm",
        &token,
        Some(json!({ "password": PASSWORD, "code": code })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let codes = body["recovery_codes"].as_array().expect("codes").iter().map(|c| c.as_str().expect("code").to_owned());
    app.clock.advance(30);
    (secret, codes.collect())
}

/// `POST /jwt/token` with email, password and extra fields: status and body.
pub async fn login_with(app: &TestApp, email: &str, password: &str, extra: Value) -> (u16, Value) {
    let mut body = json!({ "email": email, "password": password });
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    let response = app.post_json("/jwt/token", &body).await;
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

/// A login with the right password and the given TOTP code.
pub async fn login_with_code(app: &TestApp, email: &str, code: &str) -> (u16, Value) {
    login_with(app, email, PASSWORD, json!({ "totp_code": code })).await
}
