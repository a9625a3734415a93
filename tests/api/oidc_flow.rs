//! The whole authorization code flow driven by an independent relying party (the `openidconnect`
//! crate): discovery, an authorization URL with PKCE and nonce, the hosted sign-in page filled by
//! a cookie-keeping client, the code exchange with ID token validation, then userinfo, refresh,
//! introspection, revocation and logout.

use authify::crypto::Algorithm;
use openidconnect::core::{CoreAuthenticationFlow, CoreUserInfoClaims};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, CsrfToken, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RefreshToken, Scope,
    TokenResponse,
};
use serde_json::Value;

use crate::backend_tests;
use crate::support::app::{Backend, PASSWORD, TestApp};
use crate::support::oidc::{self, Landing, browser, query_param};

backend_tests!(
    a_confidential_client_signs_a_user_in_and_uses_every_endpoint,
    a_public_client_with_pkce_signs_in_with_every_algorithm
);

/// Introspects `token` as `client_id` with its secret.
async fn introspect(app: &TestApp, client_id: &str, secret: &str, token: &str) -> Value {
    let response = app
        .client
        .post(app.url("/oauth2/introspect"))
        .basic_auth(client_id, Some(secret))
        .form(&[("token", token)])
        .send()
        .await
        .expect("introspect");
    assert_eq!(response.status(), 200);
    response.json().await.expect("json")
}

async fn a_confidential_client_signs_a_user_in_and_uses_every_endpoint(backend: Backend) {
    let app = oidc::provider(backend, Algorithm::Es256).await;
    let user = app.insert_user("ada@example.com", true, false).await;
    let registered = oidc::register(&app, "Reports", false, true).await;
    let secret = registered.secret.clone().expect("a confidential client has a secret");
    let client_id = registered.client.client_id.clone();
    let rp = oidc::relying_party(&app, &registered).await;

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = rp
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();
    let browser = browser();
    let Landing::Redirect(back) = oidc::authorize(&app, &browser, url.as_str(), "ada@example.com", PASSWORD).await
    else {
        panic!("a first-party client gets a code without consent");
    };
    assert!(back.starts_with(oidc::REDIRECT_URI), "{back}");
    assert_eq!(query_param(&back, "state").as_deref(), Some(state.secret().as_str()));
    assert_eq!(query_param(&back, "iss").as_deref(), Some(app.settings.public_url.as_str()), "RFC 9207");
    let code = query_param(&back, "code").expect("a code");

    let http = oidc::http_client();
    let tokens = rp
        .exchange_code(AuthorizationCode::new(code))
        .expect("token endpoint")
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("the code exchanges");
    let verifier = rp.id_token_verifier();
    let id_token = tokens.id_token().expect("an ID token");
    let claims = id_token.claims(&verifier, &nonce).expect("the ID token validates");
    assert_eq!(claims.subject().as_str(), user.id.to_string());
    assert_eq!(claims.issuer().as_str(), app.settings.public_url);
    assert_eq!(claims.email().map(|e| e.as_str()), Some("ada@example.com"));
    assert_eq!(claims.email_verified(), Some(true));
    assert!(claims.auth_time().is_some());
    let at_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().expect("alg"),
        id_token.signing_key(&verifier).expect("key"),
    )
    .expect("hash");
    assert_eq!(claims.access_token_hash(), Some(&at_hash));
    let refresh = tokens.refresh_token().expect("offline_access gives a refresh token").clone();

    // The access token is an RFC 9068 JWT.
    let header = crate::support::app::jwt_segment(tokens.access_token().secret(), 0);
    assert_eq!(header["typ"], "at+jwt");
    let payload = crate::support::app::jwt_segment(tokens.access_token().secret(), 1);
    assert_eq!(payload["client_id"], client_id.as_str());
    assert_eq!(payload["iss"], app.settings.public_url.as_str());

    let info: CoreUserInfoClaims = rp
        .user_info(tokens.access_token().clone(), None)
        .expect("userinfo endpoint")
        .request_async(&http)
        .await
        .expect("userinfo answers");
    assert_eq!(info.subject().as_str(), user.id.to_string());
    assert_eq!(info.email().map(|e| e.as_str()), Some("ada@example.com"));

    let active = introspect(&app, &client_id, &secret, tokens.access_token().secret()).await;
    assert_eq!(active["active"], true, "{active}");
    assert_eq!(active["sub"], user.id.to_string());
    let active = introspect(&app, &client_id, &secret, refresh.secret()).await;
    assert_eq!(active["active"], true, "{active}");
    assert_eq!(active["token_type"], "refresh_token");

    let refreshed = rp
        .exchange_refresh_token(&refresh)
        .expect("token endpoint")
        .request_async(&http)
        .await
        .expect("the refresh token exchanges");
    let second_refresh = refreshed.refresh_token().expect("rotated").clone();
    assert_ne!(second_refresh.secret(), refresh.secret());
    assert_eq!(introspect(&app, &client_id, &secret, refresh.secret()).await["active"], false, "the old one is used");

    // Revoking the refresh token ends its session: its access tokens go with it.
    let revoked = app
        .client
        .post(app.url("/oauth2/revoke"))
        .basic_auth(&client_id, Some(&secret))
        .form(&[("token", second_refresh.secret().as_str())])
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), 200);
    assert_eq!(introspect(&app, &client_id, &secret, second_refresh.secret()).await["active"], false);
    assert_eq!(introspect(&app, &client_id, &secret, refreshed.access_token().secret()).await["active"], false);
    let again = rp
        .exchange_refresh_token(&RefreshToken::new(second_refresh.secret().clone()))
        .expect("endpoint")
        .request_async(&http)
        .await;
    assert!(again.is_err(), "a revoked refresh token does not exchange");

    // RP-initiated logout ends the browser session and goes back to the allowed URI with state.
    let logout = format!(
        "/oauth2/logout?id_token_hint={}&post_logout_redirect_uri={}&state=bye",
        id_token, "http%3A%2F%2F127.0.0.1%3A9%2Fsigned-out"
    );
    let response = browser.get(app.url(&logout)).send().await.expect("logout");
    let target = oidc::location(&response);
    assert_eq!(target, "http://127.0.0.1:9/signed-out?state=bye");
    let (prompt_none, _, _) = rp
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_prompt(openidconnect::core::CoreAuthPrompt::None)
        .add_extra_param("code_challenge", PkceCodeChallenge::new_random_sha256().0.as_str())
        .add_extra_param("code_challenge_method", "S256")
        .url();
    let Landing::Redirect(back) = oidc::authorize(&app, &browser, prompt_none.as_str(), "", "").await else {
        panic!("prompt=none redirects");
    };
    assert_eq!(query_param(&back, "error").as_deref(), Some("login_required"), "signed out: {back}");
}

async fn a_public_client_with_pkce_signs_in_with_every_algorithm(backend: Backend) {
    for algorithm in [Algorithm::Es256, Algorithm::Es384, Algorithm::Es512] {
        let app = oidc::provider(backend.clone(), algorithm).await;
        app.insert_user("grace@example.com", true, false).await;
        let registered = oidc::register(&app, "Single page app", true, false).await;
        assert!(registered.secret.is_none());
        let rp = oidc::relying_party(&app, &registered).await;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, _, nonce) = rp
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        let browser = browser();
        // A third-party client: the user is asked once.
        let Landing::Page(200, page) =
            oidc::authorize(&app, &browser, url.as_str(), "grace@example.com", PASSWORD).await
        else {
            panic!("a third-party client shows the consent page");
        };
        assert!(page.contains("Allow Single page app?"), "{page}");
        let Landing::Redirect(back) = oidc::consent(&app, &browser, &page, "allow").await else { panic!("allowed") };
        let code = query_param(&back, "code").expect("a code");
        let http = oidc::http_client();
        let tokens = rp
            .exchange_code(AuthorizationCode::new(code))
            .expect("endpoint")
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .unwrap_or_else(|e| panic!("{algorithm}: the code exchanges: {e:?}"));
        let id_token = tokens.id_token().expect("an ID token");
        if algorithm == Algorithm::Es512 {
            // openidconnect 4 cannot verify P-521 signatures: OpenSSL checks the signature, the
            // crate everything else.
            let jwks: Value = app.get("/.well-known/jwks.json").await.json().await.expect("jwks");
            assert!(crate::discovery::verify_es512_with_openssl(&jwks["keys"][0], &id_token.to_string()));
            let verifier = rp.id_token_verifier().insecure_disable_signature_check();
            let claims = id_token.claims(&verifier, &nonce).expect("the ID token's claims validate");
            assert_eq!(claims.preferred_username().map(|u| u.as_str()), Some("grace"));
        } else {
            let claims = id_token.claims(&rp.id_token_verifier(), &nonce).expect("the ID token validates");
            assert_eq!(claims.preferred_username().map(|u| u.as_str()), Some("grace"), "{algorithm}");
        }
        assert!(tokens.refresh_token().is_none(), "no offline_access, no refresh token");
        // Consent is remembered: the second authorization goes straight back.
        let (challenge, _) = PkceCodeChallenge::new_random_sha256();
        let (url, _, _) = rp
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        let Landing::Redirect(back) = oidc::authorize(&app, &browser, url.as_str(), "", "").await else {
            panic!("remembered consent");
        };
        assert!(query_param(&back, "code").is_some(), "{back}");
        // Withdrawn, it is asked for again.
        let token = app.token_for("grace@example.com").await;
        let listed: Value = app
            .client
            .get(app.url("/me/consents"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        assert_eq!(listed[0]["client_name"], "Single page app", "{listed}");
        let path = format!("/me/consents/{}", registered.client.client_id);
        assert_eq!(app.client.delete(app.url(&path)).bearer_auth(&token).send().await.expect("withdraw").status(), 204);
        assert_eq!(app.client.delete(app.url(&path)).bearer_auth(&token).send().await.expect("again").status(), 404);
        let (challenge, _) = PkceCodeChallenge::new_random_sha256();
        let (url, _, _) = rp
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .set_pkce_challenge(challenge)
            .url();
        let Landing::Page(200, page) = oidc::authorize(&app, &browser, url.as_str(), "", "").await else {
            panic!("asked again after withdrawal");
        };
        assert!(page.contains("Allow Single page app?"));
        let Landing::Redirect(back) = oidc::consent(&app, &browser, &page, "deny").await else { panic!("denied") };
        assert_eq!(query_param(&back, "error").as_deref(), Some("access_denied"), "{back}");
    }
}
