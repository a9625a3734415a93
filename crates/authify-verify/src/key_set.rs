//! A set of public keys, read from a JWK Set (RFC 7517) or from the SPKI PEM of `GET /jwt/key`.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;
use spki::der::Decode;
use spki::{ObjectIdentifier, SubjectPublicKeyInfoRef};

use crate::{Algorithm, Error, PublicKey};

const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const CURVES: [(ObjectIdentifier, Algorithm); 3] = [
    (ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7"), Algorithm::Es256),
    (ObjectIdentifier::new_unwrap("1.3.132.0.34"), Algorithm::Es384),
    (ObjectIdentifier::new_unwrap("1.3.132.0.35"), Algorithm::Es512),
];

/// The keys a verifier knows, each with its kid. Small (Authify publishes one to three keys), so
/// lookup is a scan.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<PublicKey>,
}

#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    key_use: Option<String>,
}

impl KeySet {
    /// The EC signing keys of a JWK Set document. Keys this crate cannot use (other key types or
    /// curves, `use` other than `sig`, an `alg` that contradicts the curve) are left out; a set with
    /// no usable key is an error.
    pub fn from_jwks_json(json: &[u8]) -> Result<Self, Error> {
        let set: JwkSet = serde_json::from_slice(json).map_err(|e| Error::InvalidKey(format!("not a JWK Set: {e}")))?;
        let keys: Vec<PublicKey> =
            set.keys.into_iter().filter_map(|jwk| serde_json::from_value(jwk).ok()).filter_map(usable_key).collect();
        if keys.is_empty() {
            return Err(Error::InvalidKey("the JWK Set has no usable EC signing key".into()));
        }
        Ok(Self { keys })
    }

    /// The key of an SPKI PEM (`-----BEGIN PUBLIC KEY-----`), named by its RFC 7638 thumbprint as
    /// Authify names it in the JWKS and in tokens' `kid`.
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        let body: String = pem
            .lines()
            .map(str::trim)
            .skip_while(|line| *line != "-----BEGIN PUBLIC KEY-----")
            .skip(1)
            .take_while(|line| *line != "-----END PUBLIC KEY-----")
            .collect();
        let der = STANDARD.decode(body).map_err(|_| Error::InvalidKey("not a PUBLIC KEY PEM".into()))?;
        let spki = SubjectPublicKeyInfoRef::from_der(&der)
            .map_err(|e| Error::InvalidKey(format!("not a SubjectPublicKeyInfo: {e}")))?;
        if spki.algorithm.oid != EC_PUBLIC_KEY {
            return Err(Error::InvalidKey("not an EC public key".into()));
        }
        let curve = spki.algorithm.parameters_oid().map_err(|_| Error::InvalidKey("no named curve".into()))?;
        let algorithm = CURVES
            .iter()
            .find(|(oid, _)| *oid == curve)
            .map(|(_, algorithm)| *algorithm)
            .ok_or_else(|| Error::InvalidKey(format!("unsupported curve {curve}")))?;
        let point = spki.subject_public_key.as_bytes().ok_or_else(|| Error::InvalidKey("bad key bits".into()))?;
        Ok(Self { keys: vec![PublicKey::from_point(algorithm, point)?] })
    }

    /// The key named `kid`; a token without a `kid` is checked with the only key of a one-key set.
    pub fn find(&self, kid: Option<&str>) -> Option<&PublicKey> {
        match kid {
            Some(kid) => self.keys.iter().find(|key| key.kid() == kid),
            None if self.keys.len() == 1 => self.keys.first(),
            None => None,
        }
    }

    /// Every key of the set.
    pub fn keys(&self) -> &[PublicKey] {
        &self.keys
    }
}

fn usable_key(jwk: Jwk) -> Option<PublicKey> {
    let algorithm = Algorithm::from_curve(jwk.crv.as_deref()?)?;
    let usable = jwk.kty == "EC"
        && jwk.key_use.as_deref().is_none_or(|key_use| key_use == "sig")
        && jwk.alg.as_deref().is_none_or(|alg| alg == algorithm.name());
    if !usable {
        return None;
    }
    let x = URL_SAFE_NO_PAD.decode(jwk.x?).ok()?;
    let y = URL_SAFE_NO_PAD.decode(jwk.y?).ok()?;
    let point = [&[4u8][..], &x, &y].concat();
    let key = PublicKey::from_point(algorithm, &point).ok()?;
    Some(match jwk.kid {
        Some(kid) => key.with_kid(kid),
        None => key,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An Authify ES256 key: the PEM `/jwt/key` serves and the JWK the JWKS publishes for it.
    pub(crate) const PEM: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEMKBCTNIcKUSDii11ySs3526iDZ8A
iTo7Tu6KPAqv7D7gS2XpJFbZiItSs3m9+9Ue6GnvHw/GW2ZZaVtszggXIw==
-----END PUBLIC KEY-----
";

    #[test]
    fn a_pem_key_is_named_by_its_thumbprint() {
        let set = KeySet::from_pem(PEM).expect("PEM");
        let key = set.find(Some("cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s")).expect("found by thumbprint");
        assert_eq!(key.algorithm(), Algorithm::Es256);
        assert!(set.find(None).is_some(), "a one-key set serves tokens without kid");
        assert!(set.find(Some("other")).is_none());
        assert!(KeySet::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----").is_err());
    }

    #[test]
    fn unusable_jwks_entries_are_left_out() {
        let jwks = serde_json::json!({"keys": [
            {"kty": "EC", "crv": "P-256", "x": "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
             "y": "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM", "kid": "good", "alg": "ES256", "use": "sig"},
            {"kty": "EC", "crv": "P-256", "x": "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
             "y": "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM", "kid": "hmac", "alg": "HS256"},
            {"kty": "EC", "crv": "P-256", "x": "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
             "y": "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM", "kid": "enc", "use": "enc"},
            {"kty": "oct", "k": "c2VjcmV0", "kid": "secret"},
            {"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "rsa"},
        ]});
        let set = KeySet::from_jwks_json(jwks.to_string().as_bytes()).expect("JWKS");
        let kids: Vec<&str> = set.keys().iter().map(PublicKey::kid).collect();
        assert_eq!(kids, ["good"]);
        assert!(set.find(None).is_some());
        assert!(KeySet::from_jwks_json(br#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}"#).is_err());
        assert!(KeySet::from_jwks_json(b"[]").is_err());
    }
}
