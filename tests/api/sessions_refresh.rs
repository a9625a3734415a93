//! Refresh sessions: the token pair of an interactive login, rotation at `POST /jwt/refresh`,
//! reuse detection with its grace window for concurrent refreshes, idle and absolute lifetimes,
//! and what disabling, deleting or a new password does to a user's sessions.

use serde_json::{Value, json};

use crate::audit::events;
use crate::backend_tests;
use crate::registration::{NEW_PASSWORD, start_with_sink};
use crate::support::app::{Backend, PASSWORD, TestApp, spawn};
use crate::support::credentials::{create_key, insert_delegate, key_login, token_request};
use crate::support::jsonapi::As;
use crate::support::tokens::{
    assert_pair, assert_revoked, claims, invalid_refresh, jwt, login_pair, post, refresh, refresh_token, refreshed,
};

backend_tests!(
    interactive_logins_answer_a_token_pair_and_api_key_logins_only_a_jwt,
    a_refresh_answers_a_new_pair_for_the_same_session_and_the_old_token_stops_working,
    a_used_token_presented_after_the_grace_window_ends_the_whole_session,
    concurrent_refreshes_of_one_token_get_the_same_pair_and_the_session_goes_on,
    with_no_grace_window_any_reuse_ends_the_session,
    many_concurrent_refreshes_of_one_token_all_get_the_same_pair,
    a_refresh_injects_only_what_it_is_given,
    a_token_not_exchanged_within_the_idle_lifetime_stops_working,
    no_refresh_works_after_the_absolute_lifetime,
    malformed_refresh_requests_get_400_and_garbage_tokens_401,
    refreshed_identity_login_tokens_keep_the_delegate_act_claim,
    disabling_a_user_ends_their_sessions_for_good,
    deleting_a_user_ends_their_sessions,
    a_password_reset_ends_the_users_sessions,
    a_password_change_ends_the_other_sessions_and_keeps_the_callers,
);

async fn interactive_logins_answer_a_token_pair_and_api_key_logins_only_a_jwt(backend: Backend) {
    let app = spawn(backend).start().await;
    let user = app.insert_user("pat@example.com", true, false).await;
    let pair = login_pair(&app, "pat@example.com").await;
    let payload = claims(&app, jwt(&pair)).await;
    let sid = payload["sid"].as_str().expect("sid is a string");
    assert!(sid.parse::<i64>().is_ok(), "sid {sid}");
    assert_eq!(payload["sub"], json!(user.id.to_string()));
    assert!(payload.get("act").is_none(), "{payload}");

    let other = login_pair(&app, "pat@example.com").await;
    assert_ne!(refresh_token(&other), refresh_token(&pair));
    assert_ne!(claims(&app, jwt(&other)).await["sid"], payload["sid"], "each login is its own session");

    let key = create_key(&app, &user, None, None).await;
    let (status, body) = key_login(&app, &key.key.access_key, &key.secret).await;
    assert_eq!(status, 200, "{body}");
    let keys: Vec<&String> = body.as_object().expect("an object").keys().collect();
    assert_eq!(keys, ["jwt"], "API-key logins get no refresh token");
    assert!(claims(&app, body["jwt"].as_str().expect("jwt")).await.get("sid").is_none());
}

async fn a_refresh_answers_a_new_pair_for_the_same_session_and_the_old_token_stops_working(backend: Backend) {
    let app = spawn(backend).start().await;
    app.insert_user("pat@example.com", true, true).await;
    let first = login_pair(&app, "pat@example.com").await;
    let before = claims(&app, jwt(&first)).await;

    app.clock.advance(60);
    let second = refreshed(&app, refresh_token(&first)).await;
    assert_ne!(refresh_token(&second), refresh_token(&first));
    assert_ne!(jwt(&second), jwt(&first));
    let after = claims(&app, jwt(&second)).await;
    for claim in ["sid", "sub", "user", "scopes", "iss"] {
        assert_eq!(after[claim], before[claim], "{claim}");
    }
    assert_ne!(after["jti"], before["jti"]);
    assert_eq!(after["iat"], json!(before["iat"].as_i64().expect("iat") + 60));
    assert_eq!(after["scopes"], json!(["user_access", "admin_access"]));

    // The new token is single-use too: it rotates again, and the first one is spent for good.
    let third = refreshed(&app, refresh_token(&second)).await;
    assert_eq!(claims(&app, jwt(&third)).await["sid"], before["sid"]);
    app.clock.advance(6);
    assert_eq!(refresh(&app, refresh_token(&first)).await, invalid_refresh());
}

async fn a_used_token_presented_after_the_grace_window_ends_the_whole_session(backend: Backend) {
    let app = spawn(backend).start().await;
    let (_, admin) = app.user_with_token("root@example.com", true).await;
    let pat = app.insert_user("pat@example.com", true, false).await;
    let bystander = login_pair(&app, "pat@example.com").await;
    let stolen = login_pair(&app, "pat@example.com").await;
    let rightful = refreshed(&app, refresh_token(&stolen)).await;

    app.clock.advance(6);
    assert_eq!(refresh(&app, refresh_token(&stolen)).await, invalid_refresh());
    assert_eq!(refresh(&app, refresh_token(&rightful)).await, invalid_refresh(), "the newest token ends too");
    assert_revoked(&app, jwt(&rightful)).await;
    assert_revoked(&app, jwt(&stolen)).await;
    let users = app.api_get("/users", &As::Bearer(jwt(&rightful).to_owned())).await;
    users.error(401);

    // Other sessions of the user go on.
    claims(&app, jwt(&bystander)).await;
    refreshed(&app, refresh_token(&bystander)).await;

    let reuse = events(&app, &admin, "filter[action]=session.refresh-reuse").await;
    assert_eq!(reuse.len(), 1, "{reuse:?}");
    assert_eq!(reuse[0]["target"], json!(format!("users:{}", pat.id)));
}

async fn concurrent_refreshes_of_one_token_get_the_same_pair_and_the_session_goes_on(backend: Backend) {
    let app = spawn(backend).start().await;
    app.insert_user("pat@example.com", true, false).await;
    let pair = login_pair(&app, "pat@example.com").await;

    let (a, b) = futures::join!(refresh(&app, refresh_token(&pair)), refresh(&app, refresh_token(&pair)));
    let (a, b) = (assert_pair(a.0, a.1), assert_pair(b.0, b.1));
    assert_eq!(refresh_token(&a), refresh_token(&b));
    assert_eq!(jwt(&a), jwt(&b));

    // A late retry within the window gets that pair too.
    app.clock.advance(3);
    assert_eq!(refreshed(&app, refresh_token(&pair)).await, a);
    claims(&app, jwt(&a)).await;
    let next = refreshed(&app, refresh_token(&a)).await;
    claims(&app, jwt(&next)).await;
    refreshed(&app, refresh_token(&next)).await;
}

async fn with_no_grace_window_any_reuse_ends_the_session(backend: Backend) {
    let app = spawn(backend).settings(|s| s.sessions.refresh_grace_seconds = 0).start().await;
    app.insert_user("pat@example.com", true, false).await;
    let old = login_pair(&app, "pat@example.com").await;
    let new = refreshed(&app, refresh_token(&old)).await;
    // The same second: AUTHIFY_REFRESH_GRACE_SECONDS=0 means no grace at all.
    assert_eq!(refresh(&app, refresh_token(&old)).await, invalid_refresh());
    assert_eq!(refresh(&app, refresh_token(&new)).await, invalid_refresh());
    assert_revoked(&app, jwt(&new)).await;
}

async fn many_concurrent_refreshes_of_one_token_all_get_the_same_pair(backend: Backend) {
    let app = spawn(backend).start().await;
    app.insert_user("pat@example.com", true, false).await;
    let pair = login_pair(&app, "pat@example.com").await;
    let answers = futures::future::join_all((0..8).map(|_| refresh(&app, refresh_token(&pair)))).await;
    let pairs: Vec<Value> = answers.into_iter().map(|(status, body)| assert_pair(status, body)).collect();
    assert!(pairs.iter().all(|p| *p == pairs[0]), "{pairs:#?}");
    let next = refreshed(&app, refresh_token(&pairs[0])).await;
    claims(&app, jwt(&next)).await;
}

async fn a_refresh_injects_only_what_it_is_given(backend: Backend) {
    let app = spawn(backend).start().await;
    app.insert_user("pat@example.com", true, false).await;
    let login = json!({"email": "pat@example.com", "password": PASSWORD, "inject": {"app": "cli"}});
    let (status, body) = post(&app, "/jwt/token", &login).await;
    let pair = assert_pair(status, body);
    assert_eq!(claims(&app, jwt(&pair)).await["custom"], json!({"app": "cli"}));

    let plain = refreshed(&app, refresh_token(&pair)).await;
    assert!(claims(&app, jwt(&plain)).await.get("custom").is_none());
    let body = json!({"refresh_token": refresh_token(&plain), "inject": {"tab": 2}});
    let (status, body) = post(&app, "/jwt/refresh", &body).await;
    let injected = assert_pair(status, body);
    assert_eq!(claims(&app, jwt(&injected)).await["custom"], json!({"tab": 2}));
    let body = json!({"refresh_token": refresh_token(&injected), "inject": "not an object"});
    assert_eq!(post(&app, "/jwt/refresh", &body).await.0, 422);
    refreshed(&app, refresh_token(&injected)).await;
}

/// Refresh tokens live 600 s unused; sessions at most 1500 s.
async fn start_with_lifetimes(backend: Backend) -> TestApp {
    spawn(backend)
        .settings(|s| {
            s.sessions.refresh_idle_seconds = 600;
            s.sessions.refresh_absolute_seconds = 1500;
        })
        .start()
        .await
}

async fn a_token_not_exchanged_within_the_idle_lifetime_stops_working(backend: Backend) {
    let app = start_with_lifetimes(backend).await;
    app.insert_user("pat@example.com", true, false).await;
    let pair = login_pair(&app, "pat@example.com").await;
    app.clock.advance(599);
    let pair = refreshed(&app, refresh_token(&pair)).await;
    app.clock.advance(599);
    let pair = refreshed(&app, refresh_token(&pair)).await;
    app.clock.advance(600);
    assert_eq!(refresh(&app, refresh_token(&pair)).await, invalid_refresh());
}

async fn no_refresh_works_after_the_absolute_lifetime(backend: Backend) {
    let app = start_with_lifetimes(backend).await;
    app.insert_user("pat@example.com", true, false).await;
    let mut pair = login_pair(&app, "pat@example.com").await;
    for _ in 0..2 {
        app.clock.advance(500);
        pair = refreshed(&app, refresh_token(&pair)).await;
    }
    app.clock.advance(499);
    pair = refreshed(&app, refresh_token(&pair)).await;
    app.clock.advance(1);
    assert_eq!(refresh(&app, refresh_token(&pair)).await, invalid_refresh(), "1500 s after the login");
}

async fn malformed_refresh_requests_get_400_and_garbage_tokens_401(backend: Backend) {
    let app = spawn(backend).start().await;
    app.insert_user("pat@example.com", true, false).await;
    let pair = login_pair(&app, "pat@example.com").await;

    for body in [json!({}), json!({"refresh_token": null}), json!({"token": refresh_token(&pair)}), json!([])] {
        let (status, answer) = post(&app, "/jwt/refresh", &body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(answer["error"].is_string(), "{answer}");
    }
    // Valid JSON of the wrong shape: 422, as on the other plain-JSON routes.
    for body in [json!({"refresh_token": 5}), json!({"refresh_token": [refresh_token(&pair)]})] {
        let (status, answer) = post(&app, "/jwt/refresh", &body).await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert!(answer["error"].is_string(), "{answer}");
    }
    let not_json = app.client.post(app.url("/jwt/refresh")).header("content-type", "application/json");
    let not_json = not_json.body("refresh_token=x").send().await.expect("request");
    assert_eq!(not_json.status().as_u16(), 400);
    let error = not_json.json::<Value>().await.expect("JSON")["error"].as_str().map(str::to_owned);
    assert!(error.is_some_and(|e| e.starts_with("Request must be valid JSON: ")));

    let rt = refresh_token(&pair);
    let garbage = [
        String::new(),
        "nope".into(),
        "authify_rt_".into(),
        format!("authify_rt_{}", "0".repeat(64)),
        format!("{rt}0"),
        rt[..rt.len() - 1].to_owned(),
        rt.to_uppercase(),
        format!(" {rt}"),
        jwt(&pair).to_owned(),
        "authify_rt_\u{0}\u{1F600}'; DROP TABLE sessions; --".into(),
        format!("authify_rt_{}", "f".repeat(10_000)),
    ];
    for token in &garbage {
        assert_eq!(refresh(&app, token).await, invalid_refresh(), "{}", token.chars().take(80).collect::<String>());
    }
    refreshed(&app, rt).await;
}

async fn refreshed_identity_login_tokens_keep_the_delegate_act_claim(backend: Backend) {
    let app = spawn(backend).start().await;
    let user = app.insert_user("octocat@example.com", true, false).await;
    app.state.store.insert_identity(user.id, None, "github", "583231", app.clock_now()).await.expect("identity");
    let (access, secret) = insert_delegate(&app, "portal").await;
    let headers = [("X-Authify-Access", access.as_str()), ("X-Authify-Secret", secret.as_str())];
    let (status, body) = token_request(&app, &headers, &json!({"provider": "github", "uid": "583231"})).await;
    let pair = assert_pair(status, body);
    let first = claims(&app, jwt(&pair)).await;
    assert_eq!(first["act"], json!({"sub": "delegate:portal"}));

    let mut current = pair;
    for _ in 0..2 {
        current = refreshed(&app, refresh_token(&current)).await;
        let payload = claims(&app, jwt(&current)).await;
        assert_eq!(payload["act"], json!({"sub": "delegate:portal"}), "{payload}");
        assert_eq!(payload["sid"], first["sid"]);
        assert_eq!(payload["sub"], json!(user.id.to_string()));
    }
}

/// `PATCH /users/:id` as an admin, with `attributes`.
async fn patch_user(app: &TestApp, admin: &As, id: i64, attributes: Value) {
    let body = json!({"data": {"type": "users", "id": id.to_string(), "attributes": attributes}});
    let response = app.api("PATCH", &format!("/users/{id}"), admin, Some(body)).await;
    assert_eq!(response.status, 200, "{}", response.body);
}

async fn disabling_a_user_ends_their_sessions_for_good(backend: Backend) {
    let app = spawn(backend).start().await;
    let (_, admin) = app.user_with_token("root@example.com", true).await;
    let user = app.insert_user("pat@example.com", true, false).await;
    let pair = login_pair(&app, "pat@example.com").await;

    patch_user(&app, &admin, user.id, json!({"disabled": true})).await;
    assert_eq!(refresh(&app, refresh_token(&pair)).await, invalid_refresh());
    assert_revoked(&app, jwt(&pair)).await;

    // Enabling the account again does not bring the old sessions back.
    patch_user(&app, &admin, user.id, json!({"disabled": false})).await;
    assert_eq!(refresh(&app, refresh_token(&pair)).await, invalid_refresh());
    assert_revoked(&app, jwt(&pair)).await;
    refreshed(&app, refresh_token(&login_pair(&app, "pat@example.com").await)).await;
}

async fn deleting_a_user_ends_their_sessions(backend: Backend) {
    let app = spawn(backend).start().await;
    let (_, admin) = app.user_with_token("root@example.com", true).await;
    let user = app.insert_user("pat@example.com", true, false).await;
    let pair = login_pair(&app, "pat@example.com").await;
    let rotated = refreshed(&app, refresh_token(&pair)).await;

    let response = app.api("DELETE", &format!("/users/{}", user.id), &admin, None).await;
    assert_eq!(response.status, 204, "{}", response.body);
    assert_eq!(refresh(&app, refresh_token(&rotated)).await, invalid_refresh());
    assert_revoked(&app, jwt(&rotated)).await;
}

async fn a_password_reset_ends_the_users_sessions(backend: Backend) {
    let (app, sink) = start_with_sink(backend, |_| {}).await;
    app.insert_user("pat@example.com", true, false).await;
    let pair = login_pair(&app, "pat@example.com").await;

    let (status, body) = post(&app, "/registration/forgot_password", &json!({"email": "pat@example.com"})).await;
    assert_eq!((status, body), (200, json!({})));
    let token = sink.wait_for("pat@example.com", 1).await[0].token();
    // The old session still works until the password is actually reset.
    let pair = refreshed(&app, refresh_token(&pair)).await;
    app.clock.advance(10);
    let reset = json!({"email": "pat@example.com", "token": token, "password": NEW_PASSWORD});
    let (status, body) = post(&app, "/registration/forgot_password", &reset).await;
    assert_eq!(status, 200, "{body}");

    assert_eq!(refresh(&app, refresh_token(&pair)).await, invalid_refresh());
    assert_revoked(&app, jwt(&pair)).await;
    claims(&app, body["jwt"].as_str().expect("jwt")).await;
    let (status, fresh) = app.login("pat@example.com", NEW_PASSWORD).await;
    refreshed(&app, refresh_token(&assert_pair(status, fresh))).await;
}

async fn change_password(app: &TestApp, jwt: &str, current: &str, new: &str) -> u16 {
    let body = json!({"current_password": current, "new_password": new});
    let response = app.client.post(app.url("/me/password")).bearer_auth(jwt).json(&body).send().await.expect("request");
    response.status().as_u16()
}

async fn a_password_change_ends_the_other_sessions_and_keeps_the_callers(backend: Backend) {
    let app = spawn(backend).start().await;
    app.insert_user("pat@example.com", true, false).await;
    let mine = login_pair(&app, "pat@example.com").await;
    let other = login_pair(&app, "pat@example.com").await;
    let other = refreshed(&app, refresh_token(&other)).await;

    app.clock.advance(10);
    assert_eq!(change_password(&app, jwt(&mine), "not the password", NEW_PASSWORD).await, 422);
    let other = refreshed(&app, refresh_token(&other)).await; // a failed change ends nothing

    assert_eq!(change_password(&app, jwt(&mine), PASSWORD, NEW_PASSWORD).await, 204);
    assert_eq!(refresh(&app, refresh_token(&other)).await, invalid_refresh());
    assert_revoked(&app, jwt(&other)).await;

    claims(&app, jwt(&mine)).await;
    app.clock.advance(10);
    let mine = refreshed(&app, refresh_token(&mine)).await;
    claims(&app, jwt(&mine)).await;
    refreshed(&app, refresh_token(&mine)).await;
    assert_eq!(app.login("pat@example.com", PASSWORD).await.0, 401);
}
