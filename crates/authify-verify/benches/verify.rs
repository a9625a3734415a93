//! `Verifier::verify` against the bare backend signature check it wraps, per algorithm, and what
//! the poem middleware and the tower layer add to a request.
//!
//! `cargo bench -p authify-verify --all-features -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark set-up")]

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use authify_verify::{Algorithm, Verifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use p521::ecdsa::signature::{Signer as _, Verifier as _};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, UnparsedPublicKey};
use serde_json::json;

/// The bare backend check of a raw signature over a message.
type BareCheck = Box<dyn Fn(&[u8], &[u8]) -> bool>;

/// A token of `algorithm` with Authify's claims (about 330 bytes of payload), the JWKS with its
/// key, and the bare check of that signature.
struct Case {
    token: String,
    jwks: String,
    bare: BareCheck,
}

fn case(algorithm: Algorithm) -> Case {
    let rng = SystemRandom::new();
    let claims = json!({"exp": 4_000_000_000_i64, "iat": 1_700_000_000, "iss": "My Awesome Company Inc.",
        "scopes": ["user_access", "admin_access"], "sub": "172", "jti": "Yx4vQm2nK8pLr0sT1uVw3A",
        "user": {"username": "someuser@mycompany.com", "uid": 172, "organizations": [
            {"name": "acme", "oid": 4, "admin": true, "memberships": [{"name": "ops", "gid": 9}]}]}});
    let header = json!({"typ": "JWT", "alg": algorithm.name(), "kid": "k1"});
    let input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let (point, signature, bare): (Vec<u8>, Vec<u8>, BareCheck) = match algorithm {
        Algorithm::Es256 | Algorithm::Es384 => {
            let (signing, verifying) = match algorithm {
                Algorithm::Es256 => (&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &signature::ECDSA_P256_SHA256_FIXED),
                _ => (&signature::ECDSA_P384_SHA384_FIXED_SIGNING, &signature::ECDSA_P384_SHA384_FIXED),
            };
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(signing, &rng).unwrap();
            let pair = EcdsaKeyPair::from_pkcs8(signing, pkcs8.as_ref(), &rng).unwrap();
            let point = pair.public_key().as_ref().to_vec();
            let key = UnparsedPublicKey::new(verifying, point.clone());
            let signature = pair.sign(&rng, input.as_bytes()).unwrap().as_ref().to_vec();
            (point, signature, Box::new(move |m: &[u8], s: &[u8]| key.verify(m, s).is_ok()))
        }
        Algorithm::Es512 => {
            let mut scalar = [0u8; 66];
            ring::rand::SecureRandom::fill(&rng, &mut scalar[1..]).unwrap();
            let key = p521::ecdsa::SigningKey::from_slice(&scalar).unwrap();
            let signature: p521::ecdsa::Signature = key.sign(input.as_bytes());
            let verifying = *key.verifying_key();
            let point = verifying.to_sec1_point(false).as_bytes().to_vec();
            let bare = move |m: &[u8], s: &[u8]| {
                p521::ecdsa::Signature::from_slice(s).is_ok_and(|s| verifying.verify(m, &s).is_ok())
            };
            (point, signature.to_bytes().to_vec(), Box::new(bare))
        }
    };
    let len = algorithm.coordinate_len();
    let jwk = json!({"kty": "EC", "crv": algorithm.curve(), "alg": algorithm.name(), "use": "sig", "kid": "k1",
        "x": URL_SAFE_NO_PAD.encode(&point[1..=len]), "y": URL_SAFE_NO_PAD.encode(&point[1 + len..])});
    let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(&signature));
    Case { token, jwks: json!({ "keys": [jwk] }).to_string(), bare }
}

fn verifier(case: &Case) -> Verifier {
    Verifier::from_jwks_json(&case.jwks).unwrap().issuer("My Awesome Company Inc.").build().unwrap()
}

/// Polls a future that never waits (keys cached, in-memory request) to completion.
fn ready<T>(future: impl Future<Output = T>) -> T {
    let mut future = pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("the future waited"),
    }
}

fn verify_against_bare_check(c: &mut Criterion) {
    for algorithm in Algorithm::ALL {
        let case = case(algorithm);
        let verifier = verifier(&case);
        let (input, signature) = case.token.rsplit_once('.').unwrap();
        let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
        assert!((case.bare)(input.as_bytes(), &signature) && ready(verifier.verify(&case.token)).is_ok());
        let mut group = c.benchmark_group(algorithm.name());
        group.bench_function("bare signature check", |b| {
            b.iter(|| (case.bare)(black_box(input.as_bytes()), black_box(&signature)))
        });
        group.bench_function("Verifier::verify", |b| b.iter(|| ready(verifier.verify(black_box(&case.token)))));
        group.finish();
    }
}

fn middleware_overhead(c: &mut Criterion) {
    use authify_verify::poem::AuthifyAuth;
    use poem::{Endpoint, EndpointExt, Request, Route, get, handler};

    #[handler]
    fn hello() -> &'static str {
        "hello"
    }

    let case = case(Algorithm::Es256);
    let verifier = verifier(&case);
    let bearer = format!("Bearer {}", case.token);
    let request = || Request::builder().uri_str("/hello").header("authorization", bearer.as_str()).finish();
    let plain = Route::new().at("/hello", get(hello));
    let guarded = Route::new().at("/hello", get(hello)).with(AuthifyAuth::new(verifier.clone()));
    assert_eq!(ready(guarded.call(request())).map(|r| r.status().as_u16()).ok(), Some(200));

    let mut group = c.benchmark_group("middleware (ES256)");
    group.bench_function("Verifier::verify alone", |b| b.iter(|| ready(verifier.verify(black_box(&case.token)))));
    group.bench_function("poem endpoint", |b| b.iter(|| ready(plain.call(request()))));
    group.bench_function("poem endpoint + AuthifyAuth", |b| b.iter(|| ready(guarded.call(request()))));

    use authify_verify::tower::AuthifyLayer;
    use tower_service::Service;
    let axum_request = || {
        axum::http::Request::builder()
            .uri("/hello")
            .header("authorization", bearer.as_str())
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let router = axum::Router::new().route("/hello", axum::routing::get(|| async { "hello" }));
    let layered = router.clone().layer(AuthifyLayer::new(verifier.clone()));
    group.bench_function("axum router", |b| b.iter(|| ready(router.clone().call(axum_request()))));
    group.bench_function("axum router + AuthifyLayer", |b| b.iter(|| ready(layered.clone().call(axum_request()))));
    group.finish();
}

criterion_group!(benches, verify_against_bare_check, middleware_overhead);
criterion_main!(benches);
