//! `POST /me/password`: the caller proves the current password and sets a new one; every other
//! session of the user ends, the caller's own goes on; wrong answers count towards the lockout.

use reqwest::Method;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::app::{Backend, PASSWORD, TestApp, spawn};
use crate::support::cookies::{PUBLIC_ORIGIN, call_with_cookie, login_pair_with, me_status, refresh, sign_in};
use crate::support::jsonapi::As;
use crate::support::totp::call;

const NEW_PASSWORD: &str = "a brand new passphrase";

backend_tests!(
    a_new_password_set_with_a_bearer_keeps_that_login_and_ends_every_other_session,
    a_new_password_set_with_the_cookie_keeps_that_cookie_and_ends_every_other_session,
    a_wrong_current_password_is_422_and_counts_towards_the_lockout,
    short_or_missing_passwords_and_missing_credentials_are_refused,
);

fn change(current: &str, new: &str) -> Value {
    json!({ "current_password": current, "new_password": new })
}

/// `POST /me/password` with a Bearer token: status and body.
async fn change_with_bearer(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    call(app, Method::POST, "/me/password", token, Some(body)).await
}

async fn bearer_me_status(app: &TestApp, token: &str) -> u16 {
    app.api_get("/me", &As::Bearer(token.to_owned())).await.status
}

async fn a_new_password_set_with_a_bearer_keeps_that_login_and_ends_every_other_session(backend: Backend) {
    let app = spawn(backend).start().await;
    app.insert_user("ann@example.com", true, false).await;
    let (this_jwt, this_refresh) = login_pair_with(&app, "ann@example.com", PASSWORD).await;
    let (other_jwt, other_refresh) = login_pair_with(&app, "ann@example.com", PASSWORD).await;
    let other_cookie = sign_in(&app, "ann@example.com").await;

    let (status, body) = change_with_bearer(&app, &this_jwt, change(PASSWORD, NEW_PASSWORD)).await;
    assert_eq!((status, body), (204, Value::Null));

    assert_eq!(app.login("ann@example.com", PASSWORD).await.0, 401, "the old password no longer works");
    assert_eq!(app.login("ann@example.com", NEW_PASSWORD).await.0, 200, "the new one does");
    assert_eq!(me_status(&app, &other_cookie).await, 401, "the cookie session ended");
    let (status, body) = refresh(&app, &other_refresh).await;
    assert_eq!((status, body), (401, json!({ "error": "Invalid refresh token" })), "the other login ended");
    assert_eq!(bearer_me_status(&app, &other_jwt).await, 401, "the other login's JWT is revoked");

    assert_eq!(bearer_me_status(&app, &this_jwt).await, 200, "the caller's own token still works");
    let (status, body) = refresh(&app, &this_refresh).await;
    assert_eq!(status, 200, "the caller's own login goes on: {body}");
    let next = body["refresh_token"].as_str().expect("a new refresh token").to_owned();
    app.clock.advance(120);
    assert_eq!(refresh(&app, &next).await.0, 200, "and keeps going");
}

async fn a_new_password_set_with_the_cookie_keeps_that_cookie_and_ends_every_other_session(backend: Backend) {
    let app = spawn(backend).start().await;
    app.insert_user("ann@example.com", true, false).await;
    let this_cookie = sign_in(&app, "ann@example.com").await;
    let other_cookie = sign_in(&app, "ann@example.com").await;
    let (other_jwt, other_refresh) = login_pair_with(&app, "ann@example.com", PASSWORD).await;
    app.clock.advance(120);

    let origin = [("origin", PUBLIC_ORIGIN)];
    let body = Some(change(PASSWORD, NEW_PASSWORD));
    let (status, _, body) =
        call_with_cookie(&app, Method::POST, "/me/password", Some(&this_cookie), &origin, body).await;
    assert_eq!((status, body), (204, Value::Null));

    assert_eq!(me_status(&app, &this_cookie).await, 200, "the caller's cookie still works");
    app.clock.advance(120);
    assert_eq!(me_status(&app, &this_cookie).await, 200, "and keeps working");
    assert_eq!(me_status(&app, &other_cookie).await, 401, "the other cookie session ended");
    assert_eq!(refresh(&app, &other_refresh).await.0, 401, "the /jwt/token login ended");
    assert_eq!(bearer_me_status(&app, &other_jwt).await, 401);
    assert_eq!(app.login("ann@example.com", PASSWORD).await.0, 401);
    assert_eq!(me_status(&app, &sign_in_new(&app).await).await, 200, "the new password signs in");
}

async fn sign_in_new(app: &TestApp) -> String {
    let response = crate::support::cookies::sign_in_with(app, "ann@example.com", NEW_PASSWORD, json!({})).await;
    crate::support::cookies::cookie_from(response).await
}

async fn a_wrong_current_password_is_422_and_counts_towards_the_lockout(backend: Backend) {
    let app = spawn(backend).start().await;
    app.insert_user("ann@example.com", true, false).await;
    let token = app.token_for("ann@example.com").await;

    for attempt in 1..=5 {
        let (status, body) = change_with_bearer(&app, &token, change("not my password", NEW_PASSWORD)).await;
        assert_eq!(status, 422, "attempt {attempt}: {body}");
        let error = body["error"].as_str().expect("an error message");
        assert!(error.contains("current_password"), "names the field: {error}");
    }
    let (status, body) = app.login("ann@example.com", PASSWORD).await;
    assert_eq!(status, 429, "five wrong answers lock the account: {body}");
    let (status, body) = change_with_bearer(&app, &token, change(PASSWORD, NEW_PASSWORD)).await;
    assert_eq!(status, 429, "no password check while locked: {body}");

    app.clock.advance(60);
    assert_eq!(app.login("ann@example.com", PASSWORD).await.0, 200, "the password never changed");
}

async fn short_or_missing_passwords_and_missing_credentials_are_refused(backend: Backend) {
    let app = spawn(backend).start().await;
    app.insert_user("ann@example.com", true, false).await;
    let token = app.token_for("ann@example.com").await;

    for new in ["1234567", "", &"x".repeat(1025)] {
        let (status, body) = change_with_bearer(&app, &token, change(PASSWORD, new)).await;
        assert_eq!(status, 422, "{} characters: {body}", new.len());
        assert!(body["error"].as_str().is_some_and(|e| e.contains("new_password")), "{body}");
    }
    for body in [json!({}), json!({ "current_password": PASSWORD }), json!({ "new_password": NEW_PASSWORD })] {
        let (status, answer) = change_with_bearer(&app, &token, body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
    }
    let anonymous = app.post_json("/me/password", &change(PASSWORD, NEW_PASSWORD)).await;
    assert_eq!(anonymous.status().as_u16(), 401);
    assert!(anonymous.headers().get("www-authenticate").is_some());
    let (status, _) = change_with_bearer(&app, "not.a.token", change(PASSWORD, NEW_PASSWORD)).await;
    assert_eq!(status, 401);
    let As::Delegate { access, secret, .. } = app.delegate("portal").await else { unreachable!("a delegate") };
    let as_itself = app
        .client
        .post(app.url("/me/password"))
        .header("x-authify-access", access)
        .header("x-authify-secret", secret)
        .json(&change(PASSWORD, NEW_PASSWORD))
        .send()
        .await
        .expect("request");
    assert_eq!(as_itself.status().as_u16(), 403, "a delegate acting as itself has no password");
    assert_eq!(app.login("ann@example.com", PASSWORD).await.0, 200, "nothing changed so far");

    let (status, body) = change_with_bearer(&app, &token, change(PASSWORD, "eight ch")).await;
    assert_eq!(status, 204, "8 characters are enough: {body}");
    assert_eq!(app.login("ann@example.com", "eight ch").await.0, 200);
}
