//! Sign-in through an external OpenID Provider (issue 20), against a provider started by the test
//! (`support::upstream_op`: real discovery, JWKS and RS256 ID tokens from `jsonwebtoken`), driven
//! as a browser would: Authify's login route, the provider, the callback with the cookie the
//! login set, then the login code at `/jwt/token`.

use authify::config::SecretString;
use reqwest::redirect::Policy;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::app::{Backend, PASSWORD, TestApp};
use crate::support::oidc;
use crate::support::upstream_op::{REDIRECT, UpstreamOp, instance, instance_on};

backend_tests!(
    a_new_person_gets_an_account_and_comes_back_to_the_same_one,
    a_verified_email_links_an_existing_account_only_when_allowed,
    forged_replayed_and_foreign_callbacks_are_refused,
    a_key_rotation_at_the_provider_is_followed,
    entra_tokens_are_checked_against_their_own_tenant,
    a_provider_down_at_start_up_is_used_once_it_is_back,
    stale_documents_are_used_while_the_provider_cannot_serve_them,
    an_identity_that_is_the_only_way_in_cannot_be_unlinked_by_its_owner,
    the_hosted_sign_in_page_offers_the_provider_and_continues_the_authorization,
    disabled_and_locked_accounts_are_refused,
    another_authify_instance_is_a_provider_too,
);

/// How a browser's trip through the login ended.
#[derive(Debug)]
enum Trip {
    /// Back at the redirect URI with this login code.
    Code(String),
    /// An error answer from Authify: status and body.
    Refused(u16, Value),
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().expect("client")
}

fn location(response: &reqwest::Response) -> String {
    response.headers().get("location").and_then(|v| v.to_str().ok()).expect("a Location").to_owned()
}

/// Login → provider → callback (with the login's cookie), as one browser.
async fn sign_in(app: &TestApp) -> Trip {
    let (callback, cookie) = to_callback(app).await;
    finish(&callback, Some(&cookie)).await
}

/// `GET /identities/oidc/test/login` back to [`REDIRECT`] with the caller's state `client-state-1`.
async fn start_login(app: &TestApp, browser: &reqwest::Client) -> reqwest::Response {
    let query = [("redirect_uri", REDIRECT), ("state", "client-state-1")];
    browser.get(app.url("/identities/oidc/test/login")).query(&query).send().await.expect("login")
}

/// The first two legs: the callback URL the provider sent the browser to, and the login's cookie.
async fn to_callback(app: &TestApp) -> (String, String) {
    let browser = browser();
    let start = start_login(app, &browser).await;
    assert_eq!(start.status(), 302, "{:?}", start.text().await);
    let set_cookie = start.headers().get("set-cookie").and_then(|v| v.to_str().ok()).expect("a cookie").to_owned();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    let at_provider = browser.get(location(&start)).send().await.expect("provider");
    assert_eq!(at_provider.status(), 302);
    let cookie = set_cookie.split(';').next().expect("name=value").to_owned();
    (location(&at_provider), cookie)
}

async fn finish(callback: &str, cookie: Option<&str>) -> Trip {
    let mut request = browser().get(callback);
    if let Some(cookie) = cookie {
        request = request.header("Cookie", cookie);
    }
    let back = request.send().await.expect("callback");
    if back.status() != 302 {
        let status = back.status().as_u16();
        return Trip::Refused(status, back.json().await.unwrap_or(Value::Null));
    }
    let target = url::Url::parse(&location(&back)).expect("a URL");
    assert!(target.as_str().starts_with(REDIRECT), "{target}");
    let query: std::collections::HashMap<_, _> = target.query_pairs().into_owned().collect();
    assert_eq!(query.get("state").map(String::as_str), Some("client-state-1"), "the caller's state comes back");
    Trip::Code(query.get("code").cloned().expect("a login code"))
}

async fn redeem(app: &TestApp, code: &str) -> (u16, Value) {
    let response = app.post_json("/jwt/token", &json!({"login_code": code})).await;
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

fn code_of(trip: Trip) -> String {
    match trip {
        Trip::Code(code) => code,
        Trip::Refused(status, body) => panic!("refused {status}: {body}"),
    }
}

fn refusal(trip: Trip) -> (u16, String) {
    match trip {
        Trip::Refused(status, body) => (status, body["error"].as_str().unwrap_or_default().to_owned()),
        Trip::Code(_) => panic!("the sign-in was expected to fail"),
    }
}

async fn me(app: &TestApp, jwt: &str) -> Value {
    app.client.get(app.url("/me")).bearer_auth(jwt).send().await.expect("me").json().await.expect("json")
}

async fn identities_of(app: &TestApp, jwt: &str, user_id: &str) -> Value {
    let response = app.client.get(app.url(&format!("/users/{user_id}/identities"))).bearer_auth(jwt).send().await;
    response.expect("identities").json().await.expect("json")
}

fn person(sub: &str, email: &str, verified: bool) -> Value {
    json!({"sub": sub, "email": email, "email_verified": verified, "name": "Pat Example"})
}

async fn a_new_person_gets_an_account_and_comes_back_to_the_same_one(backend: Backend) {
    let upstream = UpstreamOp::start().await;
    let app = instance(backend, &upstream, |_| {}).await;
    upstream.sign_in_as(person("person-1", "Pat@Example.com", true));
    let code = code_of(sign_in(&app).await);
    assert!(code.starts_with("authify_lc_"), "{code}");
    let (status, body) = redeem(&app, &code).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["refresh_token"].as_str().is_some_and(|t| t.starts_with("authify_rt_")), "{body}");
    let jwt = body["jwt"].as_str().expect("a jwt");
    let user = me(&app, jwt).await;
    assert_eq!(user["data"]["attributes"]["email"], "pat@example.com", "{user}");
    assert_eq!(user["data"]["attributes"]["full-name"], "Pat Example", "{user}");
    let id = user["data"]["id"].as_str().expect("id").to_owned();
    assert_eq!(redeem(&app, &code).await.0, 401, "a login code works once");
    let identities = identities_of(&app, jwt, &id).await;
    let linked = &identities["data"][0]["attributes"];
    assert_eq!((linked["provider"].as_str(), linked["uid"].as_str()), (Some("oidc:test"), Some("person-1")));

    let again = code_of(sign_in(&app).await);
    let (status, body) = redeem(&app, &again).await;
    assert_eq!(status, 200, "{body}");
    let returning = me(&app, body["jwt"].as_str().expect("jwt")).await;
    assert_eq!(returning["data"]["id"].as_str(), Some(id.as_str()), "the same account");
    assert_eq!(upstream.count("/.well-known/openid-configuration"), 1, "discovery is cached");
    assert_eq!(upstream.count("/jwks"), 1, "so are the keys");
    assert_eq!(redeem(&app, "authify_lc_0000").await.0, 401);
}

async fn a_verified_email_links_an_existing_account_only_when_allowed(backend: Backend) {
    let upstream = UpstreamOp::start().await;
    let app = instance(backend.clone(), &upstream, |p| p.link_by_email = true).await;
    let existing = app.insert_user("known@example.com", true, false).await;
    upstream.sign_in_as(person("person-2", "known@example.com", false));
    let (status, error) = refusal(sign_in(&app).await);
    assert_eq!(status, 403, "an unverified email links nothing: {error}");
    upstream.sign_in_as(person("person-2", "known@example.com", true));
    let (status, body) = redeem(&app, &code_of(sign_in(&app).await)).await;
    assert_eq!(status, 200, "{body}");
    let user = me(&app, body["jwt"].as_str().expect("jwt")).await;
    assert_eq!(user["data"]["id"], existing.id.to_string(), "linked to the existing account");

    let strict = instance(backend, &upstream, |_| {}).await;
    strict.insert_user("known@example.com", true, false).await;
    let (status, error) = refusal(sign_in(&strict).await);
    assert_eq!(status, 403, "{error}");
    assert!(error.contains("an account with this email exists"), "{error}");
}

async fn forged_replayed_and_foreign_callbacks_are_refused(backend: Backend) {
    let upstream = UpstreamOp::start().await;
    let app = instance(backend.clone(), &upstream, |p| p.allowed_email_domains = vec!["example.com".into()]).await;
    upstream.sign_in_as(person("person-3", "p3@example.com", true));

    let (callback, cookie) = to_callback(&app).await;
    let forged = callback.replace("state=", "state=x");
    assert_eq!(refusal(finish(&forged, Some(&cookie)).await).0, 401, "an unknown state");
    let page = browser().get(&forged).header("Accept", "text/html").send().await.expect("callback");
    assert_eq!(page.status(), 401);
    assert!(page.headers()["content-type"].to_str().is_ok_and(|t| t.starts_with("text/html")));
    let html = page.text().await.expect("html");
    assert!(html.contains("Sign-in failed") && html.contains("start again"), "a browser gets a page: {html}");
    assert_eq!(refusal(finish(&callback, None).await).0, 401, "another browser (no cookie)");
    let (callback, cookie) = to_callback(&app).await;
    assert!(matches!(finish(&callback, Some(&cookie)).await, Trip::Code(_)));
    let (status, error) = refusal(finish(&callback, Some(&cookie)).await);
    assert_eq!(status, 401, "a replayed callback: {error}");

    upstream.sign_in_as(person("person-4", "p4@elsewhere.org", true));
    assert_eq!(refusal(sign_in(&app).await).0, 403, "an email domain not allowed");
    upstream.sign_in_as(person("person-3", "p3@example.com", true));

    upstream.send_wrong_nonce();
    let (status, error) = refusal(sign_in(&app).await);
    assert!(status == 401 && error.contains("nonce"), "{status} {error}");
    let upstream2 = UpstreamOp::start().await;
    upstream2.sign_in_as(person("person-3", "p3@example.com", true));
    let app2 = instance(backend.clone(), &upstream2, |_| {}).await;
    upstream2.sign_as_issuer("https://issuer.example");
    let (status, error) = refusal(sign_in(&app2).await);
    assert!(status == 401 && error.contains("issuer"), "a token from another issuer: {status} {error}");
    let upstream3 = UpstreamOp::start().await;
    let app3 = instance(backend, &upstream3, |_| {}).await;
    upstream3.deny();
    let (status, error) = refusal(sign_in(&app3).await);
    assert!(status == 401 && error.contains("access_denied"), "{status} {error}");

    let wrong_redirect = app
        .client
        .get(app.url("/identities/oidc/test/login?redirect_uri=https://evil.example/cb"))
        .send()
        .await
        .expect("login");
    assert_eq!(wrong_redirect.status(), 400);
    let unknown = app.client.get(app.url(&format!("/identities/oidc/nope/login?redirect_uri={REDIRECT}"))).send().await;
    assert_eq!(unknown.expect("login").status(), 404);
}

async fn a_key_rotation_at_the_provider_is_followed(backend: Backend) {
    let upstream = UpstreamOp::start().await;
    let app = instance(backend, &upstream, |_| {}).await;
    upstream.sign_in_as(person("person-5", "p5@example.com", true));
    code_of(sign_in(&app).await);
    upstream.rotate_key();
    app.clock.advance(31);
    code_of(sign_in(&app).await);
    assert_eq!(upstream.count("/jwks"), 2, "one fetch for the new key");
    upstream.rotate_key();
    let (status, error) = refusal(sign_in(&app).await);
    assert!(status == 401 && error.contains("unknown key"), "within the cooldown no fetch: {status} {error}");
    app.clock.advance(31);
    code_of(sign_in(&app).await);
    assert_eq!(upstream.count("/jwks"), 3);
}

async fn entra_tokens_are_checked_against_their_own_tenant(backend: Backend) {
    let upstream = UpstreamOp::start().await;
    upstream.tenant_templated();
    let app = instance(backend, &upstream, |p| p.allowed_tenants = vec!["tenant-a".into()]).await;
    let entra = |tid: &str| json!({"sub": "pairwise-sub", "oid": "object-1", "tid": tid, "email": "e@corp.example"});
    upstream.sign_in_as(entra("tenant-a"));
    let (status, body) = redeem(&app, &code_of(sign_in(&app).await)).await;
    assert_eq!(status, 200, "{body}");
    let jwt = body["jwt"].as_str().expect("jwt");
    let id = me(&app, jwt).await["data"]["id"].as_str().expect("id").to_owned();
    let identities = identities_of(&app, jwt, &id).await;
    assert_eq!(identities["data"][0]["attributes"]["uid"], "tenant-a:object-1", "tid + oid, not sub");
    upstream.sign_in_as(entra("tenant-b"));
    let (status, error) = refusal(sign_in(&app).await);
    assert!(status == 403 && error.contains("tenant-b"), "{status} {error}");
    upstream.sign_in_as(entra("tenant-a"));
    upstream.sign_as_issuer(&format!("http://{}/tenant-b/v2.0", upstream.addr));
    let (status, error) = refusal(sign_in(&app).await);
    assert!(status == 401 && error.contains("Invalid issuer"), "a tid of one tenant, the issuer of another: {error}");
}

async fn a_provider_down_at_start_up_is_used_once_it_is_back(backend: Backend) {
    let upstream = UpstreamOp::start().await;
    upstream.set_down(true);
    let app = instance(backend, &upstream, |_| {}).await;
    assert_eq!(app.get("/health").await.status(), 200, "Authify starts without its provider");
    let start = app.client.get(app.url(&format!("/identities/oidc/test/login?redirect_uri={REDIRECT}"))).send().await;
    let start = start.expect("login");
    assert_eq!(start.status(), 503);
    assert!(start.headers().contains_key("retry-after"));
    upstream.set_down(false);
    upstream.sign_in_as(person("person-6", "p6@example.com", true));
    assert_eq!(redeem(&app, &code_of(sign_in(&app).await)).await.0, 200);
}

async fn an_identity_that_is_the_only_way_in_cannot_be_unlinked_by_its_owner(backend: Backend) {
    let upstream = UpstreamOp::start().await;
    let app = instance(backend, &upstream, |_| {}).await;
    upstream.sign_in_as(person("person-7", "p7@example.com", true));
    let (_, body) = redeem(&app, &code_of(sign_in(&app).await)).await;
    let jwt = body["jwt"].as_str().expect("jwt").to_owned();
    let id = me(&app, &jwt).await["data"]["id"].as_str().expect("id").to_owned();
    let identities = identities_of(&app, &jwt, &id).await;
    let identity = identities["data"][0]["id"].as_str().expect("an identity").to_owned();
    let by_owner = app.client.delete(app.url(&format!("/identities/{identity}"))).bearer_auth(&jwt).send().await;
    assert_eq!(by_owner.expect("delete").status(), 409, "the only way in stays");
    app.insert_user("admin@example.com", true, true).await;
    let admin = app.token_for("admin@example.com").await;
    let by_admin = app.client.delete(app.url(&format!("/identities/{identity}"))).bearer_auth(&admin).send().await;
    assert_eq!(by_admin.expect("delete").status(), 204, "an admin removes it");
}

async fn the_hosted_sign_in_page_offers_the_provider_and_continues_the_authorization(backend: Backend) {
    let upstream = UpstreamOp::start().await;
    let app = instance(backend, &upstream, |p| p.display_name = Some("Example SSO".into())).await;
    let portal = oidc::register(&app, "Portal", false, true).await;
    upstream.sign_in_as(person("person-8", "p8@example.com", true));
    let browser = oidc::browser();
    let redirect: String = form_urlencoded::byte_serialize(oidc::REDIRECT_URI.as_bytes()).collect();
    let query = format!(
        "response_type=code&client_id={}&redirect_uri={redirect}&scope=openid%20email&state=rp-state&nonce=rp-nonce",
        portal.client.client_id
    );
    let first = browser.get(app.url(&format!("/oauth2/authorize?{query}"))).send().await.expect("authorize");
    let login = oidc::location(&first);
    assert!(login.starts_with("/login?"), "{login}");
    let page = browser.get(app.url(&login)).send().await.expect("page").text().await.expect("html");
    assert!(page.contains("Sign in with Example SSO"), "{page}");
    let marker = "class=\"provider\" href=\"";
    let start = page.find(marker).expect("a provider link") + marker.len();
    let href = page[start..start + page[start..].find('"').expect("quote")].replace("&amp;", "&");
    let to_provider = browser.get(app.url(&href)).send().await.expect("login");
    let at_provider = browser.get(oidc::location(&to_provider)).send().await.expect("provider");
    let back = browser.get(oidc::location(&at_provider)).send().await.expect("callback");
    let resume = oidc::location(&back);
    assert_eq!(resume, format!("/oauth2/authorize?{query}"), "back to the interrupted request");
    let done = browser.get(app.url(&resume)).send().await.expect("authorize again");
    let target = oidc::location(&done);
    assert!(target.starts_with(oidc::REDIRECT_URI), "{target}");
    assert!(oidc::query_param(&target, "code").is_some(), "{target}");
    assert_eq!(oidc::query_param(&target, "state").as_deref(), Some("rp-state"));
    let bad = app.client.get(app.url("/identities/oidc/test/login?return_to=https://evil.example/")).send().await;
    assert_eq!(bad.expect("login").status(), 400, "return_to is a local authorization request only");
}

async fn disabled_and_locked_accounts_are_refused(backend: Backend) {
    let upstream = UpstreamOp::start().await;
    let app = instance(backend, &upstream, |_| {}).await;
    upstream.sign_in_as(person("person-9", "p9@example.com", true));
    let (_, body) = redeem(&app, &code_of(sign_in(&app).await)).await;
    let id = me(&app, body["jwt"].as_str().expect("jwt")).await["data"]["id"].as_str().expect("id").to_owned();
    app.insert_user("admin@example.com", true, true).await;
    let admin = app.token_for("admin@example.com").await;
    let patch = |disabled: bool| {
        let document = json!({"data": {"type": "users", "id": id, "attributes": {"disabled": disabled}}});
        app.client
            .patch(app.url(&format!("/users/{id}")))
            .bearer_auth(&admin)
            .header("Content-Type", "application/vnd.api+json")
            .body(document.to_string())
            .send()
    };
    assert_eq!(patch(true).await.expect("disable").status(), 200);
    assert_eq!(refusal(sign_in(&app).await).0, 403, "a disabled account");
    assert_eq!(patch(false).await.expect("enable").status(), 200);
    for _ in 0..5 {
        assert_eq!(app.login("p9@example.com", "a wrong password").await.0, 401);
    }
    let (status, error) = refusal(sign_in(&app).await);
    assert_eq!(status, 429, "a locked account: {error}");
}

async fn another_authify_instance_is_a_provider_too(backend: Backend) {
    let provider = oidc::provider(backend.clone(), authify::crypto::Algorithm::Es256).await;
    provider.insert_user("upstream@example.com", true, false).await;
    let port = crate::support::ports::unused_port();
    let spec = authify::service::directory::clients::ClientSpec {
        name: "Downstream Authify".into(),
        redirect_uris: vec![format!("http://127.0.0.1:{port}/identities/oidc/test/callback")],
        post_logout_redirect_uris: vec![],
        scopes: vec![],
        public: false,
        first_party: true,
    };
    let actor = authify::runtime::audit::Actor::System;
    let registered =
        authify::service::directory::clients::register(&provider.state.directory, spec, actor).await.expect("client");
    let (client_id, secret) = (registered.client.client_id.clone(), registered.secret.clone().expect("a secret"));
    let app = instance_on(backend, port, provider.url(""), move |p| {
        p.client_id = client_id;
        p.client_secret = Some(SecretString::new(secret));
    })
    .await;
    let browser = oidc::browser();
    let start = start_login(&app, &browser).await;
    let landing = oidc::authorize(&provider, &browser, &oidc::location(&start), "upstream@example.com", PASSWORD).await;
    let oidc::Landing::Redirect(callback) = landing else { panic!("the provider did not send the browser back") };
    assert!(callback.starts_with(&app.url("/identities/oidc/test/callback")), "{callback}");
    let back = browser.get(&callback).send().await.expect("callback");
    let target = oidc::location(&back);
    let code = oidc::query_param(&target, "code").expect("a login code");
    let (status, body) = redeem(&app, &code).await;
    assert_eq!(status, 200, "{body}");
    let user = me(&app, body["jwt"].as_str().expect("jwt")).await;
    assert_eq!(user["data"]["attributes"]["email"], "upstream@example.com", "{user}");
}

async fn stale_documents_are_used_while_the_provider_cannot_serve_them(backend: Backend) {
    let upstream = UpstreamOp::start().await;
    let app = instance(backend, &upstream, |_| {}).await;
    upstream.sign_in_as(person("person-10", "p10@example.com", true));
    code_of(sign_in(&app).await);
    assert_eq!(upstream.count("/.well-known/openid-configuration"), 1);
    upstream.set_documents_down(true);
    app.clock.advance(3601);
    upstream.advance(3601);
    code_of(sign_in(&app).await);
    assert_eq!(upstream.count("/.well-known/openid-configuration"), 2, "asked once when the copy went stale");
    code_of(sign_in(&app).await);
    assert_eq!(upstream.count("/.well-known/openid-configuration"), 2, "not again within a minute");
    app.clock.advance(61);
    upstream.advance(61);
    upstream.set_documents_down(false);
    code_of(sign_in(&app).await);
    assert_eq!(upstream.count("/.well-known/openid-configuration"), 3, "and fresh again once it answers");
}
