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

/// One public key that can verify tokens until `until` (Unix seconds).
struct VerificationKey {
    kid: String,
    algorithm: Algorithm,
    verifier: Box<dyn JwsVerifier>,
    until: i64,
    jwk: Value,
}

/// A key that signs from `from` (Unix seconds) until the next one's `from`.
struct SigningKey {
    from: i64,
    algorithm: Algorithm,
    kid: String,
    signer: Box<dyn JwsSigner>,
    public_pem: String,
}

/// A pair that joins the keyring with a rotation (see [`super::rotation`]).
pub enum RotatedPair<'a> {
    /// Published at once; signs from the given time, after which the current pair only verifies,
    /// for `token_lifetime` seconds more.
    Next { pair: &'a KeyPair, signs_from: i64, token_lifetime: i64 },
    /// Only verifies, until the given time.
    Previous { pair: &'a KeyPair, verifies_until: i64 },
}

/// The signing key of each moment and every key that may still verify; the public documents
/// (PEM, JWKS) are computed here once, so the hot paths only read them.
pub struct Keyring {
    algorithm: Algorithm,
    /// By `from`, ascending; the first signs from the beginning of time.
    signing: Vec<SigningKey>,
    verification_keys: Vec<VerificationKey>,
    /// The serialized JWK Set that holds until each time, ascending.
    jwks: Vec<(i64, Bytes)>,
}

impl Keyring {
    /// One pair that signs and verifies.
    pub fn new(pair: &KeyPair) -> Result<Self, JoseError> {
        Self::rotating(pair, &[])
    }

    /// The current pair with the pairs of a rotation.
    pub fn rotating(current: &KeyPair, rotated: &[RotatedPair<'_>]) -> Result<Self, JoseError> {
        let mut keyring =
            Self { algorithm: current.algorithm, signing: Vec::new(), verification_keys: Vec::new(), jwks: Vec::new() };
        let mut current_until = i64::MAX;
        for entry in rotated {
            match *entry {
                RotatedPair::Next { pair, signs_from, token_lifetime } => {
                    keyring.add(pair, Some(signs_from), i64::MAX)?;
                    current_until = signs_from.saturating_add(token_lifetime);
                }
                RotatedPair::Previous { pair, verifies_until } => keyring.add(pair, None, verifies_until)?,
            }
        }
        keyring.add(current, Some(i64::MIN), current_until)?;
        keyring.signing.sort_by_key(|key| key.from);
        keyring.jwks = jwks_by_time(&keyring.verification_keys);
        Ok(keyring)
    }

    /// Adds `pair`: signing from `signs_from` (when it signs at all) and verifying until `until`.
    fn add(&mut self, pair: &KeyPair, signs_from: Option<i64>, until: i64) -> Result<(), JoseError> {
        let algorithm = pair.algorithm;
        let mut jwk = public_jwk(algorithm, &pair.public_point);
        let kid = thumbprint(&jwk);
        if let Some(from) = signs_from {
            let signer = signer::signer_for(algorithm, &pair.private_pkcs8_der, &kid)?;
            let public_pem = pair.public_pem.clone();
            self.signing.push(SigningKey { from, algorithm, kid: kid.clone(), signer, public_pem });
        }
        jwk["kid"] = json!(kid);
        jwk["alg"] = json!(algorithm.name());
        jwk["use"] = json!("sig");
        let verifier = verifier::verifier_for(algorithm, &pair.public_spki_der, &pair.public_point);
        self.verification_keys.push(VerificationKey { kid, algorithm, verifier, until, jwk });
        Ok(())
    }

    /// The algorithm of the key that signed first (with key files: of every key).
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The algorithm of the key that signs at `at` (a shared key store may change algorithm at a
    /// rotation, when AUTHIFY_JWT_ALGORITHM changed).
    pub fn signing_algorithm(&self, at: i64) -> Algorithm {
        self.signing_key(at).algorithm
    }

    /// The RFC 7638 thumbprint of the key that signs at `at` (Unix seconds, the service's clock).
    pub fn kid(&self, at: i64) -> &str {
        &self.signing_key(at).kid
    }

    /// PEM (SPKI) of the public key that signs at `at`, as served by `GET /jwt/key`.
    pub fn public_pem(&self, at: i64) -> &str {
        &self.signing_key(at).public_pem
    }

    /// The serialized JWK Set of every key that can verify at `at` (cheap to clone).
    pub fn jwks_json(&self, at: i64) -> Bytes {
        self.jwks.iter().find(|(until, _)| at < *until).map(|(_, jwks)| jwks.clone()).unwrap_or_default()
    }

    /// The first time after `at` when the signing key changes or a key stops verifying.
    pub fn next_change(&self, at: i64) -> Option<i64> {
        let starts = self.signing.iter().map(|k| k.from);
        let ends = self.verification_keys.iter().map(|k| k.until);
        starts.chain(ends).filter(|t| *t > at && *t != i64::MAX).min()
    }

    fn signing_key(&self, at: i64) -> &SigningKey {
        self.signing.iter().rev().find(|key| key.from <= at).unwrap_or(&self.signing[0])
    }

    /// The key that signs at `at` and its kid.
    pub(super) fn signer(&self, at: i64) -> (&str, &dyn JwsSigner) {
        let key = self.signing_key(at);
        (&key.kid, key.signer.as_ref())
    }

    /// The key that verifies, at `at`, a token with header `kid` (the signing key when absent),
    /// with its algorithm.
    pub(super) fn verification_key(&self, kid: Option<&str>, at: i64) -> Option<(Algorithm, &dyn JwsVerifier)> {
        let kid = kid.unwrap_or(&self.signing_key(at).kid);
        let key = self.verification_keys.iter().find(|k| k.kid == kid && at < k.until)?;
        Some((key.algorithm, key.verifier.as_ref()))
    }
}

/// The RFC 7638 thumbprint of a pair's public key, as the JWKS publishes it.
pub fn kid_of(pair: &KeyPair) -> String {
    thumbprint(&public_jwk(pair.algorithm, &pair.public_point))
}

/// The JWK Set of each span between the times keys stop verifying: `(until, JWKS)`, ascending.
fn jwks_by_time(keys: &[VerificationKey]) -> Vec<(i64, Bytes)> {
    let mut ends: Vec<i64> = keys.iter().map(|k| k.until).collect();
    ends.push(i64::MAX);
    ends.sort_unstable();
    ends.dedup();
    let mut spans = Vec::new();
    let mut start = i64::MIN;
    for end in ends {
        let published: Vec<&Value> = keys.iter().filter(|k| start < k.until).map(|k| &k.jwk).collect();
        spans.push((end, Bytes::from(json!({ "keys": published }).to_string())));
        start = end;
    }
    spans
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

    /// A rotation: the next key is published at once and signs from its time; the current one
    /// verifies for a token lifetime more; the previous one until its time; then each leaves the JWKS.
    #[test]
    fn a_rotation_hands_signing_over_and_retires_keys_at_their_times() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pairs: Vec<KeyPair> = (0..3)
            .map(|n| super::super::keyfile::generated_pair(dir.path(), Algorithm::Es256, &n.to_string()))
            .collect();
        let (current, next, previous) = (&pairs[0], &pairs[1], &pairs[2]);
        let rotated = [
            RotatedPair::Next { pair: next, signs_from: 1000, token_lifetime: 100 },
            RotatedPair::Previous { pair: previous, verifies_until: 500 },
        ];
        let keyring = Keyring::rotating(current, &rotated).expect("keyring");
        let kid = kid_of;
        let published = |at: i64| -> Vec<String> {
            let jwks: Value = serde_json::from_slice(&keyring.jwks_json(at)).expect("JSON");
            jwks["keys"].as_array().expect("keys").iter().map(|k| k["kid"].as_str().unwrap_or("").to_owned()).collect()
        };
        let verifies = |pair: &KeyPair, at: i64| keyring.verification_key(Some(&kid(pair)), at).is_some();

        assert_eq!(keyring.signing_key(999).kid, kid(current));
        assert_eq!(keyring.signing_key(1000).kid, kid(next));
        assert_eq!(keyring.signing_key(1000).public_pem, next.public_pem);
        assert_eq!(published(499).len(), 3);
        assert_eq!(published(500), vec![kid(next), kid(current)]);
        assert_eq!(published(1099), vec![kid(next), kid(current)]);
        assert_eq!(published(1100), vec![kid(next)]);
        assert!(verifies(previous, 499) && !verifies(previous, 500));
        assert!(verifies(current, 1099) && !verifies(current, 1100));
        assert!(verifies(next, 0) && verifies(next, i64::MAX - 1));
        // A token without `kid` (Authify's) is checked with the key that signs at that moment.
        assert!(keyring.verification_key(None, 1200).is_some());
    }

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
