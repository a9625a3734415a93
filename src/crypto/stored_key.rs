//! A key pair as the shared key store holds it: the public PEM in clear, the PKCS#8 private key
//! sealed with the key-encryption key ([`super::sealed`]) and bound to its `kid`, so a database
//! dump alone gives no signing key and a sealed key cannot be moved to another row.

use super::keyfile::{self, KeyPair};
use super::sealed::{OpenError, SealingKey};
use super::{Algorithm, kid_of};

/// What the store keeps of a pair.
pub struct SealedPair {
    pub kid: String,
    pub algorithm: Algorithm,
    pub public_pem: String,
    pub sealed_private_key: String,
}

/// Seals `pair` for the store.
pub fn seal(kek: &SealingKey, pair: &KeyPair) -> Result<SealedPair, OpenError> {
    let kid = kid_of(pair);
    let sealed_private_key = kek.seal(&pair.private_pkcs8_der, kid.as_bytes())?;
    Ok(SealedPair { kid, algorithm: pair.algorithm, public_pem: pair.public_pem.clone(), sealed_private_key })
}

/// Opens a stored pair: fails with a wrong key-encryption key, damaged data, or a private key
/// that is not the one `kid` names. The public PEM served (`/jwt/key`) is the stored one.
pub fn open(kek: &SealingKey, stored: &SealedPair) -> Result<KeyPair, OpenError> {
    let der = zeroize_vec(kek.open(&stored.sealed_private_key, stored.kid.as_bytes())?);
    let mut pair = keyfile::pair_from_private_der(stored.algorithm, &der).ok_or(OpenError)?;
    if kid_of(&pair) != stored.kid {
        return Err(OpenError);
    }
    pair.public_pem.clone_from(&stored.public_pem);
    Ok(pair)
}

fn zeroize_vec(bytes: Vec<u8>) -> p256::elliptic_curve::zeroize::Zeroizing<Vec<u8>> {
    p256::elliptic_curve::zeroize::Zeroizing::new(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_pair_opens_only_with_its_key_and_its_kid() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (kek, _) = SealingKey::load_or_generate(&dir.path().join("a.key")).expect("kek");
        let (other, _) = SealingKey::load_or_generate(&dir.path().join("b.key")).expect("kek");
        for algorithm in Algorithm::ALL {
            let pair = keyfile::generate_pair(algorithm).expect("pair");
            let sealed = seal(&kek, &pair).expect("seal");
            assert!(!sealed.sealed_private_key.contains(&pair.public_pem));
            let opened = open(&kek, &sealed).expect("open");
            assert_eq!(opened.private_pkcs8_der.as_slice(), pair.private_pkcs8_der.as_slice());
            assert!(open(&other, &sealed).is_err(), "{algorithm}: another key-encryption key");
            let moved = SealedPair { kid: "someone-else".into(), ..sealed };
            assert!(open(&kek, &moved).is_err(), "{algorithm}: another row");
        }
    }
}
