//! A relying service's view: fetch the JWKS, verify tokens with an independent library.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::ecdsa::EcdsaSig;
use openssl::hash::{MessageDigest, hash};
use openssl::nid::Nid;
use serde_json::Value;

use authify::crypto::Algorithm;

use crate::plain_tests;
use crate::support::app::{Backend, spawn};

plain_tests!(
    tokens_verify_with_an_independent_library_from_the_published_jwks,
    the_discovery_document_names_the_issuer_url_and_the_oauth_endpoints
);

/// ES256 and ES384 through the `jsonwebtoken` crate, from the published JWKS, checking iss and exp.
fn verify_with_jsonwebtoken(jwks: &JwkSet, token: &str, algorithm: jsonwebtoken::Algorithm) -> Value {
    let header = decode_header(token).expect("header");
    let kid = header.kid.expect("kid in header");
    let jwk = jwks.find(&kid).expect("the JWKS publishes the token's kid");
    let key = DecodingKey::from_jwk(jwk).expect("decoding key from JWK");
    let mut validation = Validation::new(algorithm);
    validation.set_issuer(&["My Awesome Company Inc."]);
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    decode::<Value>(token, &key, &validation).expect("independent verification").claims
}

/// ES512 (which `jsonwebtoken` lacks) with raw OpenSSL ECDSA over the JWK's coordinates; the
/// service signs ES512 with RustCrypto, so this is still a second implementation.
pub(crate) fn verify_es512_with_openssl(jwk: &Value, token: &str) -> bool {
    let coordinate = |name: &str| {
        BigNum::from_slice(&URL_SAFE_NO_PAD.decode(jwk[name].as_str().expect("coordinate")).expect("base64"))
            .expect("bn")
    };
    let group = EcGroup::from_curve_name(Nid::SECP521R1).expect("P-521");
    let key =
        EcKey::from_public_key_affine_coordinates(&group, &coordinate("x"), &coordinate("y")).expect("point on curve");
    key.check_key().expect("valid public key");
    let (signing_input, signature) = token.rsplit_once('.').expect("three segments");
    let signature = URL_SAFE_NO_PAD.decode(signature).expect("signature");
    assert_eq!(signature.len(), 132);
    let r = BigNum::from_slice(&signature[..66]).expect("r");
    let s = BigNum::from_slice(&signature[66..]).expect("s");
    let sig = EcdsaSig::from_private_components(r, s).expect("signature");
    let digest = hash(MessageDigest::sha512(), signing_input.as_bytes()).expect("sha512");
    sig.verify(&digest, &key).expect("verify")
}

async fn tokens_verify_with_an_independent_library_from_the_published_jwks() {
    for algorithm in Algorithm::ALL {
        let app = spawn(Backend::Sqlite).algorithm(algorithm).start().await;
        let user = app.insert_user("rp@example.com", true, false).await;
        let token = app.token_for("rp@example.com").await;
        let response = app.get("/.well-known/jwks.json").await;
        assert_eq!(response.headers()["cache-control"], "public, max-age=300");
        let jwks: Value = response.json().await.expect("jwks");
        let key = &jwks["keys"][0];
        assert_eq!(key["crv"], algorithm.curve());
        assert_eq!(key["alg"], algorithm.name());
        assert_eq!(key["use"], "sig");
        let coordinate_len = URL_SAFE_NO_PAD.decode(key["x"].as_str().expect("x")).expect("x").len();
        assert_eq!(coordinate_len, algorithm.coordinate_len(), "coordinates keep their leading zeros");

        match algorithm {
            Algorithm::Es512 => {
                assert!(verify_es512_with_openssl(key, &token), "ES512 signature verifies");
                let (header, rest) = token.split_once('.').expect("segments");
                let signature = rest.split_once('.').expect("segments").1;
                let forged = format!("{header}.{}.{signature}", URL_SAFE_NO_PAD.encode(br#"{"sub":"1"}"#));
                assert!(!verify_es512_with_openssl(key, &forged), "a forged payload fails");
            }
            other => {
                let jwks: JwkSet = serde_json::from_value(jwks.clone()).expect("JWKS parses as RFC 7517");
                let alg = if other == Algorithm::Es256 {
                    jsonwebtoken::Algorithm::ES256
                } else {
                    jsonwebtoken::Algorithm::ES384
                };
                let claims = verify_with_jsonwebtoken(&jwks, &token, alg);
                assert_eq!(claims["sub"], user.id.to_string());
            }
        }
    }
}

async fn the_discovery_document_names_the_issuer_url_and_the_oauth_endpoints() {
    let app = spawn(Backend::Sqlite)
        .algorithm(Algorithm::Es384)
        .settings(|s| s.public_url = "https://auth.example.com".into())
        .start()
        .await;
    let doc: Value = app.get("/.well-known/openid-configuration").await.json().await.expect("json");
    // The issuer is a URL (the ID tokens' `iss`); `/jwt/token` keeps AUTHIFY_JWT_ISSUER.
    assert_eq!(doc["issuer"], "https://auth.example.com");
    assert_eq!(doc["jwks_uri"], "https://auth.example.com/.well-known/jwks.json");
    assert_eq!(doc["token_endpoint"], "https://auth.example.com/oauth2/token");
    assert_eq!(doc["authorization_endpoint"], "https://auth.example.com/oauth2/authorize");
    assert_eq!(doc["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(doc["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    assert_eq!(doc["id_token_signing_alg_values_supported"], serde_json::json!(["ES384"]));
}
