//! Browser sessions: `POST /session` answers a session cookie that authenticates every route a
//! Bearer token does; unsafe requests authenticated only by the cookie need an allowed `Origin` or,
//! without one, `X-Requested-With`; `DELETE /session` ends the session.

use reqwest::Method;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::app::{Backend, PASSWORD, TestApp, spawn};
use crate::support::cookies::{
    PUBLIC_ORIGIN, call_with_cookie, cookie_as, cookie_from, cookie_from_our_page, me_status, parse_identity_cookie,
    set_cookies, sign_in, sign_in_with, sign_out,
};
use crate::support::jsonapi::As;

backend_tests!(
    signing_in_sets_an_http_only_lax_secure_identity_cookie_and_a_wrong_password_sets_none,
    the_cookie_authenticates_me_users_totp_and_monitoring_like_a_bearer_token,
    me_without_credentials_is_401_with_www_authenticate_and_a_delegate_as_itself_is_403,
    unsafe_cookie_requests_need_an_allowed_origin_or_else_x_requested_with,
    session_origins_replace_the_origin_of_the_public_url,
    signing_out_ends_the_session_at_once_and_clears_the_cookie,
);

fn attributes_of(set_cookie: &str) -> Vec<String> {
    let mut attributes = parse_identity_cookie(set_cookie).1;
    attributes.sort();
    attributes
}

fn sorted(attributes: &[&str]) -> Vec<String> {
    let mut attributes: Vec<String> = attributes.iter().map(|a| (*a).to_owned()).collect();
    attributes.sort();
    attributes
}

async fn signing_in_sets_an_http_only_lax_secure_identity_cookie_and_a_wrong_password_sets_none(backend: Backend) {
    let app = spawn(backend.clone()).start().await;
    app.insert_user("ann@example.com", true, false).await;

    let response = sign_in_with(&app, "ann@example.com", PASSWORD, json!({})).await;
    let cookies = set_cookies(&response);
    let first = cookie_from(response).await;
    assert_eq!(
        attributes_of(&cookies[0]),
        sorted(&["path=/", "max-age=604800", "httponly", "samesite=Lax", "secure"]),
        "{cookies:?}"
    );
    let second = sign_in(&app, "ann@example.com").await;
    assert_ne!(first, second, "every sign-in gets its own secret");
    assert_eq!((me_status(&app, &first).await, me_status(&app, &second).await), (200, 200));

    for (email, password) in [("ann@example.com", "wrong password"), ("nobody@example.com", PASSWORD)] {
        let response = sign_in_with(&app, email, password, json!({})).await;
        assert_eq!(response.status().as_u16(), 401, "{email}");
        assert!(set_cookies(&response).is_empty(), "no cookie for a failed sign-in");
        let body: Value = response.json().await.expect("a JSON body");
        assert_eq!(body, json!({ "error": "Invalid credentials" }), "the same answer for {email}");
    }

    // A cross-site form can post text/plain, never JSON: no login CSRF.
    let body = json!({ "email": "ann@example.com", "password": PASSWORD }).to_string();
    let form = app.client.post(app.url("/session")).header("content-type", "text/plain").body(body).send().await;
    let form = form.expect("request");
    assert!(!form.status().is_success() && set_cookies(&form).is_empty(), "{}", form.status());

    let local = spawn(backend)
        .settings(|s| {
            s.sessions.cookie_secure = false;
            s.sessions.session_idle_seconds = 3600;
        })
        .start()
        .await;
    local.insert_user("ann@example.com", true, false).await;
    let response = sign_in_with(&local, "ann@example.com", PASSWORD, json!({})).await;
    let cookies = set_cookies(&response);
    assert_eq!(response.status().as_u16(), 204);
    assert_eq!(attributes_of(&cookies[0]), sorted(&["path=/", "max-age=3600", "httponly", "samesite=Lax"]));
}

async fn the_cookie_authenticates_me_users_totp_and_monitoring_like_a_bearer_token(backend: Backend) {
    let app = spawn(backend).start().await;
    let ann = app.insert_user("ann@example.com", true, false).await;
    app.insert_user("root@example.com", true, true).await;
    let cookie = sign_in(&app, "ann@example.com").await;

    let me = app.api_get("/me", &cookie_as(&cookie, &[])).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["data"]["type"], "users");
    assert_eq!(me.body["data"]["id"], ann.id.to_string());
    assert_eq!(me.body["data"]["attributes"]["email"], "ann@example.com");
    let bearer = As::Bearer(app.token_for("ann@example.com").await);
    assert_eq!(app.api_get("/me", &bearer).await.body["data"], me.body["data"], "the same document as with a Bearer");

    let users = app.api_get("/users", &cookie_as(&cookie, &[])).await;
    assert_eq!(users.status, 200, "{}", users.body);
    assert!(users.ids().contains(&ann.id.to_string()));
    let patch = json!({"data": {"type": "users", "id": ann.id.to_string(), "attributes": {"full-name": "Ann A"}}});
    let path = format!("/users/{}", ann.id);
    let patched = app.api("PATCH", &path, &cookie_from_our_page(&cookie), Some(patch)).await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(app.api_get(&path, &bearer).await.body["data"]["attributes"]["full-name"], "Ann A");

    let xhr = [("x-requested-with", "XMLHttpRequest")];
    let (status, _, enrolment) = call_with_cookie(&app, Method::POST, "/me/totp", Some(&cookie), &xhr, None).await;
    assert_eq!(status, 200, "{enrolment}");
    assert!(enrolment["secret"].is_string(), "{enrolment}");

    let (status, _, _) = call_with_cookie(&app, Method::GET, "/monitoring/info", Some(&cookie), &[], None).await;
    assert_eq!(status, 403, "not an admin");
    let root = sign_in(&app, "root@example.com").await;
    let (status, _, info) = call_with_cookie(&app, Method::GET, "/monitoring/info", Some(&root), &[], None).await;
    assert_eq!(status, 200, "{info}");
}

async fn me_without_credentials_is_401_with_www_authenticate_and_a_delegate_as_itself_is_403(backend: Backend) {
    let app = spawn(backend).start().await;
    let ann = app.insert_user("ann@example.com", true, false).await;

    let anonymous = app.api_get("/me", &As::Anonymous).await;
    anonymous.error(401);
    assert!(anonymous.header("www-authenticate").is_some_and(|v| v.starts_with("Bearer")), "{:?}", anonymous.headers);
    for unknown in ["0".repeat(64), "f".repeat(64), "not-a-secret".into(), format!("{}x", "a".repeat(64))] {
        let response = app.api_get("/me", &cookie_as(&unknown, &[])).await;
        response.error(401);
        assert!(response.header("www-authenticate").is_some(), "{unknown}");
    }

    let portal = app.delegate("portal").await;
    let as_itself = app.api_get("/me", &portal).await;
    as_itself.error(403);
    let As::Delegate { access, secret, .. } = portal else { unreachable!("a delegate") };
    let for_ann = As::Delegate { access, secret, on_behalf_of: Some("ann@example.com".into()) };
    let me = app.api_get("/me", &for_ann).await;
    assert_eq!((me.status, me.body["data"]["id"].as_str()), (200, Some(ann.id.to_string().as_str())));
}

async fn patch_full_name(app: &TestApp, id: i64, who: &As, name: &str) -> (u16, Value) {
    let body = json!({"data": {"type": "users", "id": id.to_string(), "attributes": {"full-name": name}}});
    let response = app.api("PATCH", &format!("/users/{id}"), who, Some(body)).await;
    (response.status, response.body)
}

async fn unsafe_cookie_requests_need_an_allowed_origin_or_else_x_requested_with(backend: Backend) {
    let app = spawn(backend).start().await;
    let ann = app.insert_user("ann@example.com", true, false).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let xhr = ("x-requested-with", "XMLHttpRequest");

    let refused: [&[(&str, &str)]; 7] = [
        &[],
        &[("origin", "https://evil.example")],
        &[("origin", "https://evil.example"), xhr],
        &[("origin", "null"), xhr],
        &[("origin", "http://127.0.0.1:9293")],
        &[("origin", "https://127.0.0.1:9292")],
        &[("origin", "http://127.0.0.1:9292.evil.example")],
    ];
    for headers in refused {
        let (status, body) = patch_full_name(&app, ann.id, &cookie_as(&cookie, headers), "Mallory").await;
        assert_eq!(status, 403, "{headers:?}: {body}");
        assert_eq!(body["errors"][0]["code"], "AUTH-0031", "{headers:?}: {body}");
        assert_eq!(body["errors"][0]["status"], "403", "{body}");
    }
    let shown = app.api_get(&format!("/users/{}", ann.id), &cookie_as(&cookie, &[])).await;
    assert_eq!(shown.status, 200, "a GET needs neither Origin nor X-Requested-With");
    assert_eq!(shown.body["data"]["attributes"]["full-name"], Value::Null, "no refused change was applied");

    assert_eq!(patch_full_name(&app, ann.id, &cookie_from_our_page(&cookie), "Ann").await.0, 200);
    assert_eq!(patch_full_name(&app, ann.id, &cookie_as(&cookie, &[xhr]), "Ann B").await.0, 200);
    let origin_with_xhr = cookie_as(&cookie, &[("origin", PUBLIC_ORIGIN), xhr]);
    assert_eq!(patch_full_name(&app, ann.id, &origin_with_xhr, "Ann C").await.0, 200);
    let bearer_from_elsewhere = bearer_with_origin(&app, ann.id, "https://evil.example").await;
    assert_eq!(bearer_from_elsewhere, 200, "a Bearer token is not subject to the rule");

    // Plain routes answer {"error": …}; nothing happens.
    let change = json!({ "current_password": PASSWORD, "new_password": "a new password" });
    for headers in [&[][..], &[("origin", "https://evil.example"), xhr][..]] {
        let (status, _, body) =
            call_with_cookie(&app, Method::POST, "/me/password", Some(&cookie), headers, Some(change.clone())).await;
        assert_eq!(status, 403, "{headers:?}: {body}");
        assert!(body["error"].is_string(), "{body}");
        let (status, cookies) = sign_out(&app, Some(&cookie), headers).await;
        assert_eq!(status, 403, "DELETE /session {headers:?}");
        assert!(cookies.is_empty(), "a refused sign-out clears nothing: {cookies:?}");
    }
    assert_eq!(app.login("ann@example.com", PASSWORD).await.0, 200, "the password did not change");
    assert_eq!(me_status(&app, &cookie).await, 200, "the session did not end");
    let (status, _, _) = call_with_cookie(&app, Method::POST, "/me/totp", Some(&cookie), &[], None).await;
    assert_eq!(status, 403);
}

/// `PATCH /users/:id` with a Bearer token and a foreign `Origin`: the status.
async fn bearer_with_origin(app: &TestApp, id: i64, origin: &str) -> u16 {
    let token = app.token_for("ann@example.com").await;
    let body = json!({"data": {"type": "users", "id": id.to_string(), "attributes": {"full-name": "Ann D"}}});
    app.client
        .patch(app.url(&format!("/users/{id}")))
        .bearer_auth(token)
        .header("origin", origin)
        .header("content-type", crate::support::jsonapi::MEDIA_TYPE)
        .header("accept", crate::support::jsonapi::MEDIA_TYPE)
        .body(body.to_string())
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

async fn session_origins_replace_the_origin_of_the_public_url(backend: Backend) {
    // A default port in the setting: browsers leave it out of Origin.
    let app =
        spawn(backend.clone()).settings(|s| s.public_url = "https://auth.example.com:443/base/".into()).start().await;
    let ann = app.insert_user("ann@example.com", true, false).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let with_origin = |origin: &'static str| cookie_as(&cookie, &[("origin", origin)]);
    assert_eq!(patch_full_name(&app, ann.id, &with_origin("https://auth.example.com"), "A").await.0, 200);
    assert_eq!(patch_full_name(&app, ann.id, &with_origin(PUBLIC_ORIGIN), "B").await.0, 403);
    assert_eq!(patch_full_name(&app, ann.id, &with_origin("https://auth.example.com.evil"), "B").await.0, 403);

    let listed = spawn(backend)
        .settings(|s| {
            s.sessions.session_origins = Some(
                "https://app.example.com, https://admin.example.com:8443, http://old.example.com:80/"
                    .parse()
                    .expect("origins"),
            )
        })
        .start()
        .await;
    let bo = listed.insert_user("bo@example.com", true, false).await;
    let cookie = sign_in(&listed, "bo@example.com").await;
    let with_origin = |origin: &'static str| cookie_as(&cookie, &[("origin", origin)]);
    for origin in ["https://app.example.com", "https://admin.example.com:8443", "http://old.example.com"] {
        assert_eq!(patch_full_name(&listed, bo.id, &with_origin(origin), "Bo").await.0, 200, "{origin}");
    }
    for origin in [PUBLIC_ORIGIN, "https://admin.example.com", "http://app.example.com"] {
        assert_eq!(patch_full_name(&listed, bo.id, &with_origin(origin), "Bo").await.0, 403, "{origin}");
    }
}

async fn signing_out_ends_the_session_at_once_and_clears_the_cookie(backend: Backend) {
    let app = spawn(backend).start().await;
    app.insert_user("ann@example.com", true, false).await;
    let leaving = sign_in(&app, "ann@example.com").await;
    let staying = sign_in(&app, "ann@example.com").await;

    let (status, cookies) = sign_out(&app, Some(&leaving), &[("x-requested-with", "fetch")]).await;
    assert_eq!(status, 204);
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let (value, attributes) = parse_identity_cookie(&cookies[0]);
    assert_eq!(value, "", "{cookies:?}");
    assert!(attributes.contains(&"max-age=0".to_owned()) && attributes.contains(&"path=/".to_owned()), "{cookies:?}");
    assert_eq!(me_status(&app, &leaving).await, 401, "the old cookie no longer works");
    assert_eq!(me_status(&app, &staying).await, 200, "only that session ended");

    let (status, _) = sign_out(&app, Some(&leaving), &[("origin", PUBLIC_ORIGIN)]).await;
    assert_eq!(status, 204, "signing out an ended session is not an error");
    let (status, cookies) = sign_out(&app, None, &[]).await;
    assert_eq!(status, 204, "without a cookie");
    assert!(cookies.first().is_some_and(|c| c.contains("Max-Age=0")), "{cookies:?}");
    let (status, _) = sign_out(&app, Some(&staying), &[("origin", PUBLIC_ORIGIN)]).await;
    assert_eq!(status, 204);
    assert_eq!(me_status(&app, &staying).await, 401);
}
