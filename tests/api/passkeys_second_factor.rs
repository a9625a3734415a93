//! A passkey as the second factor after a correct password (`totp_required` now lists the kinds
//! and carries a passkey ceremony), and the rule that an account keeps a way to sign in.

use authify::runtime::request_context::RequestMeta;
use authify::service::auth::refresh::start_session;
use authify::store::users::NewUser;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::app::{Backend, PASSWORD};
use crate::support::jsonapi::As;
use crate::support::passkeys::{ORIGIN, assert_with, authenticator, origin, passkey_app, register};
use crate::support::totp::{enable_totp, login_with};

backend_tests!(
    after_a_correct_password_a_passkey_stands_in_for_the_totp_code,
    the_last_way_to_sign_in_cannot_be_deleted,
);

/// The passkey ceremony of a `totp_required` answer, as `navigator.credentials.get` options.
fn ceremony(refusal: &Value) -> (String, Value) {
    let passkey = &refusal["second_factor_required"]["passkey"];
    let challenge_id = passkey["challenge_id"].as_str().expect("challenge_id").to_owned();
    (challenge_id, json!({ "publicKey": passkey["publicKey"] }))
}

async fn after_a_correct_password_a_passkey_stands_in_for_the_totp_code(backend: Backend) {
    let app = passkey_app(backend).await;
    app.insert_user("ann@example.com", true, false).await;
    let token = app.token_for("ann@example.com").await;
    let mut key = authenticator();
    let (_, credential_id) = register(&app, &token, &mut key, "Laptop").await;
    // A passkey alone asks nothing more of a password login.
    assert_eq!(app.login("ann@example.com", PASSWORD).await.0, 200);

    enable_totp(&app, "ann@example.com").await;
    let (status, refusal) = app.login("ann@example.com", PASSWORD).await;
    assert_eq!(status, 401);
    assert_eq!(refusal["error"], json!("totp_required"), "authify-api clients keep their answer");
    assert_eq!(refusal["second_factor_required"]["kinds"], json!(["totp", "recovery_code", "passkey"]));
    let (challenge_id, options) = ceremony(&refusal);
    assert_eq!(options["publicKey"]["allowCredentials"].as_array().expect("allowed").len(), 1);
    let credential = assert_with(&mut key, origin(), options, &credential_id);
    let proof = json!({ "passkey": { "challenge_id": challenge_id, "credential": credential } });

    // A wrong password is only that, whatever the passkey.
    let (status, body) = login_with(&app, "ann@example.com", "wrong password", proof.clone()).await;
    assert_eq!((status, body), (401, json!({ "error": "Invalid credentials" })));
    let (status, body) = login_with(&app, "ann@example.com", PASSWORD, proof.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["jwt"].is_string());
    // The ceremony is used up.
    let (status, body) = login_with(&app, "ann@example.com", PASSWORD, proof).await;
    assert_eq!((status, body), (401, json!({ "error": "Invalid second factor code" })));

    // The browser session takes the same proof.
    let (_, refusal) = app.login("ann@example.com", PASSWORD).await;
    let (challenge_id, options) = ceremony(&refusal);
    let credential = assert_with(&mut key, origin(), options, &credential_id);
    let body = json!({
        "email": "ann@example.com",
        "password": PASSWORD,
        "passkey": { "challenge_id": challenge_id, "credential": credential },
    });
    let response =
        app.client.post(app.url("/session")).header("Origin", ORIGIN).json(&body).send().await.expect("request");
    assert_eq!(response.status().as_u16(), 204);

    // An account with TOTP and no passkey is offered only codes.
    app.insert_user("bo@example.com", true, false).await;
    enable_totp(&app, "bo@example.com").await;
    let (status, refusal) = app.login("bo@example.com", PASSWORD).await;
    assert_eq!(status, 401);
    assert_eq!(
        refusal,
        json!({ "error": "totp_required", "second_factor_required": { "kinds": ["totp", "recovery_code"] } })
    );
}

async fn the_last_way_to_sign_in_cannot_be_deleted(backend: Backend) {
    let app = passkey_app(backend).await;
    // An account with no password (as an external sign-in creates them).
    let new = NewUser {
        email: "cy@example.com".into(),
        handle: "cy".into(),
        full_name: Some("Cy".into()),
        password_digest: None,
        admin: false,
        verified: true,
        now: app.clock_now(),
    };
    let user = app.state.store.insert_user(new).await.expect("user");
    let pair = start_session(&app.state.auth, &user, None, None, None, &RequestMeta::default()).await.expect("session");
    let token = pair.jwt;
    let (first, _) = register(&app, &token, &mut authenticator(), "Phone").await;
    let (second, _) = register(&app, &token, &mut authenticator(), "Laptop").await;

    let owner = As::Bearer(token);
    assert_eq!(app.api("DELETE", &format!("/passkeys/{first}"), &owner, None).await.status, 204);
    let refused = app.api("DELETE", &format!("/passkeys/{second}"), &owner, None).await;
    assert_eq!(refused.status, 409);
    let detail = refused.body["errors"][0]["detail"].as_str().expect("detail");
    assert!(detail.contains("last way to sign in"), "{detail}");
    assert_eq!(app.api_get("/passkeys", &owner).await.body["data"].as_array().expect("data").len(), 1);
}
