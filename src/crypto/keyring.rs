//! The keys this instance signs and verifies with, and the public documents derived from them
//! (PEM, JWK, JWKS), computed once at start-up so the hot paths only read them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use josekit::JoseError;
use josekit::jws::{JwsSigner, JwsVerifier};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::keyfile::KeyPair;
use super::{Algorithm, signer, verifier};

/// One public key that can verify tokens.
struct VerificationKey {
    kid: String,
    algorithm: Algorithm,
    verifier: Box<dyn JwsVerifier>,
}

/// The active signing key and every key that may still verify.
pub struct Keyring {
    algorithm: Algorithm,
    kid: String,
    signer: Box<dyn JwsSigner>,
    verification_keys: Vec<VerificationKey>,
    public_pem: String,
    jwks_json: Bytes,
}

impl Keyring {
    pub fn new(pair: &KeyPair) -> Result<Self, JoseError> {
        let algorithm = pair.algorithm;
        let jwk = public_jwk(algorithm, &pair.public_point);
        let kid = thumbprint(&jwk);
        let mut published = jwk.clone();
        published["kid"] = json!(kid);
        published["alg"] = json!(algorithm.name());
        published["use"] = json!("sig");
        let verifier = verifier::verifier_for(algorithm, &pair.public_spki_der, &pair.public_point);
        Ok(Self {
            algorithm,
            signer: signer::signer_for(algorithm, &pair.private_pkcs8_der, &kid)?,
            verification_keys: vec![VerificationKey { kid: kid.clone(), algorithm, verifier }],
            kid,
            public_pem: pair.public_pem.clone(),
            jwks_json: Bytes::from(json!({ "keys": [published] }).to_string()),
        })
    }

    /// The algorithm of the active signing key.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The RFC 7638 thumbprint of the active key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// PEM (SPKI) of the active public key, as served by `GET /jwt/key`.
    pub fn public_pem(&self) -> &str {
        &self.public_pem
    }

    /// The serialized JWK Set of every key that can verify (cheap to clone).
    pub fn jwks_json(&self) -> Bytes {
        self.jwks_json.clone()
    }

    pub(super) fn signer(&self) -> &dyn JwsSigner {
        self.signer.as_ref()
    }

    /// The key that verifies a token with header `kid` (the active key when absent), with its algorithm.
    pub(super) fn verification_key(&self, kid: Option<&str>) -> Option<(Algorithm, &dyn JwsVerifier)> {
        let key = match kid {
            Some(kid) => self.verification_keys.iter().find(|k| k.kid == kid)?,
            None => self.verification_keys.iter().find(|k| k.kid == self.kid)?,
        };
        Some((key.algorithm, key.verifier.as_ref()))
    }
}

/// The public JWK members of an uncompressed SEC1 point (`0x04 || x || y`).
fn public_jwk(algorithm: Algorithm, point: &[u8]) -> Value {
    let n = algorithm.coordinate_len();
    let (x, y) = point.get(1..).unwrap_or_default().split_at(n.min(point.len().saturating_sub(1)));
    json!({ "kty": "EC", "crv": algorithm.curve(), "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y) })
}

/// RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace.
fn thumbprint(jwk: &Value) -> String {
    let canonical = format!(r#"{{"crv":{},"kty":"EC","x":{},"y":{}}}"#, jwk["crv"], jwk["x"], jwk["y"]);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7638 has no EC example; this key is from RFC 7517 appendix A.1 and was checked with
    /// python-jwcrypto 1.6 (`JWK(...).thumbprint()`), which gives the same thumbprint.
    #[test]
    fn thumbprint_follows_rfc_7638_member_order() {
        let jwk = json!({
            "kty": "EC", "crv": "P-256",
            "x": "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
            "y": "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM",
        });
        assert_eq!(thumbprint(&jwk), "cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s");
    }
}
