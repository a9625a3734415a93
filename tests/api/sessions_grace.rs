//! The refresh grace window (AUTHIFY_REFRESH_GRACE_SECONDS) answers a used refresh token with the
//! pair it was exchanged for, but only while the session could still be refreshed normally: the
//! session live, the user in good standing, a delegate that opened it still trusted.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::app::{Backend, TestApp, spawn};
use crate::support::credentials::{insert_delegate, token_request};
use crate::support::jsonapi::As;
use crate::support::tokens::{
    assert_pair, invalid_refresh, login_pair, refresh, refresh_token, refreshed, revoke_refresh,
};

backend_tests!(
    a_replay_within_the_grace_window_after_the_user_is_disabled_is_refused,
    a_replay_within_the_grace_window_after_the_session_ended_is_refused,
    a_replay_within_the_grace_window_after_the_delegate_is_removed_is_refused,
);

async fn patch_user(app: &TestApp, admin: &As, id: i64, attributes: Value) {
    let body = json!({"data": {"type": "users", "id": id.to_string(), "attributes": attributes}});
    let response = app.api("PATCH", &format!("/users/{id}"), admin, Some(body)).await;
    assert_eq!(response.status, 200, "{}", response.body);
}

async fn a_replay_within_the_grace_window_after_the_user_is_disabled_is_refused(backend: Backend) {
    let app = spawn(backend).start().await;
    let (_, admin) = app.user_with_token("root@example.com", true).await;
    let pat = app.insert_user("pat@example.com", true, false).await;
    let sam = app.insert_user("sam@example.com", true, false).await;

    // Through the API: disabling also ends the sessions.
    let old = login_pair(&app, "pat@example.com").await;
    let successor = refreshed(&app, refresh_token(&old)).await;
    app.clock.advance(1);
    assert_eq!(refreshed(&app, refresh_token(&old)).await, successor, "the grace window at work");
    patch_user(&app, &admin, pat.id, json!({"disabled": true})).await;
    assert_eq!(refresh(&app, refresh_token(&old)).await, invalid_refresh(), "within the grace window");

    // The account disabled while its sessions have not ended yet (the moment between the two
    // writes, or a shut-out that failed): the standing alone must refuse the replay.
    let old = login_pair(&app, "sam@example.com").await;
    let successor = refreshed(&app, refresh_token(&old)).await;
    app.state.store.set_user_disabled(sam.id, true, app.clock_now()).await.expect("disable").expect("sam");
    assert_eq!(refresh(&app, refresh_token(&successor)).await, invalid_refresh(), "a normal refresh is refused");
    assert_eq!(refresh(&app, refresh_token(&old)).await, invalid_refresh(), "and so is the grace replay");
}

async fn a_replay_within_the_grace_window_after_the_session_ended_is_refused(backend: Backend) {
    let app = spawn(backend).start().await;
    app.insert_user("pat@example.com", true, false).await;
    let old = login_pair(&app, "pat@example.com").await;
    let successor = refreshed(&app, refresh_token(&old)).await;
    assert_eq!(revoke_refresh(&app, refresh_token(&successor)).await, (200, json!({})));
    assert_eq!(refresh(&app, refresh_token(&old)).await, invalid_refresh());
}

async fn a_replay_within_the_grace_window_after_the_delegate_is_removed_is_refused(backend: Backend) {
    let app = spawn(backend).start().await;
    let (_, admin) = app.user_with_token("root@example.com", true).await;
    let user = app.insert_user("octocat@example.com", true, false).await;
    app.state.store.insert_identity(user.id, None, "github", "583231", app.clock_now()).await.expect("identity");
    let (access, secret) = insert_delegate(&app, "portal").await;
    let headers = [("X-Authify-Access", access.as_str()), ("X-Authify-Secret", secret.as_str())];
    let (status, body) = token_request(&app, &headers, &json!({"provider": "github", "uid": "583231"})).await;
    let old = assert_pair(status, body);
    let successor = refreshed(&app, refresh_token(&old)).await;
    assert_eq!(refreshed(&app, refresh_token(&old)).await, successor, "the grace window at work");

    let portal = app.state.store.delegate_by_name("portal").await.expect("read").expect("portal");
    let removed = app.api("DELETE", &format!("/trusted-delegates/{}", portal.id), &admin, None).await;
    assert_eq!(removed.status, 204, "{}", removed.body);
    assert_eq!(refresh(&app, refresh_token(&successor)).await, invalid_refresh(), "a normal refresh is refused");
    assert_eq!(refresh(&app, refresh_token(&old)).await, invalid_refresh(), "and so is the grace replay");
}
