//! The TOTP second factor: enrolment, confirmation, logins that need a code, replay, drift,
//! recovery codes, disabling and an admin's reset.

use reqwest::Method;
use serde_json::json;

use crate::backend_tests;
use crate::support::app::{Backend, PASSWORD, spawn};
use crate::support::totp::{call, code_at, enable_totp, login_with, login_with_code};

backend_tests!(
    enrolment_turns_on_a_second_factor_that_every_password_login_then_needs,
    a_code_is_accepted_once_and_one_step_of_drift_either_way_but_not_two,
    recovery_codes_work_once_each_and_disabling_needs_a_code,
    a_new_enrolment_replaces_a_pending_one_and_is_refused_once_enabled,
    admins_reset_a_second_factor_and_nobody_else_may,
);

async fn enrolment_turns_on_a_second_factor_that_every_password_login_then_needs(backend: Backend) {
    let app = spawn(backend).start().await;
    app.insert_user("ann@example.com", true, false).await;
    let token = app.token_for("ann@example.com").await;

    let (status, enrolment) = call(&app, Method::POST, "/me/totp", &token, None).await;
    assert_eq!(status, 200, "{enrolment}");
    let secret = enrolment["secret"].as_str().expect("secret");
    let uri = enrolment["otpauth_uri"].as_str().expect("uri");
    assert!(uri.starts_with("otpauth://totp/") && uri.contains(&format!("secret={secret}")), "{uri}");
    // Until confirmed, logins do not ask for a code.
    assert_eq!(app.login("ann@example.com", PASSWORD).await.0, 200);

    let wrong = json!({ "password": PASSWORD, "code": "000000" });
    let (status, _) = call(&app, Method::POST, "/me/totp/confirm", &token, Some(wrong)).await;
    assert_eq!(status, 401);
    let right = json!({ "password": PASSWORD, "code": code_at(secret, app.clock_now()) });
    let (status, body) = call(&app, Method::POST, "/me/totp/confirm", &token, Some(right)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["recovery_codes"].as_array().expect("codes").len(), 10);
    app.clock.advance(30);

    let (status, body) = app.login("ann@example.com", PASSWORD).await;
    assert_eq!((status, body["error"].clone()), (401, json!("totp_required")));
    assert_eq!(body["second_factor_required"], json!({ "kinds": ["totp", "recovery_code"] }));
    assert_eq!(app.login("ann@example.com", "wrong password").await, (401, json!({ "error": "Invalid credentials" })));
    let (status, body) = login_with_code(&app, "ann@example.com", "123456").await;
    assert_eq!((status, body["error"].as_str()), (401, Some("Invalid second factor code")));
    // A wrong password with a right code is still just a wrong password.
    let code = code_at(secret, app.clock_now());
    let (status, body) = login_with(&app, "ann@example.com", "wrong password", json!({ "totp_code": code })).await;
    assert_eq!((status, body), (401, json!({ "error": "Invalid credentials" })));
    let (status, body) = login_with_code(&app, "ann@example.com", &code).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["jwt"].is_string());
}

async fn a_code_is_accepted_once_and_one_step_of_drift_either_way_but_not_two(backend: Backend) {
    let app = spawn(backend).start().await;
    app.insert_user("bo@example.com", true, false).await;
    let (secret, _) = enable_totp(&app, "bo@example.com").await;
    app.clock.advance(300);
    let now = app.clock_now();

    assert_eq!(login_with_code(&app, "bo@example.com", &code_at(&secret, now - 60)).await.0, 401);
    assert_eq!(login_with_code(&app, "bo@example.com", &code_at(&secret, now + 60)).await.0, 401);
    let behind = code_at(&secret, now - 30);
    assert_eq!(login_with_code(&app, "bo@example.com", &behind).await.0, 200);
    assert_eq!(login_with_code(&app, "bo@example.com", &behind).await.0, 401, "a replayed code is refused");
    assert_eq!(login_with_code(&app, "bo@example.com", &code_at(&secret, now)).await.0, 200);
    let ahead = code_at(&secret, now + 30);
    assert_eq!(login_with_code(&app, "bo@example.com", &ahead).await.0, 200);
    // Once a later step was used, an earlier one (still inside the window) is refused too.
    assert_eq!(login_with_code(&app, "bo@example.com", &code_at(&secret, now)).await.0, 401);
}

async fn recovery_codes_work_once_each_and_disabling_needs_a_code(backend: Backend) {
    let app = spawn(backend).start().await;
    app.insert_user("cy@example.com", true, false).await;
    let (secret, codes) = enable_totp(&app, "cy@example.com").await;
    let recovery = |code: &str| json!({ "recovery_code": code });

    let (status, body) = login_with(&app, "cy@example.com", PASSWORD, recovery(&codes[0])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(login_with(&app, "cy@example.com", PASSWORD, recovery(&codes[0])).await.0, 401);
    // Case and dashes do not matter.
    let shouted = codes[1].to_uppercase().replace('-', "");
    assert_eq!(login_with(&app, "cy@example.com", PASSWORD, recovery(&shouted)).await.0, 200);
    assert_eq!(login_with(&app, "cy@example.com", PASSWORD, recovery("00000-00000-00000-00000")).await.0, 401);

    let token = login_with(&app, "cy@example.com", PASSWORD, recovery(&codes[2])).await.1["jwt"]
        .as_str()
        .expect("jwt")
        .to_owned();
    let (status, _) =
        call(&app, Method::DELETE, "/me/totp", &token, Some(json!({ "password": PASSWORD, "code": "000000" }))).await;
    assert_eq!(status, 401);
    let code = json!({ "password": PASSWORD, "code": code_at(&secret, app.clock_now()) });
    assert_eq!(call(&app, Method::DELETE, "/me/totp", &token, Some(code)).await.0, 204);
    assert_eq!(app.login("cy@example.com", PASSWORD).await.0, 200, "no code needed any more");
    let again = json!({ "password": PASSWORD, "code": "000000" });
    assert_eq!(call(&app, Method::DELETE, "/me/totp", &token, Some(again)).await.0, 409);
}

async fn a_new_enrolment_replaces_a_pending_one_and_is_refused_once_enabled(backend: Backend) {
    let app = spawn(backend).start().await;
    app.insert_user("di@example.com", true, false).await;
    let token = app.token_for("di@example.com").await;
    let first = call(&app, Method::POST, "/me/totp", &token, None).await.1["secret"].as_str().expect("s").to_owned();
    let second = call(&app, Method::POST, "/me/totp", &token, None).await.1["secret"].as_str().expect("s").to_owned();
    assert_ne!(first, second);
    // Stored encrypted: neither the base32 secret nor its bytes are in the row.
    let user = app.state.store.user_by_email("di@example.com").await.expect("db").expect("user");
    let row = app.state.store.totp_factor(user.id).await.expect("db").expect("a pending factor");
    let raw = data_encoding::BASE32_NOPAD.decode(second.as_bytes()).expect("base32");
    let stored =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &row.secret_ciphertext).expect("base64");
    assert!(!row.secret_ciphertext.contains(&second));
    assert!(!stored.windows(raw.len()).any(|w| w == raw.as_slice()), "the secret is not stored in clear");
    let stale = json!({ "password": PASSWORD, "code": code_at(&first, app.clock_now()) });
    assert_eq!(call(&app, Method::POST, "/me/totp/confirm", &token, Some(stale)).await.0, 401);
    let fresh = json!({ "password": PASSWORD, "code": code_at(&second, app.clock_now()) });
    assert_eq!(call(&app, Method::POST, "/me/totp/confirm", &token, Some(fresh)).await.0, 200);
    let (status, body) = call(&app, Method::POST, "/me/totp", &token, None).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.get("secret").is_none(), "the secret is never shown again");
    assert_eq!(call(&app, Method::POST, "/me/totp", "not a token", None).await.0, 401);
}

async fn admins_reset_a_second_factor_and_nobody_else_may(backend: Backend) {
    let app = spawn(backend).start().await;
    let user = app.insert_user("ed@example.com", true, false).await;
    app.insert_user("root@example.com", true, true).await;
    let admin = app.token_for("root@example.com").await;
    enable_totp(&app, "ed@example.com").await;
    let user_token = login_with(&app, "ed@example.com", PASSWORD, json!({})).await;
    assert_eq!(user_token.1["error"], json!("totp_required"));

    let path = format!("/admin/users/{}/totp/reset", user.id);
    app.insert_user("fay@example.com", true, false).await;
    let other = app.token_for("fay@example.com").await;
    assert_eq!(call(&app, Method::POST, &path, &other, None).await.0, 403);
    assert_eq!(call(&app, Method::POST, "/admin/users/999999/totp/reset", &admin, None).await.0, 404);
    assert_eq!(call(&app, Method::POST, &path, &admin, None).await.0, 204);
    assert_eq!(app.login("ed@example.com", PASSWORD).await.0, 200);
}
