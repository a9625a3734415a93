//! The relying side: `authify-verify` (crates/authify-verify) verifying the tokens of a running
//! Authify, fetching its keys through a counting relay (support/relay.rs).

use std::time::Duration;

use authify::crypto::Algorithm;
use authify_verify::{Error, Verifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::plain_tests;
use crate::support::app::{Backend, TestApp, jwt_segment, spawn};
use crate::support::relay::Relay;

plain_tests!(
    tokens_of_every_algorithm_verify_through_discovery_and_from_the_pem,
    expired_tampered_and_foreign_tokens_are_refused_with_the_failed_check,
    a_key_rotation_fails_no_verification,
    verification_goes_on_from_the_cache_while_authify_is_down,
    a_flood_of_unknown_kids_fetches_the_jwks_at_most_once_per_interval
);

const JWKS: &str = "/.well-known/jwks.json";
const DISCOVERY: &str = "/.well-known/openid-configuration";

/// An instance whose discovery document points at `relay`, and the relay pointed at it.
pub(crate) async fn behind_relay(algorithm: Algorithm, jwks_max_age: u32) -> (Relay, TestApp) {
    let relay = Relay::start().await;
    let public_url = relay.url();
    let app = spawn(Backend::Sqlite)
        .algorithm(algorithm)
        .settings(move |s| {
            s.public_url = public_url;
            s.jwks_max_age = jwks_max_age;
        })
        .start()
        .await;
    relay.point_to(Some(format!("http://{}", app.addr)));
    (relay, app)
}

/// A token naming `kid` with `token`'s header, payload and signature otherwise.
fn with_kid(token: &str, kid: &str) -> String {
    let mut header = jwt_segment(token, 0);
    header["kid"] = Value::from(kid);
    let rest = token.split_once('.').expect("segments").1;
    format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header.to_string()))
}

async fn tokens_of_every_algorithm_verify_through_discovery_and_from_the_pem() {
    for algorithm in Algorithm::ALL {
        let (relay, app) = behind_relay(algorithm, 300).await;
        let user = app.insert_user("rp@example.com", true, true).await;
        let token = app.token_for("rp@example.com").await;
        let verifier = Verifier::discover(relay.url()).build().expect("verifier");
        for _ in 0..3 {
            let claims = verifier.verify(&token).await.expect("verifies");
            assert_eq!(claims.iss.as_deref(), Some("My Awesome Company Inc."), "{algorithm}");
            let named = claims.user.as_ref().expect("user");
            assert_eq!((named.uid, named.username.as_str()), (user.id, "rp@example.com"));
            assert_eq!(claims.sub, Some(user.id.to_string()));
            assert!(claims.has_scope("user_access") && claims.has_scope("admin_access"), "{algorithm}");
            assert!(claims.jti.is_some() && claims.exp > claims.iat);
        }
        assert_eq!((relay.count(DISCOVERY), relay.count(JWKS)), (1, 1), "{algorithm}: fetched once, then cached");

        let key: Value = app.get("/jwt/key").await.json().await.expect("key");
        let pem = Verifier::from_pem(key["data"].as_str().expect("PEM")).expect("PEM key");
        let pem = pem.issuer("My Awesome Company Inc.").build().expect("verifier");
        assert!(pem.verify(&token).await.is_ok(), "{algorithm}: from the PEM of /jwt/key");
    }
}

async fn expired_tampered_and_foreign_tokens_are_refused_with_the_failed_check() {
    let (relay, app) = behind_relay(Algorithm::Es512, 300).await;
    app.insert_user("rp@example.com", true, false).await;
    let verifier = Verifier::discover(relay.url()).build().expect("verifier");

    app.clock.advance(-2 * 3600);
    let expired = app.token_for("rp@example.com").await;
    app.clock.advance(2 * 3600);
    assert_eq!(verifier.verify(&expired).await, Err(Error::Expired));

    let token = app.token_for("rp@example.com").await;
    let (header, rest) = token.split_once('.').expect("segments");
    let signature = rest.split_once('.').expect("segments").1;
    let mut payload = jwt_segment(&token, 1);
    payload["scopes"] = serde_json::json!(["user_access", "admin_access"]);
    let tampered = format!("{header}.{}.{signature}", URL_SAFE_NO_PAD.encode(payload.to_string()));
    assert_eq!(verifier.verify(&tampered).await, Err(Error::BadSignature));
    let relabelled = {
        let mut header = jwt_segment(&token, 0);
        header["alg"] = Value::from("ES256");
        format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header.to_string()))
    };
    assert!(matches!(verifier.verify(&relabelled).await, Err(Error::AlgorithmMismatch { .. })));

    // Another Authify, with its own keys and issuer.
    let other = spawn(Backend::Sqlite)
        .algorithm(Algorithm::Es512)
        .settings(|s| s.jwt_issuer = "Other Company".into())
        .start()
        .await;
    other.insert_user("rp@example.com", true, false).await;
    let foreign = other.token_for("rp@example.com").await;
    assert!(matches!(verifier.verify(&foreign).await, Err(Error::UnknownKey(Some(_)))));
    let others_keys = Verifier::from_jwks_url(other.url(JWKS)).issuer("My Awesome Company Inc.").build().expect("v");
    assert_eq!(
        others_keys.verify(&foreign).await,
        Err(Error::WrongIssuer { expected: "My Awesome Company Inc.".into(), found: "Other Company".into() })
    );
    assert!(verifier.verify(&token).await.is_ok(), "the genuine token still verifies");
}

async fn a_key_rotation_fails_no_verification() {
    // Authify's JWKS may be cached for 1 s here, so the relying service sees the published key soon.
    let (relay, app) = behind_relay(Algorithm::Es256, 1).await;
    app.insert_user("rp@example.com", true, false).await;
    let verifier = Verifier::discover(relay.url()).build().expect("verifier");
    let before = app.token_for("rp@example.com").await;
    verifier.verify(&before).await.expect("the first key verifies");

    // `authify keys rotate` on the instance's key files: the next key is published at once and
    // signs 5 s later; the instance is restarted to load it (as the command says to).
    let db_url = app.settings.db_url.clone();
    let env = [("AUTHIFY_JWT_ALGORITHM", "ES256"), ("AUTHIFY_KEY_ROTATION_DELAY", "5"), ("AUTHIFY_DB_URL", &db_url)];
    let rotated = crate::cli::run(app.dir.path(), &env, &["keys", "rotate"], "");
    assert!(rotated.status.success(), "{}", String::from_utf8_lossy(&rotated.stderr));
    let restarted = app.second_instance(|_| {}).await;
    relay.point_to(Some(format!("http://{}", restarted.addr)));
    drop(app);

    for _ in 0..5 {
        verifier.verify(&before).await.expect("the old key goes on verifying");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    restarted.clock.advance(10);
    let after = restarted.token_for("rp@example.com").await;
    assert_ne!(jwt_segment(&after, 0)["kid"], jwt_segment(&before, 0)["kid"], "the next key signs");
    verifier.verify(&after).await.expect("the new key verifies");
    verifier.verify(&before).await.expect("and the old one still does");
}

async fn verification_goes_on_from_the_cache_while_authify_is_down() {
    let app = spawn(Backend::Sqlite).settings(|s| s.jwks_max_age = 1).start().await;
    app.insert_user("rp@example.com", true, false).await;
    let token = app.token_for("rp@example.com").await;
    let verifier = Verifier::from_jwks_url(app.url(JWKS)).build().expect("verifier");
    verifier.verify(&token).await.expect("verifies while Authify is up");

    let addr = app.addr;
    drop(app);
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "Authify is down");
    tokio::time::sleep(Duration::from_millis(1100)).await; // past the JWKS max-age

    assert!(matches!(verifier.refresh().await, Err(Error::KeysUnavailable(_))), "fetching fails");
    for _ in 0..3 {
        verifier.verify(&token).await.expect("the last good key set goes on verifying");
    }
    assert!(matches!(verifier.verify(&with_kid(&token, "nope")).await, Err(Error::UnknownKey(_))));
    let never_fetched = Verifier::from_jwks_url(format!("http://{addr}{JWKS}")).build().expect("verifier");
    assert!(matches!(never_fetched.verify(&token).await, Err(Error::KeysUnavailable(_))));
}

async fn a_flood_of_unknown_kids_fetches_the_jwks_at_most_once_per_interval() {
    let (relay, app) = behind_relay(Algorithm::Es256, 300).await;
    app.insert_user("rp@example.com", true, false).await;
    let token = app.token_for("rp@example.com").await;
    let verifier = Verifier::discover(relay.url()).refetch_interval(Duration::from_secs(2)).build().expect("verifier");
    verifier.verify(&token).await.expect("verifies");
    assert_eq!(relay.count(JWKS), 1);

    let flood = |round: usize| {
        let verifier = verifier.clone();
        let forged: Vec<String> = (0..200).map(|n| with_kid(&token, &format!("garbage-{round}-{n}"))).collect();
        async move {
            let checks = forged.iter().map(|token| verifier.verify(token));
            futures::future::join_all(checks).await
        }
    };
    let refused = flood(1).await;
    assert!(refused.iter().all(|r| matches!(r, Err(Error::UnknownKey(_)))), "every forged kid is refused");
    assert!(relay.count(JWKS) <= 2, "200 unknown kids: at most one refetch, saw {}", relay.count(JWKS) - 1);
    verifier.verify(&token).await.expect("the real key still verifies");

    tokio::time::sleep(Duration::from_millis(2100)).await;
    let fetched = relay.count(JWKS);
    flood(2).await;
    assert!(relay.count(JWKS) <= fetched + 1, "one more refetch after the interval at most");
    assert_eq!(relay.count(DISCOVERY), 1, "discovery is read once");
}

plain_tests!(requires_env = "AUTHIFY_TEST_INTEROP_DIR"; pyjwt_and_node_jose_verify_authify_tokens_from_the_jwks);

/// PyJWT (`PyJWKClient`) and Node's `jose` (`createRemoteJWKSet`) fetch the live JWKS and verify a
/// token of each algorithm, refusing a tampered one: tests/interop/*, the code the crate's README
/// shows. `.ci/run` installs both under target/interop and sets AUTHIFY_TEST_INTEROP_DIR to it.
async fn pyjwt_and_node_jose_verify_authify_tokens_from_the_jwks() {
    let interop = std::path::PathBuf::from(std::env::var("AUTHIFY_TEST_INTEROP_DIR").expect("set"));
    let scripts = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop");
    let jose = std::fs::read_to_string(scripts.join("verify_jose.mjs")).expect("jose script");
    for algorithm in Algorithm::ALL {
        let app = spawn(Backend::Sqlite).algorithm(algorithm).start().await;
        let user = app.insert_user("rp@example.com", true, false).await;
        let token = app.token_for("rp@example.com").await;
        let (header, rest) = token.split_once('.').expect("segments");
        let signature = rest.split_once('.').expect("segments").1;
        let mut payload = jwt_segment(&token, 1);
        payload["scopes"] = serde_json::json!(["user_access", "admin_access"]);
        let tampered = format!("{header}.{}.{signature}", URL_SAFE_NO_PAD.encode(payload.to_string()));
        let env = [
            ("JWKS_URL", app.url(JWKS)),
            ("TOKEN", token.clone()),
            ("TAMPERED", tampered),
            ("ISSUER", "My Awesome Company Inc.".to_owned()),
        ];
        let python = interop.join("venv/bin/python");
        let mut pyjwt = std::process::Command::new(python);
        pyjwt.arg(scripts.join("verify_pyjwt.py"));
        // `node -e` resolves `jose` from its working directory's node_modules.
        let mut node = std::process::Command::new("node");
        node.current_dir(&interop).args(["--input-type=module", "-e", &jose]);
        for (name, mut command) in [("PyJWT", pyjwt), ("jose", node)] {
            command.envs(env.clone());
            let output = tokio::task::spawn_blocking(move || command.output())
                .await
                .expect("join")
                .unwrap_or_else(|e| panic!("{name} does not run: {e}"));
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(output.status.success(), "{name} {algorithm}: {}", String::from_utf8_lossy(&output.stderr));
            assert_eq!(stdout.trim(), user.id.to_string(), "{name} {algorithm}");
        }
    }
}
