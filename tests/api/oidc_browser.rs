//! A real browser (headless Chromium through chromedriver, driven with fantoccini) signs in on the
//! hosted page, passes the second-factor step, consents, and lands on the client's redirect URI
//! with a code that the relying party exchanges. Screenshots of the sign-in and consent pages go
//! to the test's temp dir (kept under target/screenshots when AUTHIFY_TEST_SCREENSHOTS is set).
//! Ignored while AUTHIFY_TEST_CHROMEDRIVER (the chromedriver binary) is unset.

use authify::crypto::Algorithm;
use fantoccini::Locator;
use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{AuthorizationCode, CsrfToken, Nonce, PkceCodeChallenge, Scope};

use crate::backend_tests;
use crate::support::app::{Backend, PASSWORD};
use crate::support::chromium::{Driver, browser, landing_url, screenshot};
use crate::support::oidc::{self, query_param};
use crate::support::totp::{code_at, enable_totp};
use crate::support::upstream_op::{UpstreamOp, instance};

backend_tests!(
    requires_env = "AUTHIFY_TEST_CHROMEDRIVER";
    a_person_signs_in_with_a_second_factor_and_consents_in_chromium,
    a_person_signs_in_through_an_external_provider_in_chromium,
);

async fn a_person_signs_in_with_a_second_factor_and_consents_in_chromium(backend: Backend) {
    let app = oidc::provider(backend, Algorithm::Es256).await;
    app.insert_user("ada@example.com", true, false).await;
    let (secret, _) = enable_totp(&app, "ada@example.com").await;
    let registered = oidc::register(&app, "Grafana", true, false).await;
    let rp = oidc::relying_party(&app, &registered).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, _) = rp
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();

    let driver = Driver::start();
    let client = browser(&driver).await;
    client.goto(url.as_str()).await.expect("open the authorization URL");
    assert!(client.current_url().await.expect("url").path() == "/login", "sent to the sign-in page");
    let dir = app.dir.path();
    screenshot(&client, dir, "signin.png").await;
    client.find(Locator::Css("#email")).await.expect("email field").send_keys("ada@example.com").await.expect("type");
    client.find(Locator::Css("#password")).await.expect("password field").send_keys(PASSWORD).await.expect("type");
    client.find(Locator::Css("button[type=submit]")).await.expect("button").click().await.expect("submit");

    let code_field = client.wait().for_element(Locator::Css("#totp_code")).await.expect("the second-factor step");
    screenshot(&client, dir, "second-factor.png").await;
    code_field.send_keys(&code_at(&secret, app.clock_now())).await.expect("type the code");
    client.find(Locator::Css("button[type=submit]")).await.expect("button").click().await.expect("submit");

    let allow = client.wait().for_element(Locator::Css("button[value=allow]")).await.expect("the consent page");
    let consent_text = client.find(Locator::Css("main")).await.expect("main").text().await.expect("text");
    assert!(
        consent_text.contains("Allow Grafana?") && consent_text.contains("See your email address"),
        "{consent_text}"
    );
    screenshot(&client, dir, "consent.png").await;
    allow.click().await.expect("allow");

    let landed = landing_url(&client).await;
    client.close().await.expect("close the browser");
    assert!(landed.starts_with(oidc::REDIRECT_URI), "landed on {landed}");
    assert_eq!(query_param(&landed, "state").as_deref(), Some(state.secret().as_str()));
    let code = query_param(&landed, "code").expect("a code");
    let tokens = rp
        .exchange_code(AuthorizationCode::new(code))
        .expect("endpoint")
        .set_pkce_verifier(verifier)
        .request_async(&oidc::http_client())
        .await
        .expect("the code from the browser exchanges");
    assert!(openidconnect::TokenResponse::id_token(&tokens).is_some());
}

/// The "Sign in with …" button of the hosted page: the provider (which approves at once), back to
/// the authorization request with a browser session, on to the client with a code.
async fn a_person_signs_in_through_an_external_provider_in_chromium(backend: Backend) {
    let upstream = UpstreamOp::start().await;
    upstream.sign_in_as(serde_json::json!({"sub": "b-1", "email": "grace@example.com", "email_verified": true}));
    let app = instance(backend, &upstream, |p| p.display_name = Some("Example SSO".into())).await;
    let registered = oidc::register(&app, "Wiki", true, true).await;
    let rp = oidc::relying_party(&app, &registered).await;
    let (challenge, _verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, _) = rp
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .set_pkce_challenge(challenge)
        .url();

    let driver = Driver::start();
    let client = browser(&driver).await;
    client.goto(url.as_str()).await.expect("open the authorization URL");
    let button = client.wait().for_element(Locator::Css("a.provider")).await.expect("a provider button");
    assert_eq!(button.text().await.expect("text"), "Sign in with Example SSO");
    screenshot(&client, app.dir.path(), "signin-with-provider.png").await;
    button.click().await.expect("click");
    let landed = landing_url(&client).await;
    client.close().await.expect("close the browser");
    assert!(landed.starts_with(oidc::REDIRECT_URI), "landed on {landed}");
    assert_eq!(query_param(&landed, "state").as_deref(), Some(state.secret().as_str()));
    assert!(query_param(&landed, "code").is_some(), "{landed}");
}
