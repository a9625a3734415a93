//! Passkey ceremonies as a browser runs them, with `webauthn-authenticator-rs`'s software passkey
//! (an authenticator that is not ours) in place of the platform: the options the service answers
//! go to the authenticator, its `PublicKeyCredential` back to the service.
//!
//! The software passkey keeps no resident credentials: it refuses `requireResidentKey`, so the
//! test clears that flag before handing the options over, and for a passwordless sign-in it plays
//! the browser's account picker, naming the credential in `allowCredentials`, which the service
//! left empty (a discoverable ceremony). Resident keys themselves are exercised in Chromium with a
//! WebDriver virtual authenticator (`passkeys_browser.rs`).

use serde_json::{Value, json};
use url::Url;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs_proto::{CreationChallengeResponse, RequestChallengeResponse};

use super::app::{Backend, TestApp, spawn};
use super::totp::call;

/// The relying-party id and the page origin of [`passkey_app`].
pub const RP_ID: &str = "example.com";
pub const ORIGIN: &str = "https://login.example.com";

/// An instance whose passkey relying party is `example.com`, served to pages at [`ORIGIN`]
/// (the origin also sends cookie-authenticated requests), with plain-HTTP cookies.
pub async fn passkey_app(backend: Backend) -> TestApp {
    spawn(backend)
        .settings(|s| {
            s.passkeys.passkey_rp_id = Some(RP_ID.into());
            s.passkeys.passkey_origins = Some(ORIGIN.parse().expect("origins"));
            s.sessions.session_origins = Some(ORIGIN.parse().expect("origins"));
            s.sessions.cookie_secure = false;
        })
        .start()
        .await
}

/// A software authenticator that performs user verification.
pub fn authenticator() -> SoftPasskey {
    SoftPasskey::new(true)
}

pub fn origin() -> Url {
    Url::parse(ORIGIN).expect("origin")
}

/// Registers a passkey for the holder of `token` from `origin`: the finish's status and body.
pub async fn register_from(
    app: &TestApp,
    token: &str,
    authenticator: &mut SoftPasskey,
    origin: Url,
    name: &str,
) -> (u16, Value) {
    let (status, options) = call(app, reqwest::Method::POST, "/me/passkeys/register/start", token, None).await;
    assert_eq!(status, 200, "{options}");
    let mut options: CreationChallengeResponse = serde_json::from_value(options).expect("creation options");
    if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
        selection.require_resident_key = false;
    }
    let credential = authenticator.do_registration(origin, options).expect("the authenticator registers");
    let body = json!({ "name": name, "credential": credential });
    call(app, reqwest::Method::POST, "/me/passkeys/register/finish", token, Some(body)).await
}

/// Registers a passkey from [`ORIGIN`]; the stored passkey's id and its credential id (base64url).
pub async fn register(app: &TestApp, token: &str, authenticator: &mut SoftPasskey, name: &str) -> (i64, String) {
    let (status, stored) = register_from(app, token, authenticator, origin(), name).await;
    assert_eq!(status, 200, "{stored}");
    let id = stored["id"].as_str().expect("id").parse().expect("numeric id");
    let credential = app.state.store.passkey_by_id(id).await.expect("store").expect("stored passkey");
    let passkey: Value = serde_json::from_str(&credential.passkey).expect("passkey JSON");
    (id, passkey["cred"]["cred_id"].as_str().expect("credential id").to_owned())
}

/// `POST /passkeys/login/start`: the challenge id and the options as a browser gets them.
pub async fn start_sign_in(app: &TestApp) -> (String, Value) {
    let response = app.post_json("/passkeys/login/start", &json!({})).await;
    assert_eq!(response.status().as_u16(), 200);
    let mut body: Value = response.json().await.expect("JSON");
    let challenge_id = body["challenge_id"].as_str().expect("challenge_id").to_owned();
    body.as_object_mut().expect("object").remove("challenge_id");
    (challenge_id, body)
}

/// The authenticator's assertion for `options`, picking `credential_id` (the browser's account
/// picker) when the options allow any credential.
pub fn assert_with(authenticator: &mut SoftPasskey, origin: Url, mut options: Value, credential_id: &str) -> Value {
    let allowed = &mut options["publicKey"]["allowCredentials"];
    if allowed.as_array().is_none_or(Vec::is_empty) {
        *allowed = json!([{ "type": "public-key", "id": credential_id }]);
    }
    let options: RequestChallengeResponse = serde_json::from_value(options).expect("request options");
    let credential = authenticator.do_authentication(origin, options).expect("the authenticator signs");
    serde_json::to_value(credential).expect("credential JSON")
}

/// `POST /passkeys/login/finish`: status and body (`null` when empty).
pub async fn finish_sign_in(app: &TestApp, challenge_id: &str, credential: &Value, session: bool) -> reqwest::Response {
    let body = json!({ "challenge_id": challenge_id, "credential": credential, "session": session });
    app.client
        .post(app.url("/passkeys/login/finish"))
        .header("Origin", ORIGIN)
        .json(&body)
        .send()
        .await
        .expect("request")
}

/// A whole passwordless sign-in for tokens: status and body.
pub async fn sign_in(app: &TestApp, authenticator: &mut SoftPasskey, credential_id: &str) -> (u16, Value) {
    let (challenge_id, options) = start_sign_in(app).await;
    let credential = assert_with(authenticator, origin(), options, credential_id);
    let response = finish_sign_in(app, &challenge_id, &credential, false).await;
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("JSON body") })
}

/// Sets the signature counter the service holds for passkey `id` (as a cloned authenticator
/// that signed in meanwhile would leave it).
pub async fn set_stored_counter(app: &TestApp, id: i64, counter: u32) {
    use sea_orm::{ConnectionTrait, Database};
    let row = app.state.store.passkey_by_id(id).await.expect("store").expect("passkey");
    let mut passkey: Value = serde_json::from_str(&row.passkey).expect("passkey JSON");
    passkey["cred"]["counter"] = json!(counter);
    let db = Database::connect(app.settings.db_url.as_str()).await.expect("connect");
    let sql = format!("UPDATE passkeys SET passkey = '{passkey}', counter = {counter} WHERE id = {id}");
    db.execute_unprepared(&sql).await.expect("update the counter");
}
