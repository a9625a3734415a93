//! authify-api 0.5's own acceptance cases (issue 3): every example of its README
//! (seeds/003_be437a5e90aefb0b.txt), sent as its curl examples send them, over real HTTP, with the
//! documented answers asserted. Where we deliberately differ (SPEC §9), the test asserts our
//! behaviour and cites the differences listed in docs/compatibility.md.
//!
//! Also from that README, and covered elsewhere (not repeated here): the `via` key and delegate
//! signups (registration_templates), email/password failures and `inject` limits (jwt,
//! api_key_login), forgot_password without templates (registration_reset), /jwt/verify's error
//! messages (verify), media types and non-JSON bodies (http_errors), trusted delegates acting on a
//! user's behalf (delegate_on_behalf_of, matrix), who may use each {json:api} resource (matrix), the
//! `rake delegate:*` tasks as `authify delegate …` (cli_delegates), bad settings (cli). The seed
//! README documents no monitoring route (ours: monitoring).

use std::path::{Path, PathBuf};

use authify::crypto::Algorithm;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat};
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::ecdsa::EcdsaSig;
use openssl::hash::{MessageDigest, hash};
use openssl::nid::Nid;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::cli::Server;
use crate::registration::spawn_with_sink;
use crate::support::app::{Backend, TestApp, TestDatabase, jwt_segment, spawn};
use crate::support::credentials::insert_delegate;
use crate::support::jsonapi::{As, MEDIA_TYPE, assert_valid_document};
use crate::support::smtp_sink::{Mail, SmtpSink};

backend_tests!(
    the_readme_walkthrough_registers_verifies_makes_an_api_key_and_reads_organizations,
    the_readme_template_is_refused_from_anonymous_callers_unless_allowed_for_everyone,
    a_delegates_readme_templates_shape_the_signup_and_reset_mails,
    the_readme_jwt_routes_answer_their_documented_shapes,
    keys_made_as_the_readme_shows_and_the_readme_settings_are_honoured,
);

const EMAIL: &str = "someuser@mycompany.com";
/// The README's password, "b@d!dea", is too short for us (see the walkthrough).
const PASSWORD: &str = "b@d!dea-but-long";
const ISSUER: &str = "My Awesome Company Inc.";
/// The README's template body, and the same as its `{base64}` example.
const TEMPLATE_BODY: &str = "Your code is: '{{token}}' and it is valid until {{valid_until}}.";
const TEMPLATE_BODY_BASE64: &str =
    "{base64}WW91ciBjb2RlIGlzOiAne3t0b2tlbn19JyBhbmQgaXQgaXMgdmFsaWQgdW50aWwge3t2YWxpZF91bnRpbH19Lg==";
const HTML_BODY: &str = r#"<p>An <a href="https://en.wikipedia.org/wiki/HTML">HTML</a> body.</p>"#;

/// The README's defaults: ES512, mail to a real SMTP server.
async fn start(backend: Backend, tweak: impl FnOnce(&mut authify::config::Settings) + 'static) -> (TestApp, SmtpSink) {
    spawn_with_sink(spawn(backend).algorithm(Algorithm::Es512), tweak).await
}

/// A POST as the README's curl examples send it: `Content-Type` and `Accept` of `media_type`, plus
/// `headers`. Returns the status, the response's content type and its JSON body.
async fn curl(app: &TestApp, path: &str, headers: &[(&str, &str)], body: &Value) -> (u16, String, Value) {
    let mut request = app
        .client
        .post(app.url(path))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let content_type = media_type_of(&response);
    (status, content_type, response.json().await.expect("a JSON body"))
}

fn media_type_of(response: &reqwest::Response) -> String {
    response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

/// The README's signup body with `password` and extra members.
fn signup_body(email: &str, password: &str, extra: Value) -> Value {
    let mut body = json!({"name": "Some User", "email": email, "password": password});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    body
}

fn templates(email: Value) -> Value {
    json!({"templates": {"email": email}})
}

/// `valid_until` of a token mailed now: the README's "valid for an hour", as RFC 3339.
fn valid_until(app: &TestApp) -> String {
    DateTime::from_timestamp(app.clock_now() + 3600, 0).expect("a time").to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The token of a mail rendered from the README's template, checking the whole text.
fn token_of_readme_template(app: &TestApp, mail: &Mail) -> String {
    let text = mail.text.trim_end();
    let token = text.strip_prefix("Your code is: '").and_then(|t| t.split('\'').next()).expect("the token");
    assert!(token.len() >= 43, "{text}");
    assert_eq!(text, format!("Your code is: '{token}' and it is valid until {}.", valid_until(app)));
    token.to_owned()
}

/// Authify's claims for a new user without organizations, from a token signed just now.
fn assert_authify_claims(app: &TestApp, claims: &Value, id: i64, issuer: &str, minutes: i64) {
    let iat = claims["iat"].as_i64().expect("iat");
    assert_eq!(iat, app.clock_now());
    assert_eq!(claims["exp"].as_i64(), Some(iat + minutes * 60), "{claims}");
    assert_eq!(claims["iss"], issuer);
    assert_eq!(claims["scopes"], json!(["user_access"]));
    // The README's sample token also has `user.groups: []`, but authify-api 0.5's jwt_payload (and
    // SPEC §2) has only username, uid and organizations; its sample `exp` is also an hour, not the
    // 15 minutes its text (and the code) says.
    assert_eq!(claims["user"], json!({"username": EMAIL, "uid": id, "organizations": []}));
    // Differences from authify-api: "Tokens also carry `sub`, `jti` and a `kid` header".
    assert_eq!(claims["sub"], json!(id.to_string()));
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()), "{claims}");
}

/// README "GET /jwt/key": the PEM "should be used to verify the signature made by the Authify
/// service"; this does so with OpenSSL (a second implementation), for any of the three curves.
fn signature_verifies(public_pem: &str, token: &str) -> bool {
    let key = EcKey::public_key_from_pem(public_pem.as_bytes()).expect("a PEM EC public key");
    let (signing_input, signature) = token.rsplit_once('.').expect("three segments");
    let signature = URL_SAFE_NO_PAD.decode(signature).expect("base64url signature");
    let half = signature.len() / 2;
    let digest = match half {
        32 => MessageDigest::sha256(),
        48 => MessageDigest::sha384(),
        _ => MessageDigest::sha512(),
    };
    let r = BigNum::from_slice(&signature[..half]).expect("r");
    let s = BigNum::from_slice(&signature[half..]).expect("s");
    let signature = EcdsaSig::from_private_components(r, s).expect("signature");
    let digest = hash(digest, signing_input.as_bytes()).expect("digest");
    signature.verify(&digest, &key).expect("verification runs")
}

async fn the_readme_walkthrough_registers_verifies_makes_an_api_key_and_reads_organizations(backend: Backend) {
    let (app, sink) = start(backend, |_| {}).await;

    // "Register a new user", with the README's body exactly. Deliberate difference: passwords need
    // at least 8 characters (SPEC §3; docs/compatibility.md), so "b@d!dea" is refused
    // and nothing is created. The rest of the walk uses a longer password.
    let readme = signup_body(EMAIL, "b@d!dea", json!({}));
    let (status, _, body) = curl(&app, "/registration/signup", &[], &readme).await;
    assert_eq!((status, body), (422, json!({"error": "Invalid password"})));
    assert!(app.state.store.user_by_email(EMAIL).await.expect("lookup").is_none());

    let (status, content_type, body) =
        curl(&app, "/registration/signup", &[], &signup_body(EMAIL, PASSWORD, json!({}))).await;
    assert_eq!(status, 200, "{body}");
    assert!(content_type.starts_with("application/json"), "{content_type}");
    let id = body["id"].as_i64().expect("an integer id");
    assert_eq!(body, json!({"id": id, "email": EMAIL, "handle": "someuser", "verified": false}));
    // Unverified users cannot get a token (AUTHIFY_VERIFICATIONS_REQUIRED defaults to true).
    assert_eq!(app.login(EMAIL, PASSWORD).await.0, 401);

    // "They should receive an email containing a one-time verification token, valid for an hour."
    let mail = sink.wait_for(EMAIL, 1).await.pop().expect("the verification mail");
    let token = mail.token();
    assert!(mail.text.contains(&format!("valid until {}", valid_until(&app))), "{}", mail.text);

    let verify = json!({"email": EMAIL, "password": PASSWORD, "token": token});
    let (status, content_type, body) = curl(&app, "/registration/verify", &[], &verify).await;
    assert_eq!(status, 200, "{body}");
    assert!(content_type.starts_with("application/json"), "{content_type}");
    let jwt = body["jwt"].as_str().expect("jwt").to_owned();
    assert_eq!(body, json!({"id": id, "email": EMAIL, "handle": "someuser", "verified": true, "jwt": jwt}));
    let header = jwt_segment(&jwt, 0);
    assert_eq!((&header["typ"], &header["alg"]), (&json!("JWT"), &json!("ES512")));
    let claims = jwt_segment(&jwt, 1);
    assert_authify_claims(&app, &claims, id, ISSUER, 15);
    assert!(claims.get("custom").is_none());
    let (status, _, again) = curl(&app, "/registration/verify", &[], &verify).await;
    assert_eq!((status, again), (422, json!({"error": "Verification Failed"})), "the token is one-time");

    // "Create an API key set": {json:api} both ways, 201, the whole document schema-checked.
    let bearer = As::Bearer(jwt.clone());
    let created = app.api("POST", "/apikeys", &bearer, Some(json!({"data": {"type": "apikeys"}}))).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let document = &created.body;
    assert_valid_document(document);
    let key_id = document["data"]["id"].as_str().expect("a string id").to_owned();
    assert!(key_id.parse::<i64>().is_ok(), "{key_id}");
    let location = format!("{}/apikeys/{key_id}", app.settings.public_url);
    assert_eq!(created.header("location"), Some(location.as_str()));
    assert_eq!(document["data"]["type"], "apikeys");
    assert_eq!(document["jsonapi"], json!({"version": "1.0"}));
    assert_eq!(document["included"], json!([]));
    assert_eq!(document["data"]["links"], json!({"self": format!("/apikeys/{key_id}")}));
    assert_eq!(
        document["data"]["relationships"]["user"]["links"],
        json!({"self": format!("/apikeys/{key_id}/relationships/user"), "related": format!("/apikeys/{key_id}/user")})
    );
    let attributes = &document["data"]["attributes"];
    let access = attributes["access-key"].as_str().expect("access-key").to_owned();
    assert!(access.len() == 20 && access.bytes().all(|b| b.is_ascii_hexdigit()), "{access}");
    // Differences from authify-api: "new secrets carry an `authify_sk_` prefix" (then 64 hex
    // characters, as the README's secret has).
    let secret = attributes["secret-key"].as_str().expect("secret-key").to_owned();
    let hex = secret.strip_prefix("authify_sk_").expect("prefixed secret");
    assert!(hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()), "{secret}");
    // The README shows "2017-02-13 22:50:44 UTC"; our date-times are RFC 3339 UTC (docs/routes.md,
    // "Documents, queries and writes", and docs/compatibility.md).
    let created_at = attributes["created-at"].as_str().expect("created-at");
    let parsed = DateTime::parse_from_rfc3339(created_at).expect("RFC 3339");
    assert_eq!(parsed.timestamp(), app.clock_now());
    assert!(created_at.ends_with('Z'), "{created_at}");

    // "it will not be possible to retrieve the secret-key attribute in plaintext again".
    let shown = app.api_get(&format!("/apikeys/{key_id}"), &bearer).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert_eq!(shown.body["data"]["attributes"]["access-key"], json!(access));
    assert!(shown.body["data"]["attributes"].get("secret-key").is_none(), "{}", shown.body);

    // "Obtain a JWT", with the underscored and the dashed spellings, then with `inject`.
    let underscored = json!({"access_key": access, "secret_key": secret});
    let dashed = json!({"access-key": access, "secret-key": secret});
    let mut key_token = String::new();
    for body in [underscored, dashed] {
        let (status, content_type, answer) = curl(&app, "/jwt/token", &[], &body).await;
        assert_eq!(status, 200, "{answer}");
        assert!(content_type.starts_with("application/json"), "{content_type}");
        key_token = answer["jwt"].as_str().expect("jwt").to_owned();
        assert_eq!(answer, json!({"jwt": key_token}), "API-key logins answer only the jwt");
        assert_authify_claims(&app, &jwt_segment(&key_token, 1), id, ISSUER, 15);
    }
    let injected = json!({"access_key": access, "secret_key": secret, "inject": {"foo": "bar"}});
    let (status, _, answer) = curl(&app, "/jwt/token", &[], &injected).await;
    assert_eq!(status, 200, "{answer}");
    let verified = app.verify(answer["jwt"].as_str().expect("jwt")).await;
    assert_eq!(verified["valid"], true, "{verified}");
    assert_eq!(verified["payload"]["custom"], json!({"foo": "bar"}));

    // The other pair /jwt/token takes: email and password. Differences from authify-api
    // ("Sessions"): interactive logins also get a refresh token.
    let (status, _, answer) = curl(&app, "/jwt/token", &[], &json!({"email": EMAIL, "password": PASSWORD})).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer["jwt"].is_string() && answer["refresh_token"].is_string(), "{answer}");
    assert_eq!(answer["token_type"], "Bearer");

    // "Use the JWT to Access a Protected Resource": only Authorization and Accept, as in the README.
    let response = app
        .client
        .get(app.url("/organizations"))
        .bearer_auth(&key_token)
        .header("accept", MEDIA_TYPE)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(media_type_of(&response), MEDIA_TYPE);
    let organizations: Value = response.json().await.expect("JSON");
    assert_valid_document(&organizations);
    assert_eq!(organizations["data"], json!([]));
    assert_eq!(organizations["jsonapi"], json!({"version": "1.0"}));

    // The README's {json:api} base paths all speak {json:api}; "Index is restricted" for apikeys
    // and groups, and identities and trusted-delegates are not for ordinary users either.
    for (path, status) in [
        ("/apikeys", 403),
        ("/groups", 403),
        ("/identities", 403),
        ("/organizations", 200),
        ("/trusted-delegates", 403),
        ("/users", 200),
    ] {
        let listed = app.api_get(path, &bearer).await;
        assert_eq!(listed.status, status, "GET {path}: {}", listed.body);
    }
}

async fn the_readme_template_is_refused_from_anonymous_callers_unless_allowed_for_everyone(backend: Backend) {
    // docs/compatibility.md: "Request templates are accepted from trusted delegates only
    // (403 otherwise, unless AUTHIFY_REQUEST_TEMPLATES_FOR_ALL=true)". The README's body, exactly
    // (templates are judged before the password), and again with a long enough password.
    let readme_template = templates(json!({"body": TEMPLATE_BODY, "subject": "Verification Code"}));
    let (app, sink) = start(backend.clone(), |_| {}).await;
    for password in ["b@d!dea", PASSWORD] {
        let body = signup_body(EMAIL, password, readme_template.clone());
        let (status, _, answer) = curl(&app, "/registration/signup", &[], &body).await;
        let refused = json!({"error": "Request templates are accepted from trusted delegates only"});
        assert_eq!((status, answer), (403, refused));
    }
    assert!(app.state.store.user_by_email(EMAIL).await.expect("lookup").is_none(), "no user is created");
    assert!(app.state.store.outbox_for(EMAIL).await.expect("outbox").is_empty(), "no mail is queued");
    assert!(sink.mails().is_empty());
    drop((app, sink));

    let (app, sink) = start(backend, |s| s.request_templates_for_all = true).await;
    let body = signup_body(EMAIL, PASSWORD, readme_template);
    let (status, _, answer) = curl(&app, "/registration/signup", &[], &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["verified"], false);
    let mail = sink.wait_for(EMAIL, 1).await.pop().expect("the templated mail");
    assert_eq!(mail.subject, "Verification Code");
    let token = token_of_readme_template(&app, &mail);
    assert_eq!(mail.html, None, "a request body without html_body makes a text-only mail");
    let verify = json!({"email": EMAIL, "password": PASSWORD, "token": token});
    let (status, _, answer) = curl(&app, "/registration/verify", &[], &verify).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["verified"], true);
}

async fn a_delegates_readme_templates_shape_the_signup_and_reset_mails(backend: Backend) {
    let (app, sink) = start(backend, |_| {}).await;
    let (access, secret) = insert_delegate(&app, "portal").await;
    let delegate = [("X-Authify-Access", access.as_str()), ("X-Authify-Secret", secret.as_str())];

    // The README's `{base64}` example: the same mail as the plain template.
    let body =
        signup_body(EMAIL, PASSWORD, templates(json!({"body": TEMPLATE_BODY_BASE64, "subject": "Verification Code"})));
    let (status, _, answer) = curl(&app, "/registration/signup", &delegate, &body).await;
    assert_eq!(status, 200, "{answer}");
    let id = answer["id"].as_i64().expect("id");
    assert_eq!(answer, json!({"id": id, "email": EMAIL, "handle": "someuser", "verified": false}));
    let mail = sink.wait_for(EMAIL, 1).await.pop().expect("the templated mail");
    assert_eq!(mail.subject, "Verification Code");
    let token = token_of_readme_template(&app, &mail);
    let verify = json!({"email": EMAIL, "password": PASSWORD, "token": token});
    assert_eq!(curl(&app, "/registration/verify", &[], &verify).await.0, 200);

    // "Template Types": subject, body and html_body, as the README lists them.
    let other = "htmluser@mycompany.com";
    let all_three = templates(json!({
        "subject": "The subject of the email",
        "body": "The plaintext body of the email",
        "html_body": HTML_BODY,
    }));
    let (status, _, answer) =
        curl(&app, "/registration/signup", &delegate, &signup_body(other, PASSWORD, all_three)).await;
    assert_eq!(status, 200, "{answer}");
    let mail = sink.wait_for(other, 1).await.pop().expect("the templated mail");
    assert_eq!(mail.subject, "The subject of the email");
    assert_eq!(mail.text.trim_end(), "The plaintext body of the email");
    assert_eq!(mail.html.as_deref().map(str::trim_end), Some(HTML_BODY));

    // forgot_password "allows customization of the emails" with `token` and `valid_until` too:
    // `email` alone answers an empty object; then email, password and token set the password.
    let reset_template = templates(json!({"body": TEMPLATE_BODY, "subject": "Reset Code"}));
    let mut forgot = json!({"email": EMAIL});
    if let (Some(forgot), Some(extra)) = (forgot.as_object_mut(), reset_template.as_object()) {
        forgot.extend(extra.clone());
    }
    let (status, _, answer) = curl(&app, "/registration/forgot_password", &delegate, &forgot).await;
    assert_eq!((status, answer), (200, json!({})));
    let mail = sink.wait_for(EMAIL, 2).await.pop().expect("the reset mail");
    assert_eq!(mail.subject, "Reset Code");
    let token = token_of_readme_template(&app, &mail);
    let reset = json!({"email": EMAIL, "password": "a new password", "token": token});
    let (status, _, answer) = curl(&app, "/registration/forgot_password", &[], &reset).await;
    assert_eq!(status, 200, "{answer}");
    let jwt = answer["jwt"].as_str().expect("jwt").to_owned();
    assert_eq!(answer, json!({"id": id, "email": EMAIL, "handle": "someuser", "verified": true, "jwt": jwt}));
    assert_eq!(app.login(EMAIL, "a new password").await.0, 200);
}

async fn the_readme_jwt_routes_answer_their_documented_shapes(backend: Backend) {
    let app = spawn(backend).algorithm(Algorithm::Es512).start().await;
    let user = app.insert_user(EMAIL, true, false).await;
    let token = app.token_for(EMAIL).await;

    // GET /jwt/key: {"data": PEM of the ECDSA public key}, which verifies our signatures.
    let response = app.get("/jwt/key").await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(media_type_of(&response).starts_with("application/json"));
    let key: Value = response.json().await.expect("JSON");
    let pem = key["data"].as_str().expect("data").to_owned();
    assert_eq!(key, json!({"data": pem}));
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
    assert!(signature_verifies(&pem, &token));
    let (signing_input, signature) = token.rsplit_once('.').expect("segments");
    let (header, _) = signing_input.split_once('.').expect("segments");
    let forged = format!("{header}.{}.{signature}", URL_SAFE_NO_PAD.encode(br#"{"sub":"1"}"#));
    assert!(!signature_verifies(&pem, &forged));

    // GET /jwt/meta: algorithm, issuer and expiration (an integer), the README's defaults.
    let response = app.get("/jwt/meta").await;
    assert!(media_type_of(&response).starts_with("application/json"));
    let meta: Value = response.json().await.expect("JSON");
    assert_eq!(meta, json!({"algorithm": "ES512", "issuer": ISSUER, "expiration": 15}));
    assert!(meta["expiration"].is_i64());

    // GET ?token= and POST {"token"}: valid, payload (every claim), type "JWT", algorithm.
    let by_get = |token: String| {
        let app = &app;
        async move {
            let response = app.client.get(app.url("/jwt/verify")).query(&[("token", token)]).send().await.expect("get");
            assert_eq!(response.status().as_u16(), 200);
            assert!(media_type_of(&response).starts_with("application/json"));
            response.json::<Value>().await.expect("JSON")
        }
    };
    let posted = app.verify(&token).await;
    assert_eq!(by_get(token.clone()).await, posted);
    let payload = jwt_segment(&token, 1);
    assert_eq!(posted, json!({"valid": true, "payload": payload, "type": "JWT", "algorithm": "ES512"}));
    assert_authify_claims(&app, &posted["payload"], user.id, ISSUER, 15);

    // Invalid or expired: still 200, with valid false, a list of errors and a generic reason.
    let invalid = |body: &Value| {
        let errors = body["errors"].as_array().expect("errors");
        assert!(!errors.is_empty() && errors.iter().all(Value::is_string), "{body}");
        assert_eq!(*body, json!({"valid": false, "errors": errors, "reason": "Corrupt or invalid JWT"}));
    };
    for bad in [forged, "not-a-jwt".to_owned(), String::new()] {
        invalid(&by_get(bad.clone()).await);
        invalid(&app.verify(&bad).await);
    }
    app.clock.advance(15 * 60);
    let expired = app.verify(&token).await;
    invalid(&expired);
    assert_eq!(expired["errors"][0], "Signature has expired");
    assert_eq!(by_get(token).await, expired);
}

/// Writes keys as the README's OpenSSL CLI commands make them: `openssl ecparam -name secp521r1
/// -genkey` (the curve's parameters, then a SEC1 `EC PRIVATE KEY`) and `openssl ec -pubout`
/// (an SPKI `PUBLIC KEY`). Made with the OpenSSL library so the test needs no `openssl` binary.
pub(crate) fn readme_openssl_keys(dir: &Path) -> (PathBuf, PathBuf, String) {
    let group = EcGroup::from_curve_name(Nid::SECP521R1).expect("P-521");
    let key = EcKey::generate(&group).expect("generate");
    // What `openssl ecparam -name secp521r1` prints: the DER of the curve's OID, 1.3.132.0.35.
    let parameters = "-----BEGIN EC PARAMETERS-----\nBgUrgQQAIw==\n-----END EC PARAMETERS-----\n";
    let private = String::from_utf8(key.private_key_to_pem().expect("PEM")).expect("ASCII");
    assert!(private.starts_with("-----BEGIN EC PRIVATE KEY-----"), "{private}");
    let public = String::from_utf8(key.public_key_to_pem().expect("PEM")).expect("ASCII");
    let (private_path, public_path) = (dir.join("private.pem"), dir.join("public.pem"));
    std::fs::write(&private_path, format!("{parameters}{private}")).expect("write");
    std::fs::write(&public_path, &public).expect("write");
    (private_path, public_path, public)
}

/// The README's spellings of database URLs: `sqlite3://` and `mysql2://`.
fn authify_spelling(url: &str) -> String {
    if let Some(rest) = url.strip_prefix("sqlite://") {
        return format!("sqlite3://{}", rest.split('?').next().unwrap_or(rest));
    }
    match url.strip_prefix("mysql://") {
        Some(rest) => format!("mysql2://{rest}"),
        None => url.to_owned(),
    }
}

async fn keys_made_as_the_readme_shows_and_the_readme_settings_are_honoured(backend: Backend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = TestDatabase::create(&backend, dir.path()).await;
    let (private, public, public_pem) = readme_openssl_keys(dir.path());
    let db_url = authify_spelling(&db.url);
    let env = [
        ("AUTHIFY_DB_URL", db_url.as_str()),
        ("AUTHIFY_PRIVKEY_PATH", private.to_str().expect("UTF-8")),
        ("AUTHIFY_PUBKEY_PATH", public.to_str().expect("UTF-8")),
        ("AUTHIFY_JWT_ISSUER", "Example Corp"),
        ("AUTHIFY_JWT_ALGORITHM", "ES512"),
        ("AUTHIFY_JWT_EXPIRATION", "60"),
        // "Simply set this environment variable to 'false' (as a string)".
        ("AUTHIFY_VERIFICATIONS_REQUIRED", "false"),
    ];
    let server = Server::start(dir.path(), &env);
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(server.url(path)).send();

    let meta: Value = get("/jwt/meta").await.expect("meta").json().await.expect("JSON");
    assert_eq!(meta, json!({"algorithm": "ES512", "issuer": "Example Corp", "expiration": 60}));
    let key: Value = get("/jwt/key").await.expect("key").json().await.expect("JSON");
    assert_eq!(key["data"].as_str().map(str::trim), Some(public_pem.trim()));

    // With verifications off, a signup is verified at once and answers a token (SPEC §3).
    let response = client
        .post(server.url("/registration/signup"))
        .json(&signup_body(EMAIL, PASSWORD, json!({})))
        .send()
        .await
        .expect("signup");
    assert_eq!(response.status().as_u16(), 200);
    let answer: Value = response.json().await.expect("JSON");
    assert_eq!(answer["verified"], true, "{answer}");
    let jwt = answer["jwt"].as_str().expect("jwt");
    assert!(signature_verifies(&public_pem, jwt), "signed with the README-made key");
    let claims = jwt_segment(jwt, 1);
    assert_eq!(claims["iss"], "Example Corp");
    let lifetime = claims["exp"].as_i64().zip(claims["iat"].as_i64()).map(|(exp, iat)| exp - iat);
    assert_eq!(lifetime, Some(60 * 60), "AUTHIFY_JWT_EXPIRATION is in minutes");
    let login: Value = client
        .post(server.url("/jwt/token"))
        .json(&json!({"email": EMAIL, "password": PASSWORD}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("JSON");
    assert!(login["jwt"].is_string(), "{login}");
    drop(server);
    drop(db);
}
