//! The fastest correct verifier per algorithm, measured on this machine (docs/benchmarks.md, "Raw
//! crypto ceiling"): ring for ES256 (about 1.2x OpenSSL there); OpenSSL through josekit for ES384
//! and ES512, faster there than ring and RustCrypto. The OpenSSL verifier is made on first use, so
//! a service that never checks such a token does not initialise OpenSSL (about 2 MB of memory).

use std::fmt;
use std::sync::{Arc, OnceLock};

use josekit::JoseError;
use josekit::jws::alg::ecdsa::{EcdsaJwsAlgorithm, EcdsaJwsVerifier};
use josekit::jws::{JwsAlgorithm, JwsVerifier};
use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};

use super::Algorithm;
use super::remembered::Remembered;

/// A verifier for `algorithm` from the public key as SPKI DER and as the uncompressed SEC1 point
/// (both already checked by [`super::keyfile`]), remembering the signatures it accepted
/// ([`Remembered`]). It names no `kid`: the keyring picks the key.
pub fn verifier_for(algorithm: Algorithm, spki_der: &[u8], point: &[u8]) -> Box<dyn JwsVerifier> {
    Box::new(Remembered::new(checking_verifier(algorithm, spki_der, point)))
}

fn checking_verifier(algorithm: Algorithm, spki_der: &[u8], point: &[u8]) -> Box<dyn JwsVerifier> {
    match algorithm {
        Algorithm::Es256 => {
            Box::new(Es256Verifier { key: UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point.into()) })
        }
        Algorithm::Es384 => Box::new(OpenSslVerifier::new(EcdsaJwsAlgorithm::Es384, spki_der)),
        Algorithm::Es512 => Box::new(OpenSslVerifier::new(EcdsaJwsAlgorithm::Es512, spki_der)),
    }
}

fn invalid_signature(reason: impl fmt::Display) -> JoseError {
    JoseError::InvalidSignature(anyhow::Error::msg(reason.to_string()))
}

#[derive(Debug, Clone)]
struct Es256Verifier {
    key: UnparsedPublicKey<Arc<[u8]>>,
}

impl JwsVerifier for Es256Verifier {
    fn algorithm(&self) -> &dyn JwsAlgorithm {
        &EcdsaJwsAlgorithm::Es256
    }

    fn key_id(&self) -> Option<&str> {
        None
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), JoseError> {
        self.key.verify(message, signature).map_err(|_| invalid_signature("the ES256 signature does not verify"))
    }

    fn box_clone(&self) -> Box<dyn JwsVerifier> {
        Box::new(self.clone())
    }
}

/// josekit's OpenSSL verifier, made from `spki_der` the first time a token needs it and shared
/// between clones.
#[derive(Clone)]
struct OpenSslVerifier {
    algorithm: EcdsaJwsAlgorithm,
    spki_der: Arc<[u8]>,
    made: Arc<OnceLock<Result<EcdsaJwsVerifier, String>>>,
}

impl OpenSslVerifier {
    fn new(algorithm: EcdsaJwsAlgorithm, spki_der: &[u8]) -> Self {
        Self { algorithm, spki_der: spki_der.into(), made: Arc::default() }
    }
}

impl fmt::Debug for OpenSslVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenSslVerifier").field("algorithm", &self.algorithm).finish_non_exhaustive()
    }
}

impl JwsVerifier for OpenSslVerifier {
    fn algorithm(&self) -> &dyn JwsAlgorithm {
        &self.algorithm
    }

    fn key_id(&self) -> Option<&str> {
        None
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), JoseError> {
        let made =
            self.made.get_or_init(|| self.algorithm.verifier_from_der(&self.spki_der).map_err(|e| e.to_string()));
        match made {
            Ok(verifier) => verifier.verify(message, signature),
            Err(reason) => Err(invalid_signature(format_args!("the public key cannot verify: {reason}"))),
        }
    }

    fn box_clone(&self) -> Box<dyn JwsVerifier> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keyfile;

    /// Each verifier accepts its own key's signature and refuses a changed message or another
    /// key's signature; the OpenSSL one is made on the first check.
    #[test]
    fn verifiers_accept_their_key_and_refuse_others() {
        let dir = tempfile::tempdir().expect("tempdir");
        for algorithm in Algorithm::ALL {
            let pairs: Vec<_> =
                (0..2).map(|n| keyfile::generated_pair(dir.path(), algorithm, &format!("{algorithm}-{n}"))).collect();
            let signer = crate::crypto::signer::signer_for(algorithm, &pairs[0].private_pkcs8_der, "k").unwrap();
            let other = crate::crypto::signer::signer_for(algorithm, &pairs[1].private_pkcs8_der, "k").unwrap();
            let verifier = verifier_for(algorithm, &pairs[0].public_spki_der, &pairs[0].public_point);
            let message = b"header.payload";
            let signature = signer.sign(message).unwrap();
            assert!(verifier.verify(message, &signature).is_ok(), "{algorithm}: own signature");
            assert!(verifier.verify(b"header.payloaD", &signature).is_err(), "{algorithm}: changed message");
            assert!(verifier.verify(message, &other.sign(message).unwrap()).is_err(), "{algorithm}: other key");
            assert!(verifier.verify(message, &signature[1..]).is_err(), "{algorithm}: short signature");
        }
    }
}
