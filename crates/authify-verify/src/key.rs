//! One public key, pinned to the one algorithm its curve allows, and the signature check.
//!
//! Backends, measured on Authify's 2-core machines (README, "Speed"): ring for P-256 and P-384
//! (no OpenSSL, and as fast as or faster than OpenSSL there), RustCrypto `p521` for P-521, which ring lacks.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p521::ecdsa::signature::Verifier as _;
use ring::signature::{ECDSA_P256_SHA256_FIXED, ECDSA_P384_SHA384_FIXED, UnparsedPublicKey};

use crate::Error;

/// The JWS algorithms Authify signs with; each is bound to one curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// ECDSA on P-384 with SHA-384.
    Es384,
    /// ECDSA on P-521 with SHA-512.
    Es512,
}

impl Algorithm {
    /// Every algorithm, weakest curve first.
    pub const ALL: [Algorithm; 3] = [Algorithm::Es256, Algorithm::Es384, Algorithm::Es512];

    /// The JWS name: `ES256`, `ES384`, `ES512`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Es256 => "ES256",
            Algorithm::Es384 => "ES384",
            Algorithm::Es512 => "ES512",
        }
    }

    /// The JWK `crv`: `P-256`, `P-384`, `P-521`.
    pub fn curve(self) -> &'static str {
        match self {
            Algorithm::Es256 => "P-256",
            Algorithm::Es384 => "P-384",
            Algorithm::Es512 => "P-521",
        }
    }

    /// The algorithm of a JWK curve name.
    pub fn from_curve(crv: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.curve() == crv)
    }

    /// Bytes of one coordinate (and of `r` and of `s` in a signature).
    pub fn coordinate_len(self) -> usize {
        match self {
            Algorithm::Es256 => 32,
            Algorithm::Es384 => 48,
            Algorithm::Es512 => 66,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A public key that verifies signatures of one algorithm.
#[derive(Clone)]
pub struct PublicKey {
    algorithm: Algorithm,
    kid: String,
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Ring(UnparsedPublicKey<Vec<u8>>),
    P521(Box<p521::ecdsa::VerifyingKey>),
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey").field("algorithm", &self.algorithm).field("kid", &self.kid).finish()
    }
}

impl PublicKey {
    /// A key from its uncompressed SEC1 point (`04 ‖ x ‖ y`); its kid is the RFC 7638 thumbprint.
    pub fn from_point(algorithm: Algorithm, point: &[u8]) -> Result<Self, Error> {
        let len = algorithm.coordinate_len();
        if point.len() != 1 + 2 * len || point[0] != 4 {
            return Err(Error::InvalidKey(format!("not an uncompressed {} point", algorithm.curve())));
        }
        let backend = match algorithm {
            Algorithm::Es256 => Backend::Ring(UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point.to_vec())),
            Algorithm::Es384 => Backend::Ring(UnparsedPublicKey::new(&ECDSA_P384_SHA384_FIXED, point.to_vec())),
            Algorithm::Es512 => Backend::P521(Box::new(
                p521::ecdsa::VerifyingKey::from_sec1_bytes(point)
                    .map_err(|_| Error::InvalidKey("not a point on P-521".into()))?,
            )),
        };
        let kid = thumbprint(algorithm, &point[1..=len], &point[1 + len..]);
        Ok(Self { algorithm, kid, backend })
    }

    /// The algorithm this key verifies; a token must name exactly this one.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The key id tokens name it by (the JWK's `kid`, or the RFC 7638 thumbprint).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub(crate) fn with_kid(mut self, kid: String) -> Self {
        self.kid = kid;
        self
    }

    /// Checks a raw `r ‖ s` JWS signature over `message`.
    pub fn verify_signature(&self, message: &[u8], signature: &[u8]) -> Result<(), Error> {
        if signature.len() != 2 * self.algorithm.coordinate_len() {
            return Err(Error::BadSignature);
        }
        let verified = match &self.backend {
            Backend::Ring(key) => key.verify(message, signature).is_ok(),
            Backend::P521(key) => p521::ecdsa::Signature::from_slice(signature)
                .map(|signature| key.verify(message, &signature).is_ok())
                .unwrap_or(false),
        };
        if verified { Ok(()) } else { Err(Error::BadSignature) }
    }
}

/// RFC 7638: base64url(SHA-256 of `{"crv":…,"kty":"EC","x":…,"y":…}`), as Authify names its keys.
fn thumbprint(algorithm: Algorithm, x: &[u8], y: &[u8]) -> String {
    let canonical = format!(
        r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
        algorithm.curve(),
        URL_SAFE_NO_PAD.encode(x),
        URL_SAFE_NO_PAD.encode(y)
    );
    URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kid_is_the_rfc_7638_thumbprint() {
        // RFC 7638's own EC example is RSA-only; this is Authify's test vector (src/crypto/keyring.rs).
        let coordinate = |text: &str| URL_SAFE_NO_PAD.decode(text).expect("base64url");
        let x = coordinate("MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4");
        let y = coordinate("4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM");
        assert_eq!(thumbprint(Algorithm::Es256, &x, &y), "cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s");
        let point = [&[4u8][..], &x, &y].concat();
        assert_eq!(
            PublicKey::from_point(Algorithm::Es256, &point).expect("key").kid(),
            thumbprint(Algorithm::Es256, &x, &y)
        );
    }

    #[test]
    fn a_point_of_the_wrong_size_or_off_the_curve_is_refused() {
        assert!(PublicKey::from_point(Algorithm::Es256, &[4; 10]).is_err());
        assert!(PublicKey::from_point(Algorithm::Es512, &[4; 133]).is_err());
        let mut compressed = vec![2u8; 65];
        compressed[0] = 2;
        assert!(PublicKey::from_point(Algorithm::Es256, &compressed).is_err());
    }

    #[test]
    fn curves_name_their_algorithm() {
        assert_eq!(Algorithm::from_curve("P-521"), Some(Algorithm::Es512));
        assert_eq!(Algorithm::from_curve("secp256k1"), None);
    }
}
