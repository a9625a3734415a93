//! Browser-session helpers for tests: sign in at `POST /session`, read the session cookie from
//! `Set-Cookie` by hand (the client keeps no cookie store) and send it back explicitly.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::app::{PASSWORD, TestApp};
use crate::support::jsonapi::As;

/// The session cookie's name with the default AUTHIFY_COOKIE_SECURE=true (`identity` without it).
pub const COOKIE_NAME: &str = "__Host-identity";

/// The origin of the test instances' AUTHIFY_PUBLIC_URL (the default, `http://127.0.0.1:9292`).
pub const PUBLIC_ORIGIN: &str = "http://127.0.0.1:9292";

/// `POST /session` with email, password and extra fields (`totp_code`, `recovery_code`).
pub async fn sign_in_with(app: &TestApp, email: &str, password: &str, extra: Value) -> reqwest::Response {
    let mut body = json!({ "email": email, "password": password });
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    app.post_json("/session", &body).await
}

/// Every `Set-Cookie` header of a response.
pub fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().expect("an ASCII Set-Cookie").to_owned())
        .collect()
}

/// The value and the attributes (lower-cased names, as `name=value` or `name`) of one `Set-Cookie`
/// for the session cookie (`__Host-identity`, or `identity` when not `Secure`).
pub fn parse_identity_cookie(set_cookie: &str) -> (String, Vec<String>) {
    let mut parts = set_cookie.split(';').map(str::trim);
    let pair = parts.next().expect("name=value");
    let value = [COOKIE_NAME, "identity"]
        .iter()
        .find_map(|name| pair.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')))
        .unwrap_or_else(|| panic!("not the session cookie: {set_cookie}"));
    let attributes = parts
        .map(|attribute| match attribute.split_once('=') {
            Some((name, value)) => format!("{}={value}", name.to_ascii_lowercase()),
            None => attribute.to_ascii_lowercase(),
        })
        .collect();
    (value.to_owned(), attributes)
}

/// The cookie of a successful sign-in, asserting 204 and a 64-hex-digit value.
pub async fn cookie_from(response: reqwest::Response) -> String {
    let status = response.status().as_u16();
    let cookies = set_cookies(&response);
    assert_eq!(status, 204, "sign-in failed: {}", response.text().await.unwrap_or_default());
    assert_eq!(cookies.len(), 1, "one Set-Cookie: {cookies:?}");
    let (value, _) = parse_identity_cookie(&cookies[0]);
    assert!(value.len() == 64 && value.chars().all(|c| c.is_ascii_hexdigit()), "64 hex digits: {value}");
    value
}

/// Signs `email` in with the test password; the cookie's value.
pub async fn sign_in(app: &TestApp, email: &str) -> String {
    cookie_from(sign_in_with(app, email, PASSWORD, json!({})).await).await
}

/// The cookie as a {json:api} caller, with extra headers.
pub fn cookie_as(cookie: &str, headers: &[(&'static str, &str)]) -> As {
    As::Cookie { cookie: cookie.to_owned(), headers: headers.iter().map(|(n, v)| (*n, (*v).to_owned())).collect() }
}

/// The cookie with the allowed `Origin`.
pub fn cookie_from_our_page(cookie: &str) -> As {
    cookie_as(cookie, &[("origin", PUBLIC_ORIGIN)])
}

/// A plain-JSON request with the cookie, extra headers and an optional JSON body: status, the
/// response's `Set-Cookie` headers and body (`null` if empty).
pub async fn call_with_cookie(
    app: &TestApp,
    method: Method,
    path: &str,
    cookie: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, Vec<String>, Value) {
    let mut request = app.client.request(method, app.url(path));
    if let Some(cookie) = cookie {
        request = request.header("cookie", format!("{COOKIE_NAME}={cookie}"));
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let cookies = set_cookies(&response);
    let text = response.text().await.expect("body");
    (status, cookies, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("a JSON body") })
}

/// The status of `GET /me` with the cookie (the document is schema-checked).
pub async fn me_status(app: &TestApp, cookie: &str) -> u16 {
    app.api_get("/me", &cookie_as(cookie, &[])).await.status
}

/// `DELETE /session` with the cookie and extra headers: status and `Set-Cookie` headers.
pub async fn sign_out(app: &TestApp, cookie: Option<&str>, headers: &[(&str, &str)]) -> (u16, Vec<String>) {
    let (status, cookies, _) = call_with_cookie(app, Method::DELETE, "/session", cookie, headers, None).await;
    (status, cookies)
}

pub use crate::support::tokens::refresh;

/// A `/jwt/token` login with the given password: the JWT and the refresh token.
pub async fn login_pair_with(app: &TestApp, email: &str, password: &str) -> (String, String) {
    let (status, body) = app.login(email, password).await;
    assert_eq!(status, 200, "login failed: {body}");
    let field = |name: &str| body[name].as_str().unwrap_or_else(|| panic!("{name} in {body}")).to_owned();
    (field("jwt"), field("refresh_token"))
}
