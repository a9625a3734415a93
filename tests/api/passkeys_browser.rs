//! Passkeys in a real browser: headless Chromium with a WebDriver virtual authenticator (resident
//! keys, user verification), on the hosted pages: a signed-in person adds a passkey on the account
//! page, signs out, signs in with it from the sign-in page (no email typed), uses it instead of a
//! TOTP code after the password, and signs in to a relying party with it. Ignored while AUTHIFY_TEST_CHROMEDRIVER is unset.

use fantoccini::Locator;
use fantoccini::wd::WebDriverCompatibleCommand;
use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{AuthorizationCode, CsrfToken, Nonce, PkceCodeChallenge};
use serde_json::json;
use url::Url;

use crate::backend_tests;
use crate::support::app::{Backend, PASSWORD, TestApp, spawn};
use crate::support::chromium::{Driver, browser, landing_url, screenshot};
use crate::support::oidc::{self, query_param};
use crate::support::totp::enable_totp;

backend_tests!(
    requires_env = "AUTHIFY_TEST_CHROMEDRIVER";
    a_person_adds_a_passkey_and_signs_in_with_it_in_chromium,
);

/// `POST /session/{id}/webauthn/authenticator`: a platform authenticator that keeps resident keys
/// and verifies its user (the WebAuthn extension of WebDriver).
#[derive(Debug)]
struct AddVirtualAuthenticator;

impl WebDriverCompatibleCommand for AddVirtualAuthenticator {
    fn endpoint(&self, base: &Url, session: Option<&str>) -> Result<Url, url::ParseError> {
        base.join(&format!("session/{}/webauthn/authenticator", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _url: &Url) -> (poem::http::Method, Option<String>) {
        let options = json!({
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": true,
            "hasUserVerification": true,
            "isUserVerified": true,
            "isUserConsenting": true,
        });
        (poem::http::Method::POST, Some(options.to_string()))
    }
}

/// An instance at `http://localhost:<port>` (a host name: WebAuthn refuses IP addresses, and
/// Chromium treats localhost as a secure context), so the relying party is `localhost`.
async fn localhost_app(backend: Backend) -> TestApp {
    let port = crate::support::ports::unused_port();
    spawn(backend)
        .settings(move |s| {
            s.listen = std::net::SocketAddr::from(([127, 0, 0, 1], port));
            s.public_url = format!("http://localhost:{port}");
            s.sessions.cookie_secure = false;
        })
        .start()
        .await
}

/// The text of `css` once it reads as `expected` says, or what it read last after 5 s: the page
/// may still be the one being left (its element goes stale, or reads as before).
async fn text_of(client: &fantoccini::Client, css: &str, expected: impl Fn(&str) -> bool) -> String {
    let mut last = String::new();
    for _ in 0..50 {
        if let Ok(element) = client.find(Locator::Css(css)).await
            && let Ok(text) = element.text().await
        {
            if expected(&text) {
                return text;
            }
            last = text;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    last
}

async fn a_person_adds_a_passkey_and_signs_in_with_it_in_chromium(backend: Backend) {
    let app = localhost_app(backend).await;
    let ada = app.insert_user("ada@example.com", true, false).await;
    let base = app.settings.public_url.clone();
    let dir = app.dir.path();
    let driver = Driver::start();
    let client = browser(&driver).await;
    client.issue_cmd(AddVirtualAuthenticator).await.expect("a virtual authenticator");

    // Signed in with the password, the account page offers to add a passkey.
    client.goto(&format!("{base}/login")).await.expect("the sign-in page");
    client.find(Locator::Css("#email")).await.expect("email").send_keys("ada@example.com").await.expect("type");
    client.find(Locator::Css("#password")).await.expect("password").send_keys(PASSWORD).await.expect("type");
    client.find(Locator::Css("button[type=submit]")).await.expect("button").click().await.expect("submit");
    client.wait().for_element(Locator::Css("main")).await.expect("signed in");
    client.goto(&format!("{base}/account")).await.expect("the account page");
    assert!(
        text_of(&client, "#no-passkeys", |t| t.starts_with("No passkeys yet")).await.starts_with("No passkeys yet")
    );
    client.find(Locator::Css("#passkey-name")).await.expect("name").send_keys("Chromium").await.expect("type");
    client.wait().for_element(Locator::Css("#passkey-add")).await.expect("button").click().await.expect("add");
    let listed = text_of(&client, "#passkey-list", |t| t.contains("Chromium")).await;
    assert!(listed.contains("Chromium"), "{listed}");
    screenshot(&client, dir, "account-with-passkey.png").await;
    let stored = app.state.store.passkeys_of_user(ada.id).await.expect("store");
    assert_eq!(stored.len(), 1, "one passkey stored");

    // Signed out, the sign-in page signs in with the passkey alone: no email typed.
    client.goto(&format!("{base}/oauth2/logout")).await.expect("sign out");
    client.goto(&format!("{base}/login")).await.expect("the sign-in page");
    let button = client.wait().for_element(Locator::Css("#passkey-sign-in")).await.expect("the passkey button");
    assert_eq!(button.text().await.expect("text"), "Sign in with a passkey");
    screenshot(&client, dir, "signin-with-passkey.png").await;
    button.click().await.expect("click");
    assert_eq!(text_of(&client, "#account-email", |t| t == "ada@example.com").await, "ada@example.com");
    assert_eq!(client.current_url().await.expect("url").path(), "/account");

    // With TOTP on, the password's second step takes the passkey instead of a code.
    client.goto(&format!("{base}/oauth2/logout")).await.expect("sign out");
    enable_totp(&app, "ada@example.com").await;
    client.goto(&format!("{base}/login")).await.expect("the sign-in page");
    client.find(Locator::Css("#email")).await.expect("email").send_keys("ada@example.com").await.expect("type");
    client.find(Locator::Css("#password")).await.expect("password").send_keys(PASSWORD).await.expect("type");
    client.find(Locator::Css("button[type=submit]")).await.expect("button").click().await.expect("submit");
    let instead = client.wait().for_element(Locator::Css("#passkey-second-factor")).await.expect("the passkey option");
    assert_eq!(instead.text().await.expect("text"), "Use a passkey instead");
    screenshot(&client, dir, "second-factor-with-passkey.png").await;
    instead.click().await.expect("click");
    assert_eq!(text_of(&client, "h1", |t| t == "You are signed in").await, "You are signed in");

    // A relying party's sign-in: the passkey button carries the authorization request on.
    client.goto(&format!("{base}/oauth2/logout")).await.expect("sign out");
    let registered = oidc::register(&app, "Wiki", true, true).await;
    let rp = oidc::relying_party(&app, &registered).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = rp
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .set_pkce_challenge(challenge)
        .url();
    client.goto(url.as_str()).await.expect("the authorization URL");
    client
        .wait()
        .for_element(Locator::Css("#passkey-sign-in"))
        .await
        .expect("the passkey button")
        .click()
        .await
        .expect("click");
    let landed = landing_url(&client).await;
    client.close().await.expect("close the browser");
    assert!(landed.starts_with(oidc::REDIRECT_URI), "landed on {landed}");
    assert_eq!(query_param(&landed, "state").as_deref(), Some(state.secret().as_str()));
    let code = query_param(&landed, "code").expect("a code");
    // The relying party's ID token says how the person signed in.
    let tokens = rp
        .exchange_code(AuthorizationCode::new(code))
        .expect("endpoint")
        .set_pkce_verifier(verifier)
        .request_async(&oidc::http_client())
        .await
        .expect("the code exchanges");
    let id_token = openidconnect::TokenResponse::id_token(&tokens).expect("an ID token");
    let claims = id_token.claims(&rp.id_token_verifier(), &nonce).expect("a valid ID token");
    let amr: Vec<&str> = claims.auth_method_refs().expect("amr").iter().map(|m| m.as_str()).collect();
    assert_eq!(amr, ["hwk", "user"]);
    let logins = app.state.store.passkeys_of_user(ada.id).await.expect("store");
    assert!(logins[0].last_used_at.is_some());
}
