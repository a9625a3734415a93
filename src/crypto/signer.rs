//! The fastest correct signer per algorithm, measured on this machine (docs/benchmarks.md):
//! OpenSSL (through josekit) for ES256; RustCrypto for ES384 and ES512, whose signing beats
//! OpenSSL 3.0 there. Verification always goes through josekit/OpenSSL, the faster verifier on
//! every curve. Both produce the JWS raw `r || s` signature.

use std::fmt;

use josekit::JoseError;
use josekit::jws::alg::ecdsa::EcdsaJwsAlgorithm;
use josekit::jws::{JwsAlgorithm, JwsSigner};
use p256::ecdsa::signature::Signer;

use super::Algorithm;

/// A signer for `algorithm` from a PKCS#8 DER private key, tagged with `kid`.
pub fn signer_for(algorithm: Algorithm, pkcs8_der: &[u8], kid: &str) -> Result<Box<dyn JwsSigner>, JoseError> {
    use p256::elliptic_curve::pkcs8::DecodePrivateKey;
    let invalid =
        |e: p256::elliptic_curve::pkcs8::Error| JoseError::InvalidKeyFormat(anyhow::Error::msg(e.to_string()));
    Ok(match algorithm {
        Algorithm::Es256 => {
            let mut signer = EcdsaJwsAlgorithm::Es256.signer_from_der(pkcs8_der)?;
            signer.set_key_id(kid);
            Box::new(signer)
        }
        Algorithm::Es384 => Box::new(Es384Signer {
            key: p384::ecdsa::SigningKey::from_pkcs8_der(pkcs8_der).map_err(invalid)?,
            kid: kid.to_string(),
        }),
        Algorithm::Es512 => Box::new(Es512Signer {
            key: p521::ecdsa::SigningKey::from_pkcs8_der(pkcs8_der).map_err(invalid)?,
            kid: kid.to_string(),
        }),
    })
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
