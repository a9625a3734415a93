//! Passkeys over HTTP with a software authenticator (`webauthn-authenticator-rs`): registration,
//! passwordless sign-in (tokens and the browser session), and the refusals a relying party owes:
//! a replayed assertion, a challenge used twice or expired, a wrong origin or RP id, a counter
//! that went backwards, a deleted credential, a disabled user.

use serde_json::{Value, json};
use url::Url;

use crate::audit::events;
use crate::backend_tests;
use crate::support::app::{Backend, PASSWORD, jwt_segment};
use crate::support::jsonapi::As;
use crate::support::passkeys::{
    assert_with, authenticator, finish_sign_in, origin, passkey_app, register, register_from, set_stored_counter,
    sign_in, start_sign_in,
};
use crate::support::totp::call;

backend_tests!(
    a_registered_passkey_signs_in_without_a_password_for_tokens_and_for_a_browser_session,
    an_assertion_counts_once_and_a_challenge_lives_five_minutes,
    a_wrong_origin_or_relying_party_is_refused_at_registration_and_sign_in,
    a_counter_that_went_backwards_is_refused_and_audited,
    deleted_passkeys_and_disabled_users_do_not_sign_in,
    owners_and_admins_list_rename_and_delete_passkeys_and_nobody_else_sees_them,
);

async fn a_registered_passkey_signs_in_without_a_password_for_tokens_and_for_a_browser_session(backend: Backend) {
    let app = passkey_app(backend).await;
    let user = app.insert_user("ann@example.com", true, false).await;
    let token = app.token_for("ann@example.com").await;
    let mut key = authenticator();

    let (status, options) = call(&app, reqwest::Method::POST, "/me/passkeys/register/start", &token, None).await;
    assert_eq!(status, 200);
    let public_key = &options["publicKey"];
    assert_eq!(public_key["rp"]["id"], json!("example.com"));
    assert_eq!(public_key["user"]["name"], json!("ann@example.com"));
    assert_eq!(public_key["authenticatorSelection"]["residentKey"], json!("required"));
    assert_eq!(public_key["authenticatorSelection"]["userVerification"], json!("required"));
    let (id, credential_id) = register(&app, &token, &mut key, "Laptop").await;

    let (status, body) = sign_in(&app, &mut key, &credential_id).await;
    assert_eq!(status, 200, "{body}");
    let jwt = body["jwt"].as_str().expect("jwt");
    assert!(body["refresh_token"].is_string(), "{body}");
    let claims = jwt_segment(jwt, 1);
    assert_eq!(claims["sub"], json!(user.id.to_string()));
    assert_eq!(claims["amr"], json!(["hwk", "user"]));
    assert_eq!(app.verify(jwt).await["valid"], json!(true));
    // A refreshed token still says how the session began.
    let response = app.post_json("/jwt/refresh", &json!({ "refresh_token": body["refresh_token"] })).await;
    let refreshed: Value = response.json().await.expect("JSON");
    assert_eq!(jwt_segment(refreshed["jwt"].as_str().expect("jwt"), 1)["amr"], json!(["hwk", "user"]));

    // The browser session: a cookie that authenticates like a token.
    let (challenge_id, options) = start_sign_in(&app).await;
    assert_eq!(options["mediation"], json!("conditional"));
    assert_eq!(options["publicKey"]["allowCredentials"], json!([]), "no email, no credential list");
    let assertion = assert_with(&mut key, origin(), options, &credential_id);
    let response = finish_sign_in(&app, &challenge_id, &assertion, true).await;
    assert_eq!(response.status().as_u16(), 204);
    let cookie = response.headers()["set-cookie"].to_str().expect("cookie").to_owned();
    let pair = cookie.split(';').next().expect("name=value");
    let me = app.client.get(app.url("/me")).header("cookie", pair).send().await.expect("request");
    assert_eq!(me.status().as_u16(), 200);

    // Used passkeys show when and how they were last used.
    let stored = app.state.store.passkey_by_id(id).await.expect("store").expect("passkey");
    assert_eq!(stored.last_used_at, Some(app.clock_now()));
    let admin = app.user_with_token("root@example.com", true).await.1;
    assert_eq!(events(&app, &admin, "filter[action]=passkey.register").await.len(), 1);
    let logins = events(&app, &admin, "filter[action]=login.passkey").await;
    assert_eq!(logins.len(), 2, "{logins:?}");
    assert!(logins.iter().all(|e| e["actor"] == json!(format!("user:{}", user.id))), "{logins:?}");
}

async fn an_assertion_counts_once_and_a_challenge_lives_five_minutes(backend: Backend) {
    let app = passkey_app(backend).await;
    app.insert_user("bo@example.com", true, false).await;
    let token = app.token_for("bo@example.com").await;
    let mut key = authenticator();
    let (_, credential_id) = register(&app, &token, &mut key, "Phone").await;

    let (challenge_id, options) = start_sign_in(&app).await;
    let assertion = assert_with(&mut key, origin(), options, &credential_id);
    assert_eq!(finish_sign_in(&app, &challenge_id, &assertion, false).await.status().as_u16(), 200);
    // The same answer again: its challenge is used up.
    assert_eq!(finish_sign_in(&app, &challenge_id, &assertion, false).await.status().as_u16(), 401);
    // Replayed against a fresh challenge: the signature is over the old one.
    let (fresh, _) = start_sign_in(&app).await;
    assert_eq!(finish_sign_in(&app, &fresh, &assertion, false).await.status().as_u16(), 401);

    // A challenge finished after five minutes has expired, however good the assertion.
    let (challenge_id, options) = start_sign_in(&app).await;
    let assertion = assert_with(&mut key, origin(), options, &credential_id);
    app.clock.advance(301);
    let response = finish_sign_in(&app, &challenge_id, &assertion, false).await;
    assert_eq!(response.status().as_u16(), 401);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body, json!({ "error": "Invalid credentials" }));

    // Registration: finishing without a start, or twice, is refused.
    let body = json!({ "credential": { "id": "x" } });
    let (status, _) = call(&app, reqwest::Method::POST, "/me/passkeys/register/finish", &token, Some(body)).await;
    assert_eq!(status, 422, "a credential that is not one names the field");
    let mut other = authenticator();
    let (status, _) = register_from(&app, &token, &mut other, origin(), "Tablet").await;
    assert_eq!(status, 200);
    let (status, options) = call(&app, reqwest::Method::POST, "/me/passkeys/register/start", &token, None).await;
    assert_eq!(status, 200);
    let excluded = options["publicKey"]["excludeCredentials"].as_array().expect("excluded").len();
    assert_eq!(excluded, 2, "an authenticator is not registered twice");
}

async fn a_wrong_origin_or_relying_party_is_refused_at_registration_and_sign_in(backend: Backend) {
    let app = passkey_app(backend).await;
    app.insert_user("cy@example.com", true, false).await;
    let token = app.token_for("cy@example.com").await;
    let evil = Url::parse("https://login.example.com.evil.test").expect("url");

    // Registration from another site (the authenticator scopes it to that site's RP id).
    let mut key = authenticator();
    let (status, options) = call(&app, reqwest::Method::POST, "/me/passkeys/register/start", &token, None).await;
    assert_eq!(status, 200);
    let mut options = options;
    options["publicKey"]["rp"]["id"] = json!("login.example.com.evil.test");
    options["publicKey"]["authenticatorSelection"]["requireResidentKey"] = json!(false);
    let options = serde_json::from_value(options).expect("options");
    use webauthn_authenticator_rs::WebauthnAuthenticator;
    let credential = key.do_registration(evil.clone(), options).expect("registers");
    let body = json!({ "credential": credential });
    let (status, body) = call(&app, reqwest::Method::POST, "/me/passkeys/register/finish", &token, Some(body)).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"].as_str().expect("error").contains("credential"), "{body}");

    let (_, credential_id) = register(&app, &token, &mut key, "Key").await;
    // A page of another origin under the same RP id's suffix rules: refused.
    let (challenge_id, options) = start_sign_in(&app).await;
    let wrong_origin = Url::parse("https://evil.example.com").expect("url");
    let assertion = assert_with(&mut key, wrong_origin, options, &credential_id);
    assert_eq!(finish_sign_in(&app, &challenge_id, &assertion, false).await.status().as_u16(), 401);
    // The right origin, but signed for another RP id (a subdomain's): refused.
    let (challenge_id, mut options) = start_sign_in(&app).await;
    options["publicKey"]["rpId"] = json!("login.example.com");
    let assertion = assert_with(&mut key, origin(), options, &credential_id);
    assert_eq!(finish_sign_in(&app, &challenge_id, &assertion, false).await.status().as_u16(), 401);
    // Both failures counted toward the account's lockout (threshold 5): three more lock it.
    for _ in 0..3 {
        let (challenge_id, options) = start_sign_in(&app).await;
        let assertion =
            assert_with(&mut key, Url::parse("https://evil.example.com").expect("url"), options, &credential_id);
        assert_eq!(finish_sign_in(&app, &challenge_id, &assertion, false).await.status().as_u16(), 401);
    }
    let (status, body) = sign_in(&app, &mut key, &credential_id).await;
    assert_eq!(status, 429, "locked: {body}");
    assert_eq!(app.login("cy@example.com", PASSWORD).await.0, 429, "the password is locked out too");
}

async fn a_counter_that_went_backwards_is_refused_and_audited(backend: Backend) {
    let app = passkey_app(backend).await;
    let user = app.insert_user("di@example.com", true, false).await;
    let token = app.token_for("di@example.com").await;
    let mut key = authenticator();
    let (id, credential_id) = register(&app, &token, &mut key, "Key").await;
    assert_eq!(sign_in(&app, &mut key, &credential_id).await.0, 200);
    let counter = app.state.store.passkey_by_id(id).await.expect("store").expect("passkey").counter;
    assert!(counter > 0, "the software passkey keeps a counter");

    // A clone of the authenticator signed in meanwhile and moved the stored counter past ours.
    set_stored_counter(&app, id, 1000).await;
    let (status, _) = sign_in(&app, &mut key, &credential_id).await;
    assert_eq!(status, 401);
    let admin = app.user_with_token("root@example.com", true).await.1;
    let cloned = events(&app, &admin, "filter[action]=passkey.counter-regressed").await;
    assert_eq!(cloned.len(), 1, "audited once");
    assert_eq!(cloned[0]["target"], json!(format!("users:{}", user.id)));
}

async fn deleted_passkeys_and_disabled_users_do_not_sign_in(backend: Backend) {
    let app = passkey_app(backend).await;
    let user = app.insert_user("ed@example.com", true, false).await;
    let token = app.token_for("ed@example.com").await;
    let mut key = authenticator();
    let (id, credential_id) = register(&app, &token, &mut key, "Key").await;

    let admin = app.user_with_token("root@example.com", true).await.1;
    let disable = json!({ "data": { "type": "users", "id": user.id.to_string(), "attributes": { "disabled": true } } });
    assert_eq!(app.api("PATCH", &format!("/users/{}", user.id), &admin, Some(disable)).await.status, 200);
    let (status, body) = sign_in(&app, &mut key, &credential_id).await;
    assert_eq!((status, body), (403, json!({ "error": "Account disabled" })));
    let enable = json!({ "data": { "type": "users", "id": user.id.to_string(), "attributes": { "disabled": false } } });
    assert_eq!(app.api("PATCH", &format!("/users/{}", user.id), &admin, Some(enable)).await.status, 200);
    assert_eq!(sign_in(&app, &mut key, &credential_id).await.0, 200);

    // Disabling revoked the owner's tokens up to now; a later login deletes the passkey.
    app.clock.advance(1);
    let token = app.token_for("ed@example.com").await;
    assert_eq!(app.api("DELETE", &format!("/passkeys/{id}"), &As::Bearer(token), None).await.status, 204);
    assert_eq!(sign_in(&app, &mut key, &credential_id).await.0, 401);
}

async fn owners_and_admins_list_rename_and_delete_passkeys_and_nobody_else_sees_them(backend: Backend) {
    let app = passkey_app(backend).await;
    app.insert_user("fay@example.com", true, false).await;
    let token = app.token_for("fay@example.com").await;
    let owner = As::Bearer(token.clone());
    let (id, _) = register(&app, &token, &mut authenticator(), "Laptop").await;
    let (_, other) = app.user_with_token("gus@example.com", false).await;
    let admin = app.user_with_token("root@example.com", true).await.1;

    let listed = app.api_get("/passkeys", &owner).await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body["data"].as_array().expect("data").len(), 1);
    assert_eq!(listed.body["data"][0]["attributes"]["name"], json!("Laptop"));
    assert!(listed.body["data"][0]["attributes"].get("passkey").is_none(), "the credential is never shown");
    assert_eq!(app.api_get("/passkeys", &other).await.body["data"], json!([]), "another user sees none");
    assert_eq!(app.api_get(&format!("/passkeys/{id}"), &other).await.status, 404);
    assert_eq!(app.api_get("/passkeys", &admin).await.body["data"].as_array().expect("data").len(), 1);

    let rename =
        json!({ "data": { "type": "passkeys", "id": id.to_string(), "attributes": { "name": "Work laptop" } } });
    assert_eq!(app.api("PATCH", &format!("/passkeys/{id}"), &other, Some(rename.clone())).await.status, 404);
    let renamed = app.api("PATCH", &format!("/passkeys/{id}"), &owner, Some(rename)).await;
    assert_eq!(renamed.body["data"]["attributes"]["name"], json!("Work laptop"));
    let create = json!({ "data": { "type": "passkeys", "attributes": { "name": "x" } } });
    assert_eq!(app.api("POST", "/passkeys", &owner, Some(create)).await.status, 403);

    assert_eq!(app.api("DELETE", &format!("/passkeys/{id}"), &other, None).await.status, 404);
    assert_eq!(app.api("DELETE", &format!("/passkeys/{id}"), &admin, None).await.status, 204);
    assert_eq!(events(&app, &admin, "filter[action]=passkey.delete").await.len(), 1);
}
