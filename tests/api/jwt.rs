//! `/jwt/token`, `/jwt/verify`, `/jwt/key`, `/jwt/meta` on every backend.

use std::time::Duration;

use authify::crypto::Algorithm;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::plain_tests;
use crate::support::app::{Backend, PASSWORD, TestApp, jwt_segment, spawn};

backend_tests!(
    password_login_returns_a_token_with_authify_claims,
    admins_get_the_admin_scope,
    every_credential_failure_gets_the_same_401,
    disabled_accounts_get_403_after_a_correct_password_only,
    unverified_users_log_in_when_verifications_are_off,
    inject_puts_a_custom_claim_and_refuses_non_objects,
    a_token_expires_after_the_configured_minutes,
);
plain_tests!(
    key_and_meta_describe_the_signing_key,
    logins_past_the_hashing_queue_get_503_with_retry_after_when_their_wait_would_end,
    a_login_that_waits_longer_than_the_hash_wait_limit_gets_503
);

async fn password_login_returns_a_token_with_authify_claims(backend: Backend) {
    let app = spawn(backend).start().await;
    let user = app.insert_user("someuser@mycompany.com", true, false).await;
    // Emails are matched case-insensitively.
    let token = app.token_for("SomeUser@MyCompany.com").await;

    let header = jwt_segment(&token, 0);
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["alg"], "ES256");
    let jwks: serde_json::Value = app.get("/.well-known/jwks.json").await.json().await.expect("jwks");
    assert_eq!(header["kid"], jwks["keys"][0]["kid"]);

    let body = app.verify(&token).await;
    assert_eq!(body["valid"], true, "{body}");
    assert_eq!(body["type"], "JWT");
    assert_eq!(body["algorithm"], "ES256");
    let claims = &body["payload"];
    let iat = claims["iat"].as_i64().expect("iat");
    assert_eq!(iat, app.clock_now());
    assert_eq!(claims["exp"].as_i64(), Some(iat + 15 * 60));
    assert_eq!(claims["iss"], "My Awesome Company Inc.");
    assert_eq!(claims["scopes"], json!(["user_access"]));
    assert_eq!(claims["user"], json!({"username": "someuser@mycompany.com", "uid": user.id, "organizations": []}));
    assert_eq!(claims["sub"], json!(user.id.to_string()));
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 20));
    assert!(claims.get("custom").is_none());

    // GET with a query parameter answers the same, and every token gets its own jti.
    let by_get: serde_json::Value = app
        .client
        .get(app.url("/jwt/verify"))
        .query(&[("token", &token)])
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(by_get, body);
    let second = app.token_for("someuser@mycompany.com").await;
    assert_ne!(app.verify(&second).await["payload"]["jti"], claims["jti"]);
}

async fn admins_get_the_admin_scope(backend: Backend) {
    let app = spawn(backend).start().await;
    app.insert_user("root@example.com", true, true).await;
    let token = app.token_for("root@example.com").await;
    assert_eq!(app.verify(&token).await["payload"]["scopes"], json!(["user_access", "admin_access"]));
}

async fn every_credential_failure_gets_the_same_401(backend: Backend) {
    let app = spawn(backend).start().await;
    app.insert_user("known@example.com", true, false).await;
    app.insert_user("unverified@example.com", false, false).await;

    let wrong_password = app.login("known@example.com", "not the password").await;
    let unknown_email = app.login("nobody@example.com", PASSWORD).await;
    let unverified = app.login("unverified@example.com", PASSWORD).await;
    let not_an_email = app.login("not-an-email", PASSWORD).await;
    for (status, body) in [&wrong_password, &unknown_email, &unverified, &not_an_email] {
        assert_eq!(*status, 401);
        assert_eq!(*body, json!({"error": "Invalid credentials"}));
    }
    let missing = app.post_json("/jwt/token", &json!({"email": "known@example.com"})).await;
    assert_eq!(missing.status().as_u16(), 401);
    assert_eq!(missing.headers()["www-authenticate"], r#"Bearer realm="authify""#);
}

async fn disabled_accounts_get_403_after_a_correct_password_only(backend: Backend) {
    let app = spawn(backend).start().await;
    let user = app.insert_user("gone@example.com", true, false).await;
    app.state.store.set_user_disabled(user.id, true, app.clock_now()).await.expect("disable");
    assert_eq!(app.login("gone@example.com", "wrong password").await.0, 401);
    let (status, body) = app.login("gone@example.com", PASSWORD).await;
    assert_eq!(status, 403);
    assert_eq!(body, json!({"error": "Account disabled"}));
}

async fn unverified_users_log_in_when_verifications_are_off(backend: Backend) {
    let app = spawn(backend).settings(|s| s.verifications_required = false).start().await;
    app.insert_user("fresh@example.com", false, false).await;
    let token = app.token_for("fresh@example.com").await;
    assert_eq!(app.verify(&token).await["valid"], true);
}

async fn inject_puts_a_custom_claim_and_refuses_non_objects(backend: Backend) {
    let app = spawn(backend).start().await;
    app.insert_user("svc@example.com", true, false).await;
    let response = app
        .post_json("/jwt/token", &json!({"email": "svc@example.com", "password": PASSWORD, "inject": {"foo": "bar"}}))
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let token = response.json::<serde_json::Value>().await.expect("json")["jwt"].as_str().expect("jwt").to_owned();
    assert_eq!(app.verify(&token).await["payload"]["custom"], json!({"foo": "bar"}));

    for inject in [json!("text"), json!([1]), json!({"big": "x".repeat(5000)})] {
        let response = app
            .post_json("/jwt/token", &json!({"email": "svc@example.com", "password": PASSWORD, "inject": inject}))
            .await;
        assert_eq!(response.status().as_u16(), 422);
        let body: serde_json::Value = response.json().await.expect("json");
        assert!(body["error"].as_str().is_some_and(|e| e.starts_with("inject:")), "{body}");
    }
}

async fn a_token_expires_after_the_configured_minutes(backend: Backend) {
    let app = spawn(backend).algorithm(Algorithm::Es384).settings(|s| s.jwt_expiration = 5).start().await;
    app.insert_user("short@example.com", true, false).await;
    let token = app.token_for("short@example.com").await;
    app.clock.advance(5 * 60 - 1);
    assert_eq!(app.verify(&token).await["valid"], true);
    app.clock.advance(1);
    assert_eq!(app.verify_error(&token).await, "Signature has expired");
}

async fn key_and_meta_describe_the_signing_key() {
    for algorithm in Algorithm::ALL {
        let app = spawn(Backend::Sqlite)
            .algorithm(algorithm)
            .settings(|s| s.jwt_issuer = "Example Corp".into())
            .start()
            .await;
        let key: serde_json::Value = app.get("/jwt/key").await.json().await.expect("json");
        assert_eq!(key["data"].as_str().map(str::trim), Some(app.public_key_pem().trim()));
        let meta: serde_json::Value = app.get("/jwt/meta").await.json().await.expect("json");
        assert_eq!(meta, json!({"algorithm": algorithm.name(), "issuer": "Example Corp", "expiration": 15}));
    }
}

/// A service with one hashing thread, `queue` places to wait for it and `wait_ms` of waiting, and a
/// user `email`; no lockout, whose reservations parallel logins of one account would otherwise meet.
async fn one_hashing_thread(queue: usize, wait_ms: u64, email: &str) -> TestApp {
    let app = spawn(Backend::Sqlite)
        .settings(move |s| {
            s.password_hash_concurrency = 1;
            s.password_hash_queue = queue;
            s.password_hash_wait_ms = wait_ms;
            s.lockout_threshold = 0;
        })
        .start()
        .await;
    app.insert_user(email, true, false).await;
    app
}

async fn logins_past_the_hashing_queue_get_503_with_retry_after_when_their_wait_would_end() {
    let app = one_hashing_thread(1, 400, "busy@example.com").await;
    let logins = (0..8).map(|_| async {
        let started = std::time::Instant::now();
        let response = app.post_json("/jwt/token", &json!({"email": "busy@example.com", "password": PASSWORD})).await;
        let status = response.status().as_u16();
        let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap_or_default().to_owned());
        (status, retry_after, response.json::<Value>().await.expect("json"), started.elapsed())
    });
    let results = futures::future::join_all(logins).await;
    let served = results.iter().filter(|r| r.0 == 200).count();
    let refused: Vec<_> = results.iter().filter(|r| r.0 == 503).collect();
    assert!(served >= 1, "{results:?}");
    assert!(refused.len() >= 6, "one runs, one waits, the rest are past the queue: {results:?}");
    assert_eq!(served + refused.len(), 8);
    for (_, retry_after, body, elapsed) in &refused {
        assert_eq!(*body, json!({"error": "Too many requests at once; retry shortly"}));
        assert_eq!(retry_after.as_deref(), Some("1"));
        assert!(*elapsed >= Duration::from_millis(400), "refused when the wait would end, not at once: {elapsed:?}");
    }
    let response = app.post_json("/jwt/token", &json!({"email": "busy@example.com", "password": PASSWORD})).await;
    assert_eq!(response.status().as_u16(), 200, "the queue drains");
}

async fn a_login_that_waits_longer_than_the_hash_wait_limit_gets_503() {
    let app = one_hashing_thread(64, 100, "queue@example.com").await;
    let results = futures::future::join_all((0..12).map(|_| app.login("queue@example.com", PASSWORD))).await;
    let statuses: Vec<u16> = results.iter().map(|(status, _)| *status).collect();
    assert!(statuses.iter().all(|s| *s == 200 || *s == 503), "{statuses:?}");
    assert!(statuses.contains(&200), "{statuses:?}");
    assert!(statuses.contains(&503), "twelve argon2 checks on one thread take longer than 100 ms: {statuses:?}");
}
