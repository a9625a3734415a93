//! What the OpenID Provider refuses, and how: RFC 6749 errors at the token endpoint, errors at the
//! client's redirect URI once it is validated, and a page (never a redirect) before that.

use authify::crypto::Algorithm;
use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{AuthorizationCode, CsrfToken, Nonce, PkceCodeChallenge, PkceCodeVerifier, Scope};
use serde_json::Value;

use crate::backend_tests;
use crate::support::app::{Backend, PASSWORD, TestApp};
use crate::support::oidc::{self, Landing, browser, query_param};

backend_tests!(
    a_wrong_or_missing_pkce_verifier_is_invalid_grant,
    a_reused_code_is_refused_and_revokes_what_it_issued,
    codes_exchanged_at_once_each_open_one_session_and_a_racing_reuse_revokes_it,
    a_code_is_refused_while_its_user_is_disabled_or_after_a_password_change_and_stays_unspent,
    an_expired_code_and_another_clients_code_are_invalid_grant,
    a_wrong_client_secret_is_a_401_with_www_authenticate,
    bad_authorization_requests_go_back_with_an_error_or_stop_on_a_page,
    a_nonce_mismatch_is_caught_by_the_relying_party
);

/// A code for `ada@example.com` from a first-party confidential client, and its PKCE verifier.
async fn code_for(
    app: &TestApp,
    registered: &authify::service::directory::clients::RegisteredClient,
) -> (String, PkceCodeVerifier, Nonce) {
    let rp = oidc::relying_party(app, registered).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _, nonce) = rp
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();
    let Landing::Redirect(back) = oidc::authorize(app, &browser(), url.as_str(), "ada@example.com", PASSWORD).await
    else {
        panic!("a code");
    };
    (query_param(&back, "code").expect("code"), verifier, nonce)
}

/// `POST /oauth2/token` with Basic client credentials and a form; status and body.
async fn token(
    app: &TestApp,
    client_id: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> (u16, Value, reqwest::header::HeaderMap) {
    let response = app
        .client
        .post(app.url("/oauth2/token"))
        .basic_auth(client_id, Some(secret))
        .form(form)
        .send()
        .await
        .expect("token");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    assert_eq!(headers["cache-control"], "no-store");
    (status, response.json().await.expect("json"), headers)
}

/// `POST /oauth2/introspect` of `token` with Basic client credentials: the answer.
async fn introspect(app: &TestApp, client_id: &str, secret: &str, token: &str) -> Value {
    let response = app.client.post(app.url("/oauth2/introspect")).basic_auth(client_id, Some(secret));
    response.form(&[("token", token)]).send().await.expect("introspect").json().await.expect("json")
}

/// The form of a code exchange, with or without a PKCE verifier.
fn exchange<'a>(code: &'a str, verifier: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![("grant_type", "authorization_code"), ("code", code), ("redirect_uri", oidc::REDIRECT_URI)];
    form.extend(verifier.map(|verifier| ("code_verifier", verifier)));
    form
}

async fn setup(backend: Backend) -> (TestApp, authify::service::directory::clients::RegisteredClient, String) {
    let app = oidc::provider(backend, Algorithm::Es256).await;
    app.insert_user("ada@example.com", true, false).await;
    let registered = oidc::register(&app, "Reports", false, true).await;
    let secret = registered.secret.clone().expect("secret");
    (app, registered, secret)
}

async fn a_wrong_or_missing_pkce_verifier_is_invalid_grant(backend: Backend) {
    let (app, registered, secret) = setup(backend).await;
    let id = registered.client.client_id.clone();
    let (code, _, _) = code_for(&app, &registered).await;
    let wrong = PkceCodeVerifier::new("a".repeat(43));
    let form = exchange(&code, Some(wrong.secret()));
    let (status, body, _) = token(&app, &id, &secret, &form).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    let (code, _, _) = code_for(&app, &registered).await;
    let form = exchange(&code, None);
    let (status, body, _) = token(&app, &id, &secret, &form).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "no verifier: {body}");
}

async fn a_reused_code_is_refused_and_revokes_what_it_issued(backend: Backend) {
    let (app, registered, secret) = setup(backend).await;
    let id = registered.client.client_id.clone();
    let (code, verifier, _) = code_for(&app, &registered).await;
    let form = exchange(&code, Some(verifier.secret()));
    let (status, first, _) = token(&app, &id, &secret, &form).await;
    assert_eq!(status, 200, "{first}");
    let access = first["access_token"].as_str().expect("access token");
    let userinfo = |token: String| {
        let request = app.client.get(app.url("/oauth2/userinfo")).bearer_auth(token);
        async move { request.send().await.expect("userinfo") }
    };
    assert_eq!(userinfo(access.to_owned()).await.status(), 200);
    let (status, body, _) = token(&app, &id, &secret, &form).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    let refused = userinfo(access.to_owned()).await;
    assert_eq!(refused.status(), 401);
    assert!(
        refused.headers()["www-authenticate"].to_str().expect("header").starts_with("Bearer error=\"invalid_token\"")
    );
    // Everything the first exchange issued is refused now.
    let introspected = introspect(&app, &id, &secret, access).await;
    assert_eq!(introspected, serde_json::json!({"active": false}));
    let refresh = first["refresh_token"].as_str().expect("refresh token");
    let (status, body, _) =
        token(&app, &id, &secret, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
}

/// Exchanges that arrive together (written together on SQLite): every code opens its own session,
/// and a second exchange of a code racing the first is refused and revokes what the first got.
async fn codes_exchanged_at_once_each_open_one_session_and_a_racing_reuse_revokes_it(backend: Backend) {
    let (app, registered, secret) = setup(backend).await;
    let id = registered.client.client_id.clone();
    let mut codes = Vec::new();
    for _ in 0..12 {
        let (code, verifier, _) = code_for(&app, &registered).await;
        codes.push((code, verifier.secret().clone()));
    }
    let forms: Vec<Vec<(&str, &str)>> = codes.iter().map(|(code, verifier)| exchange(code, Some(verifier))).collect();
    let wrong = "w".repeat(43);
    let wrong_forms: Vec<Vec<(&str, &str)>> = codes.iter().map(|(code, _)| exchange(code, Some(&wrong))).collect();
    // The six first codes are each sent twice at once, the others once; the last three are also
    // sent at the same time with a wrong verifier, which must not spend them.
    let sends = forms.iter().enumerate().flat_map(|(n, form)| std::iter::repeat_n(form, if n < 6 { 2 } else { 1 }));
    let answers = futures::future::join_all(sends.map(|form| token(&app, &id, &secret, form)));
    let wrong_answers = futures::future::join_all(wrong_forms[9..].iter().map(|form| token(&app, &id, &secret, form)));
    let (answers, wrong_answers) = futures::future::join(answers, wrong_answers).await;
    for (status, body, _) in wrong_answers {
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "a wrong verifier: {body}");
    }
    let mut answers = answers.into_iter();
    let mut sessions = std::collections::HashSet::new();
    for n in 0..12 {
        let tries: Vec<(u16, Value)> =
            answers.by_ref().take(if n < 6 { 2 } else { 1 }).map(|(status, body, _)| (status, body)).collect();
        let won: Vec<&Value> = tries.iter().filter(|(status, _)| *status == 200).map(|(_, body)| body).collect();
        assert_eq!(won.len(), 1, "one exchange of code {n} wins: {tries:?}");
        let access = won[0]["access_token"].as_str().expect("access token");
        assert!(sessions.insert(crate::support::app::jwt_segment(access, 1)["sid"].clone()), "a session of its own");
        let introspected = introspect(&app, &id, &secret, access).await;
        if n < 6 {
            let lost = tries.iter().find(|(status, _)| *status != 200).expect("the reuse");
            assert_eq!((lost.0, lost.1["error"].as_str()), (400, Some("invalid_grant")));
            assert_eq!(introspected["active"], false, "the reuse revoked the winner's tokens");
        } else {
            assert_eq!(introspected["active"], true, "{introspected}");
        }
    }
}

/// The user's standing is checked at the exchange: a code is refused while its user is disabled,
/// and after the password changes since the sign-in it came from; a refused code is not spent.
async fn a_code_is_refused_while_its_user_is_disabled_or_after_a_password_change_and_stays_unspent(backend: Backend) {
    let (app, registered, secret) = setup(backend).await;
    let id = registered.client.client_id.clone();
    let ada = app.state.store.user_by_email("ada@example.com").await.expect("read").expect("ada");
    let admin = app.user_with_token("root@example.com", true).await.1;
    let path = format!("/users/{}", ada.id);
    let set_disabled = |disabled: bool| {
        let body = serde_json::json!({"data": {"type": "users", "id": ada.id.to_string(), "attributes": {"disabled": disabled}}});
        app.api("PATCH", &path, &admin, Some(body))
    };
    let (code, verifier, _) = code_for(&app, &registered).await;
    let form = exchange(&code, Some(verifier.secret()));
    assert_eq!(set_disabled(true).await.status, 200);
    let (status, body, _) = token(&app, &id, &secret, &form).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "disabled: {body}");
    assert_eq!(set_disabled(false).await.status, 200);
    app.clock.advance(1);
    let (status, body, _) = token(&app, &id, &secret, &form).await;
    assert_eq!(status, 200, "enabled again, the code was still unspent: {body}");

    let (code, verifier, _) = code_for(&app, &registered).await;
    app.clock.advance(1);
    let jwt = app.token_for("ada@example.com").await;
    let change = serde_json::json!({"current_password": PASSWORD, "new_password": "a brand new passphrase 42"});
    let response =
        app.client.post(app.url("/me/password")).bearer_auth(jwt).json(&change).send().await.expect("change");
    assert!(response.status().is_success(), "{}", response.status());
    let form = exchange(&code, Some(verifier.secret()));
    let (status, body, _) = token(&app, &id, &secret, &form).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "password changed: {body}");
}

async fn an_expired_code_and_another_clients_code_are_invalid_grant(backend: Backend) {
    let (app, registered, secret) = setup(backend).await;
    let id = registered.client.client_id.clone();
    let (code, verifier, _) = code_for(&app, &registered).await;
    app.clock.advance(61);
    let form = exchange(&code, Some(verifier.secret()));
    let (status, body, _) = token(&app, &id, &secret, &form).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "expired: {body}");

    let other = oidc::register(&app, "Other", false, true).await;
    let (code, verifier, _) = code_for(&app, &registered).await;
    let form = exchange(&code, Some(verifier.secret()));
    let (status, body, _) = token(&app, &other.client.client_id, other.secret.as_deref().expect("secret"), &form).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "another client's: {body}");
    // The rightful client can still use it: the other client's attempt did not spend it.
    let (status, body, _) = token(&app, &id, &secret, &form).await;
    assert_eq!(status, 200, "{body}");
}

async fn a_wrong_client_secret_is_a_401_with_www_authenticate(backend: Backend) {
    let (app, registered, secret) = setup(backend).await;
    let id = registered.client.client_id.clone();
    let (status, body, _) = token(&app, &id, &secret, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, 200, "{body}");
    let metrics = app.get("/metrics").await.text().await.expect("metrics");
    assert!(metrics.contains(r#"authify_oauth_tokens_total{grant_type="client_credentials"} 1"#), "{metrics}");
    let (status, body, headers) = token(&app, &id, "authify_cs_wrong", &[("grant_type", "client_credentials")]).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{body}");
    assert!(headers["www-authenticate"].to_str().expect("header").starts_with("Basic"), "{headers:?}");
    let (status, body, _) = token(&app, "no-such-client", "x", &[("grant_type", "client_credentials")]).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{body}");
    // Every wrong secret counts: past the per-account limit the answer is 429.
    let mut last = 0;
    for _ in 0..app.settings.rate_limit_per_account + 1 {
        last = token(&app, &id, "authify_cs_wrong", &[("grant_type", "client_credentials")]).await.0;
    }
    assert_eq!(last, 429);
}

async fn bad_authorization_requests_go_back_with_an_error_or_stop_on_a_page(backend: Backend) {
    let app = oidc::provider(backend, Algorithm::Es256).await;
    let public = oidc::register(&app, "SPA", true, true).await;
    let id = public.client.client_id.clone();
    let browser = browser();
    let authorize = |query: String| {
        let browser = browser.clone();
        let url = app.url(&format!("/oauth2/authorize?{query}"));
        async move { browser.get(url).send().await.expect("authorize") }
    };
    let redirect = "http%3A%2F%2F127.0.0.1%3A9%2Fcallback";
    // Unknown client, or a redirect URI one character off: a page, never a redirect.
    for query in [
        format!("response_type=code&client_id=nobody&redirect_uri={redirect}"),
        format!("response_type=code&client_id={id}&redirect_uri={redirect}x"),
        format!("response_type=code&client_id={id}"),
    ] {
        let response = authorize(query.clone()).await;
        assert_eq!(response.status(), 400, "{query}");
        assert!(response.headers().get("location").is_none(), "{query}");
        assert!(
            response.headers()["content-security-policy"].to_str().expect("csp").contains("frame-ancestors 'none'")
        );
        assert!(response.text().await.expect("page").contains("<h1>"), "an HTML page");
    }
    // With the redirect URI validated, errors go back to it with state and iss.
    let cases = [
        ("scope=openid&state=s1", "invalid_request", "a public client without PKCE"),
        ("scope=openid&state=s1&code_challenge=abc&code_challenge_method=plain", "invalid_request", "plain PKCE"),
        (
            "scope=openid%20admin&state=s1&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
            "invalid_scope",
            "unknown scope",
        ),
        (
            "scope=openid&state=s1&prompt=none&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
            "login_required",
            "prompt=none without a session",
        ),
    ];
    for (extra, error, what) in cases {
        let response = authorize(format!("response_type=code&client_id={id}&redirect_uri={redirect}&{extra}")).await;
        let back = oidc::location(&response);
        assert!(back.starts_with(oidc::REDIRECT_URI), "{what}: {back}");
        assert_eq!(query_param(&back, "error").as_deref(), Some(error), "{what}: {back}");
        assert_eq!(query_param(&back, "state").as_deref(), Some("s1"), "{what}");
        assert_eq!(query_param(&back, "iss").as_deref(), Some(app.settings.public_url.as_str()), "{what}");
    }
    // The sign-in page itself: no framing, no caching, a CSRF cookie for its form.
    let page = browser.get(app.url("/login")).send().await.expect("login page");
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-security-policy"].to_str().expect("csp").contains("frame-ancestors 'none'"));
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert!(page.headers()["set-cookie"].to_str().expect("cookie").contains("SameSite=Strict"));
    let response = authorize(format!("response_type=token&client_id={id}&redirect_uri={redirect}")).await;
    assert_eq!(query_param(&oidc::location(&response), "error").as_deref(), Some("unsupported_response_type"));
}

async fn a_nonce_mismatch_is_caught_by_the_relying_party(backend: Backend) {
    let (app, registered, _) = setup(backend).await;
    let rp = oidc::relying_party(&app, &registered).await;
    let (code, verifier, _) = code_for(&app, &registered).await;
    let http = oidc::http_client();
    let tokens = rp
        .exchange_code(AuthorizationCode::new(code))
        .expect("endpoint")
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("exchange");
    let id_token = openidconnect::TokenResponse::id_token(&tokens).expect("an ID token");
    let claims = id_token.claims(&rp.id_token_verifier(), &Nonce::new("another nonce".into()));
    assert!(claims.is_err(), "the relying party refuses an ID token for another nonce");
}
