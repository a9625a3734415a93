//! The fastest correct signer per algorithm, measured on this machine (docs/benchmarks.md,
//! "Raw crypto ceiling"): ring for ES256 (1.5x OpenSSL's speed there); RustCrypto for ES384 and
//! ES512, which beat both OpenSSL 3.0 and ring. josekit assembles the JWS around them; all of
//! them produce the JWS raw `r || s` signature.

use std::fmt;
use std::sync::Arc;

use josekit::JoseError;
use josekit::jws::alg::ecdsa::EcdsaJwsAlgorithm;
use josekit::jws::{JwsAlgorithm, JwsSigner};
use p256::ecdsa::signature::Signer;
use p256::elliptic_curve::sec1::ToSec1Point;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};

use super::Algorithm;

/// A signer for `algorithm` from a PKCS#8 DER private key, tagged with `kid`.
pub fn signer_for(algorithm: Algorithm, pkcs8_der: &[u8], kid: &str) -> Result<Box<dyn JwsSigner>, JoseError> {
    use p256::elliptic_curve::pkcs8::DecodePrivateKey;
    let invalid = |e: &dyn fmt::Display| JoseError::InvalidKeyFormat(anyhow::Error::msg(e.to_string()));
    Ok(match algorithm {
        Algorithm::Es256 => {
            let secret = p256::SecretKey::from_pkcs8_der(pkcs8_der).map_err(|e| invalid(&e))?;
            let point = secret.public_key().to_sec1_point(false);
            let key = EcdsaKeyPair::from_private_key_and_public_key(
                &ECDSA_P256_SHA256_FIXED_SIGNING,
                &secret.to_bytes(),
                point.as_bytes(),
                &SystemRandom::new(),
            )
            .map_err(|e| invalid(&e))?;
            Box::new(Es256Signer { key: Arc::new(key), kid: kid.to_string() })
        }
        Algorithm::Es384 => Box::new(Es384Signer {
            key: p384::ecdsa::SigningKey::from_pkcs8_der(pkcs8_der).map_err(|e| invalid(&e))?,
            kid: kid.to_string(),
        }),
        Algorithm::Es512 => Box::new(Es512Signer {
            key: p521::ecdsa::SigningKey::from_pkcs8_der(pkcs8_der).map_err(|e| invalid(&e))?,
            kid: kid.to_string(),
        }),
    })
}

/// ES256 through ring; the key pair is shared between clones.
#[derive(Clone)]
struct Es256Signer {
    key: Arc<EcdsaKeyPair>,
    kid: String,
}

impl fmt::Debug for Es256Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Es256Signer").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl JwsSigner for Es256Signer {
    fn algorithm(&self) -> &dyn JwsAlgorithm {
        &EcdsaJwsAlgorithm::Es256
    }

    fn key_id(&self) -> Option<&str> {
        Some(&self.kid)
    }

    fn signature_len(&self) -> usize {
        64
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        let signature = self
            .key
            .sign(&SystemRandom::new(), message)
            .map_err(|e| JoseError::InvalidSignature(anyhow::Error::msg(e.to_string())))?;
        Ok(signature.as_ref().to_vec())
    }

    fn box_clone(&self) -> Box<dyn JwsSigner> {
        Box::new(self.clone())
    }
}

macro_rules! rustcrypto_signer {
    ($name:ident, $curve:ident, $alg:expr, $len:expr) => {
        #[derive(Clone)]
        struct $name {
            key: $curve::ecdsa::SigningKey,
            kid: String,
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).field("kid", &self.kid).finish_non_exhaustive()
            }
        }

        impl JwsSigner for $name {
            fn algorithm(&self) -> &dyn JwsAlgorithm {
                &$alg
            }

            fn key_id(&self) -> Option<&str> {
                Some(&self.kid)
            }

            fn signature_len(&self) -> usize {
                $len
            }

            fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
                let signature: $curve::ecdsa::Signature = self
                    .key
                    .try_sign(message)
                    .map_err(|e| JoseError::InvalidSignature(anyhow::Error::msg(e.to_string())))?;
                Ok(signature.to_bytes().to_vec())
            }

            fn box_clone(&self) -> Box<dyn JwsSigner> {
                Box::new(self.clone())
            }
        }
    };
}

rustcrypto_signer!(Es384Signer, p384, EcdsaJwsAlgorithm::Es384, 96);
rustcrypto_signer!(Es512Signer, p521, EcdsaJwsAlgorithm::Es512, 132);
