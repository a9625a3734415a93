//! The session cookie's name against cookie tossing: `__Host-identity` whenever the cookie is
//! `Secure` (a sibling subdomain cannot set a `__Host-` cookie), `identity` only for plain-HTTP
//! development; and a request carrying two cookies of the name in use is refused (400), since which
//! one the browser sends first is up to whoever planted the other.

use reqwest::Method;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::app::{Backend, PASSWORD, TestApp, spawn};
use crate::support::cookies::{PUBLIC_ORIGIN, set_cookies, sign_in_with};
use crate::support::jsonapi::MEDIA_TYPE;

backend_tests!(
    two_session_cookies_of_the_name_in_use_are_refused_even_when_one_is_valid,
    a_secure_session_cookie_is_host_prefixed_and_a_plain_identity_cookie_does_not_authenticate,
);

/// A request whose `Cookie` header holds `cookies` (`name=value` each), in that order: status,
/// `Set-Cookie` headers, body (`null` when empty).
async fn with_cookies(app: &TestApp, method: Method, path: &str, cookies: &[String]) -> (u16, Vec<String>, Value) {
    let mut request =
        app.client.request(method, app.url(path)).header("accept", MEDIA_TYPE).header("origin", PUBLIC_ORIGIN);
    if !cookies.is_empty() {
        request = request.header("cookie", cookies.join("; "));
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let set_cookie = set_cookies(&response);
    let text = response.text().await.expect("body");
    (status, set_cookie, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("JSON") })
}

/// Signs `email` in: the name and value of the session cookie, and its attributes (lower-cased).
async fn signed_in(app: &TestApp, email: &str) -> (String, String, Vec<String>) {
    let response = sign_in_with(app, email, PASSWORD, json!({})).await;
    assert_eq!(response.status().as_u16(), 204);
    let cookies = set_cookies(&response);
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let mut parts = cookies[0].split(';').map(str::trim);
    let (name, value) = parts.next().and_then(|pair| pair.split_once('=')).expect("name=value");
    let mut attributes: Vec<String> = parts.map(str::to_ascii_lowercase).collect();
    attributes.sort();
    (name.to_owned(), value.to_owned(), attributes)
}

fn sorted(attributes: &[&str]) -> Vec<String> {
    let mut attributes: Vec<String> = attributes.iter().map(|a| (*a).to_owned()).collect();
    attributes.sort();
    attributes
}

async fn two_session_cookies_of_the_name_in_use_are_refused_even_when_one_is_valid(backend: Backend) {
    for secure in [false, true] {
        let app = spawn(backend.clone()).settings(move |s| s.sessions.cookie_secure = secure).start().await;
        let ann = app.insert_user("ann@example.com", true, false).await;
        app.insert_user("eve@example.com", true, false).await;
        let (name, valid, _) = signed_in(&app, "ann@example.com").await;
        let (_, planted, _) = signed_in(&app, "eve@example.com").await;
        assert_eq!(name, if secure { "__Host-identity" } else { "identity" });
        let me = with_cookies(&app, Method::GET, "/me", &[format!("{name}={valid}")]).await;
        assert_eq!((me.0, &me.2["data"]["id"]), (200, &json!(ann.id.to_string())), "one cookie: {}", me.2);

        // A sibling subdomain's cookie may come first or last; either way the request is refused.
        let garbage = "0".repeat(64);
        for pair in [[&planted, &valid], [&valid, &planted], [&valid, &garbage], [&valid, &valid]] {
            let cookies: Vec<String> = pair.iter().map(|value| format!("{name}={value}")).collect();
            let (status, _, body) = with_cookies(&app, Method::GET, "/me", &cookies).await;
            assert_eq!(status, 400, "secure={secure} {cookies:?}: {body}");
            assert_eq!(body["errors"][0]["code"], "AUTH-0032", "{body}");
            let (status, _, body) = with_cookies(&app, Method::POST, "/me/totp", &cookies).await;
            assert_eq!(status, 400, "plain JSON routes too: {body}");
            assert!(body["error"].as_str().is_some_and(|e| e.contains("more than one")), "{body}");
            let (status, set_cookie, _) = with_cookies(&app, Method::DELETE, "/session", &cookies).await;
            assert_eq!((status, set_cookie.len()), (400, 0), "sign-out does not guess which session to end");
        }
        let me = with_cookies(&app, Method::GET, "/me", &[format!("{name}={valid}")]).await;
        assert_eq!(me.0, 200, "nothing was ended: {}", me.2);
    }
}

async fn a_secure_session_cookie_is_host_prefixed_and_a_plain_identity_cookie_does_not_authenticate(backend: Backend) {
    let app = spawn(backend.clone()).start().await;
    app.insert_user("ann@example.com", true, false).await;
    let (name, value, attributes) = signed_in(&app, "ann@example.com").await;
    assert_eq!(name, "__Host-identity", "AUTHIFY_COOKIE_SECURE is on by default");
    assert_eq!(attributes, sorted(&["path=/", "max-age=604800", "httponly", "samesite=lax", "secure"]), "no Domain");
    let host = format!("__Host-identity={value}");
    assert_eq!(with_cookies(&app, Method::GET, "/me", std::slice::from_ref(&host)).await.0, 200);
    for other in ["identity", "__HOST-identity", "__host-identity", "Identity"] {
        let (status, _, body) = with_cookies(&app, Method::GET, "/me", &[format!("{other}={value}")]).await;
        assert_eq!(status, 401, "{other}: {body}");
    }
    // An `identity` cookie beside it (say a sibling subdomain's) is not ours to read: no conflict.
    let planted = format!("identity={}", "0".repeat(64));
    assert_eq!(with_cookies(&app, Method::GET, "/me", &[planted.clone(), host.clone()]).await.0, 200);

    let (status, set_cookie, _) = with_cookies(&app, Method::DELETE, "/session", &[planted, host.clone()]).await;
    assert_eq!(status, 204);
    assert_eq!(set_cookie, ["__Host-identity=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Secure"], "cleared by name");
    assert_eq!(with_cookies(&app, Method::GET, "/me", &[host]).await.0, 401, "signed out");

    let local = spawn(backend).settings(|s| s.sessions.cookie_secure = false).start().await;
    local.insert_user("ann@example.com", true, false).await;
    let (name, value, attributes) = signed_in(&local, "ann@example.com").await;
    assert_eq!(name, "identity", "plain-HTTP development keeps the old name");
    assert!(!attributes.contains(&"secure".to_owned()), "{attributes:?}");
    assert_eq!(with_cookies(&local, Method::GET, "/me", &[format!("identity={value}")]).await.0, 200);
    assert_eq!(with_cookies(&local, Method::GET, "/me", &[format!("__Host-identity={value}")]).await.0, 401);
    let (_, cleared, _) = with_cookies(&local, Method::DELETE, "/session", &[format!("identity={value}")]).await;
    assert_eq!(cleared, ["identity=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"]);
}
