//! `Verifier::verify` end to end on tokens signed here, one check at a time, for every algorithm.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p521::ecdsa::signature::Signer as _;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};

use crate::{Algorithm, Error, Verifier};

/// A signing key of one algorithm, as Authify would hold it.
pub(crate) enum TestKey {
    Ring(Algorithm, Box<EcdsaKeyPair>),
    P521(Box<p521::ecdsa::SigningKey>),
}

impl TestKey {
    pub fn new(algorithm: Algorithm) -> Self {
        let rng = SystemRandom::new();
        let ring = |alg| {
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).expect("generate");
            EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).expect("key pair")
        };
        match algorithm {
            Algorithm::Es256 => Self::Ring(algorithm, Box::new(ring(&ECDSA_P256_SHA256_FIXED_SIGNING))),
            Algorithm::Es384 => Self::Ring(algorithm, Box::new(ring(&ECDSA_P384_SHA384_FIXED_SIGNING))),
            Algorithm::Es512 => {
                let mut scalar = [0u8; 66];
                ring::rand::SecureRandom::fill(&rng, &mut scalar[1..]).expect("random");
                Self::P521(Box::new(p521::ecdsa::SigningKey::from_slice(&scalar).expect("P-521 key")))
            }
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        match self {
            Self::Ring(algorithm, _) => *algorithm,
            Self::P521(_) => Algorithm::Es512,
        }
    }

    fn point(&self) -> Vec<u8> {
        match self {
            Self::Ring(_, pair) => pair.public_key().as_ref().to_vec(),
            Self::P521(key) => key.verifying_key().to_sec1_point(false).as_bytes().to_vec(),
        }
    }

    /// The public JWK with `kid`.
    pub fn jwk(&self, kid: &str) -> Value {
        let point = self.point();
        let len = self.algorithm().coordinate_len();
        json!({"kty": "EC", "crv": self.algorithm().curve(), "alg": self.algorithm().name(), "use": "sig",
            "kid": kid, "x": URL_SAFE_NO_PAD.encode(&point[1..=len]), "y": URL_SAFE_NO_PAD.encode(&point[1 + len..])})
    }

    pub fn sign_raw(&self, message: &[u8]) -> Vec<u8> {
        match self {
            Self::Ring(_, pair) => pair.sign(&SystemRandom::new(), message).expect("sign").as_ref().to_vec(),
            Self::P521(key) => {
                let signature: p521::ecdsa::Signature = key.sign(message);
                signature.to_bytes().to_vec()
            }
        }
    }

    /// A token with `header` and `claims`, signed by this key.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(self.sign_raw(input.as_bytes())))
    }

    /// An Authify-style token: `alg` and `kid` in the header, Authify's claims, valid for 15 minutes.
    pub fn token(&self, kid: &str, extra: Value) -> String {
        let mut claims = authify_claims();
        if let (Some(claims), Value::Object(extra)) = (claims.as_object_mut(), extra) {
            claims.extend(extra);
        }
        self.sign(&json!({"typ": "JWT", "alg": self.algorithm().name(), "kid": kid}), &claims)
    }
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs() as i64
}

pub(crate) fn authify_claims() -> Value {
    json!({"exp": now() + 900, "iat": now(), "iss": "Authify Test", "scopes": ["user_access"],
        "user": {"username": "a@example.com", "uid": 7, "organizations": []}, "sub": "7", "jti": "j1"})
}

fn verifier_for(key: &TestKey) -> Verifier {
    let jwks = json!({"keys": [key.jwk("k1")]}).to_string();
    Verifier::from_jwks_json(&jwks).expect("JWKS").issuer("Authify Test").build().expect("verifier")
}

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().build().expect("runtime").block_on(future)
}

#[test]
fn a_good_token_of_each_algorithm_verifies_into_claims() {
    for algorithm in Algorithm::ALL {
        let key = TestKey::new(algorithm);
        let claims = block_on(verifier_for(&key).verify(&key.token("k1", json!({})))).expect("verifies");
        assert_eq!(claims.user.expect("user").uid, 7, "{algorithm}");
        assert!(claims.scopes.contains(&"user_access".to_owned()));
    }
}

#[test]
fn a_tampered_token_or_another_keys_signature_is_refused() {
    for algorithm in Algorithm::ALL {
        let key = TestKey::new(algorithm);
        let verifier = verifier_for(&key);
        let token = key.token("k1", json!({}));
        let (rest, signature) = token.rsplit_once('.').expect("segments");
        let (header, _) = rest.split_once('.').expect("segments");
        let forged = URL_SAFE_NO_PAD.encode(json!({"sub": "1", "scopes": ["admin_access"]}).to_string());
        assert_eq!(verifier.verify_cached(&format!("{header}.{forged}.{signature}")), Err(Error::BadSignature));
        let other = TestKey::new(algorithm).token("k1", json!({}));
        assert_eq!(verifier.verify_cached(&other), Err(Error::BadSignature), "{algorithm}");
        let short = &token[..token.len() - 4];
        assert!(verifier.verify_cached(short).is_err());
    }
}

#[test]
fn the_algorithm_is_pinned_by_the_key_never_none_or_hmac() {
    let key = TestKey::new(Algorithm::Es256);
    let verifier = verifier_for(&key);
    let claims = authify_claims();
    for alg in ["ES384", "none", "HS256", "RS256"] {
        let token = key.sign(&json!({"alg": alg, "kid": "k1"}), &claims);
        assert_eq!(
            verifier.verify_cached(&token),
            Err(Error::AlgorithmMismatch { expected: Algorithm::Es256, found: alg.into() }),
            "{alg}"
        );
    }
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"k1"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    assert!(matches!(verifier.verify_cached(&unsigned), Err(Error::AlgorithmMismatch { .. })));
}

#[test]
fn each_claim_check_names_itself() {
    let key = TestKey::new(Algorithm::Es256);
    let verifier = verifier_for(&key);
    let check = |extra: Value| verifier.verify_cached(&key.token("k1", extra));
    assert_eq!(check(json!({"exp": now() - 61})), Err(Error::Expired));
    assert_eq!(check(json!({"nbf": now() + 120})), Err(Error::NotYetValid));
    assert_eq!(check(json!({"iat": now() + 120})), Err(Error::IssuedInFuture));
    assert!(matches!(check(json!({"iss": "Someone Else"})), Err(Error::WrongIssuer { .. })));
    assert_eq!(check(json!({"aud": "api"})), Err(Error::WrongAudience));
    assert_eq!(check(json!({"exp": null})), Err(Error::MissingClaim("exp")));
    assert!(matches!(check(json!({"scopes": "admin_access"})), Err(Error::Malformed(_))));
    assert_eq!(verifier.verify_cached(&key.token("k2", json!({}))), Err(Error::UnknownKey(Some("k2".into()))));
}

#[test]
fn leeway_and_audience_are_configurable() {
    let key = TestKey::new(Algorithm::Es384);
    let jwks = json!({"keys": [key.jwk("k1")]}).to_string();
    let verifier = Verifier::from_jwks_json(&jwks)
        .expect("JWKS")
        .leeway(std::time::Duration::from_secs(300))
        .audience("api")
        .build()
        .expect("verifier");
    let claims = verifier.verify_cached(&key.token("k1", json!({"exp": now() - 200, "aud": ["web", "api"]})));
    assert!(claims.is_ok(), "{claims:?}");
    assert_eq!(verifier.verify_cached(&key.token("k1", json!({"aud": "web"}))), Err(Error::WrongAudience));
}

#[test]
fn a_pem_verifier_knows_its_key_by_thumbprint() {
    let pem = crate::key_set::tests::PEM;
    let verifier = Verifier::from_pem(pem).expect("PEM").build().expect("verifier");
    let key = TestKey::new(Algorithm::Es256);
    let token = key.token("cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s", json!({}));
    assert_eq!(verifier.verify_cached(&token), Err(Error::BadSignature), "the kid matches, the key does not");
    assert!(matches!(verifier.verify_cached(&key.token("other", json!({}))), Err(Error::UnknownKey(_))));
}
