//! Reading, checking and generating the PEM key files (AUTHIFY_PRIVKEY_PATH / AUTHIFY_PUBKEY_PATH).

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use p256::elliptic_curve::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::elliptic_curve::{Generate, zeroize::Zeroizing};

use super::Algorithm;

/// A checked key pair: the private key normalised to PKCS#8 DER, the public key as SPKI and as
/// the uncompressed SEC1 point (for the JWK).
pub struct KeyPair {
    pub algorithm: Algorithm,
    pub private_pkcs8_der: Zeroizing<Vec<u8>>,
    pub public_spki_der: Vec<u8>,
    pub public_pem: String,
    /// `0x04 || x || y`
    pub public_point: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{setting}: cannot read {path}: {source}")]
    Unreadable { setting: &'static str, path: PathBuf, source: std::io::Error },
    #[error("AUTHIFY_PRIVKEY_PATH: {0} is not a PEM EC private key (PKCS#8 or SEC1) on P-256, P-384 or P-521")]
    NotAPrivateKey(PathBuf),
    #[error("AUTHIFY_PUBKEY_PATH: {0} is not a PEM SPKI public key on P-256, P-384 or P-521")]
    NotAPublicKey(PathBuf),
    #[error("AUTHIFY_JWT_ALGORITHM: {algorithm} needs a {needs} key, but {path} holds a {holds} key")]
    CurveMismatch { algorithm: Algorithm, needs: &'static str, path: PathBuf, holds: &'static str },
    #[error("AUTHIFY_PUBKEY_PATH: {public} is not the public half of {private}")]
    PairMismatch { public: PathBuf, private: PathBuf },
    #[error("{setting}: {path} is missing while the other key file exists; provide both or neither")]
    HalfPair { setting: &'static str, path: PathBuf },
    #[error("{setting}: cannot write {path}: {source}")]
    Unwritable { setting: &'static str, path: PathBuf, source: std::io::Error },
}

/// A private key parsed on whichever curve it belongs to.
struct Parsed {
    algorithm: Algorithm,
    pkcs8_der: Zeroizing<Vec<u8>>,
    spki_der: Vec<u8>,
    point: Vec<u8>,
}

macro_rules! parse_private_on {
    ($curve:ident, $alg:expr, $pem:expr) => {{
        let secret =
            $curve::SecretKey::from_pkcs8_pem($pem).ok().or_else(|| $curve::SecretKey::from_sec1_pem($pem).ok());
        secret.and_then(|secret| {
            let public = secret.public_key();
            Some(Parsed {
                algorithm: $alg,
                pkcs8_der: Zeroizing::new(secret.to_pkcs8_der().ok()?.as_bytes().to_vec()),
                spki_der: public.to_public_key_der().ok()?.as_bytes().to_vec(),
                point: public.to_sec1_point(false).as_bytes().to_vec(),
            })
        })
    }};
}

macro_rules! parse_public_on {
    ($curve:ident, $pem:expr) => {
        $curve::PublicKey::from_public_key_pem($pem)
            .ok()
            .and_then(|public| public.to_public_key_der().ok())
            .map(|der| der.as_bytes().to_vec())
    };
}

fn parse_private(pem: &str) -> Option<Parsed> {
    let pem = private_key_block(pem);
    parse_private_on!(p256, Algorithm::Es256, pem)
        .or_else(|| parse_private_on!(p384, Algorithm::Es384, pem))
        .or_else(|| parse_private_on!(p521, Algorithm::Es512, pem))
}

/// The private-key block of a PEM file. `openssl ecparam -genkey` (the way Authify's README makes
/// keys) writes an `EC PARAMETERS` block before the `EC PRIVATE KEY` one.
fn private_key_block(pem: &str) -> &str {
    for label in ["EC PRIVATE KEY", "PRIVATE KEY"] {
        let (begin, end) = (format!("-----BEGIN {label}-----"), format!("-----END {label}-----"));
        if let (Some(start), Some(stop)) = (pem.find(&begin), pem.find(&end))
            && start < stop
        {
            return &pem[start..stop + end.len()];
        }
    }
    pem
}

fn parse_public(pem: &str) -> Option<Vec<u8>> {
    parse_public_on!(p256, pem).or_else(|| parse_public_on!(p384, pem)).or_else(|| parse_public_on!(p521, pem))
}

/// Reads both key files and checks that they form a pair on the configured algorithm's curve.
pub fn load(algorithm: Algorithm, private_path: &Path, public_path: &Path) -> Result<KeyPair, KeyError> {
    let private_pem = read(private_path, "AUTHIFY_PRIVKEY_PATH")?;
    let public_pem = read(public_path, "AUTHIFY_PUBKEY_PATH")?;
    let parsed = parse_private(&private_pem).ok_or_else(|| KeyError::NotAPrivateKey(private_path.into()))?;
    if parsed.algorithm != algorithm {
        return Err(KeyError::CurveMismatch {
            algorithm,
            needs: algorithm.curve(),
            path: private_path.into(),
            holds: parsed.algorithm.curve(),
        });
    }
    let public_der = parse_public(&public_pem).ok_or_else(|| KeyError::NotAPublicKey(public_path.into()))?;
    if public_der != parsed.spki_der {
        return Err(KeyError::PairMismatch { public: public_path.into(), private: private_path.into() });
    }
    Ok(KeyPair {
        algorithm,
        private_pkcs8_der: parsed.pkcs8_der,
        public_spki_der: parsed.spki_der,
        public_pem: public_pem.trim_end().to_string() + "\n",
        public_point: parsed.point,
    })
}

/// The pair of a PKCS#8 DER private key on `algorithm`'s curve (a key read back from the key
/// store), its public PEM as RustCrypto writes it; none when it is not such a key.
pub fn pair_from_private_der(algorithm: Algorithm, der: &[u8]) -> Option<KeyPair> {
    macro_rules! pair_on {
        ($curve:ident) => {{
            let public = $curve::SecretKey::from_pkcs8_der(der).ok()?.public_key();
            KeyPair {
                algorithm,
                private_pkcs8_der: Zeroizing::new(der.to_vec()),
                public_spki_der: public.to_public_key_der().ok()?.as_bytes().to_vec(),
                public_pem: public.to_public_key_pem(LineEnding::LF).ok()?,
                public_point: public.to_sec1_point(false).as_bytes().to_vec(),
            }
        }};
    }
    Some(match algorithm {
        Algorithm::Es256 => pair_on!(p256),
        Algorithm::Es384 => pair_on!(p384),
        Algorithm::Es512 => pair_on!(p521),
    })
}

/// A freshly generated pair, in memory only (for the key store).
pub fn generate_pair(algorithm: Algorithm) -> Result<KeyPair, KeyError> {
    macro_rules! der_on {
        ($curve:ident) => {
            Zeroizing::new(
                $curve::SecretKey::generate().to_pkcs8_der().map_err(|_| encode_failure())?.as_bytes().to_vec(),
            )
        };
    }
    let der = match algorithm {
        Algorithm::Es256 => der_on!(p256),
        Algorithm::Es384 => der_on!(p384),
        Algorithm::Es512 => der_on!(p521),
    };
    pair_from_private_der(algorithm, &der).ok_or_else(encode_failure)
}

/// A freshly generated pair as PEM text: (PKCS#8 private, SPKI public).
pub fn generate(algorithm: Algorithm) -> Result<(Zeroizing<String>, String), KeyError> {
    macro_rules! generate_on {
        ($curve:ident) => {{
            let secret = $curve::SecretKey::generate();
            let private = secret.to_pkcs8_pem(LineEnding::LF).map_err(|_| encode_failure())?;
            let public = secret.public_key().to_public_key_pem(LineEnding::LF).map_err(|_| encode_failure())?;
            (Zeroizing::new(private.to_string()), public)
        }};
    }
    Ok(match algorithm {
        Algorithm::Es256 => generate_on!(p256),
        Algorithm::Es384 => generate_on!(p384),
        Algorithm::Es512 => generate_on!(p521),
    })
}

fn encode_failure() -> KeyError {
    KeyError::Unwritable {
        setting: "AUTHIFY_PRIVKEY_PATH",
        path: PathBuf::new(),
        source: std::io::Error::other("key encoding failed"),
    }
}

/// Whether the pair must be generated: true when neither file exists; an error when only one does.
pub fn needs_generation(private_path: &Path, public_path: &Path) -> Result<bool, KeyError> {
    match (private_path.exists(), public_path.exists()) {
        (false, false) => Ok(true),
        (true, true) => Ok(false),
        (true, false) => Err(KeyError::HalfPair { setting: "AUTHIFY_PUBKEY_PATH", path: public_path.into() }),
        (false, true) => Err(KeyError::HalfPair { setting: "AUTHIFY_PRIVKEY_PATH", path: private_path.into() }),
    }
}

/// Generates a pair and writes it: the private key with mode 0600 (never overwriting a file).
pub fn generate_files(algorithm: Algorithm, private_path: &Path, public_path: &Path) -> Result<(), KeyError> {
    let (private_pem, public_pem) = generate(algorithm)?;
    write_new(private_path, private_pem.as_bytes(), 0o600, "AUTHIFY_PRIVKEY_PATH")?;
    write_new(public_path, public_pem.as_bytes(), 0o644, "AUTHIFY_PUBKEY_PATH")
}

fn write_new(path: &Path, contents: &[u8], mode: u32, setting: &'static str) -> Result<(), KeyError> {
    let fail = |source| KeyError::Unwritable { setting, path: path.into(), source };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(fail)?;
    }
    let mut file = fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(path).map_err(fail)?;
    file.write_all(contents).map_err(fail)?;
    file.sync_all().map_err(fail)
}

fn read(path: &Path, setting: &'static str) -> Result<String, KeyError> {
    fs::read_to_string(path).map_err(|source| KeyError::Unreadable { setting, path: path.into(), source })
}

/// A freshly generated and loaded pair, its files named `name` in `dir`; for tests.
#[cfg(test)]
pub(crate) fn generated_pair(dir: &Path, algorithm: Algorithm, name: &str) -> KeyPair {
    let (private, public) = (dir.join(format!("{name}-private.pem")), dir.join(format!("{name}-public.pem")));
    generate_files(algorithm, &private, &public).expect("generate");
    load(algorithm, &private, &public).expect("load")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_pairs_load_on_their_own_curve_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        for alg in Algorithm::ALL {
            let private = dir.path().join(format!("{alg}-private.pem"));
            let public = dir.path().join(format!("{alg}-public.pem"));
            generate_files(alg, &private, &public).expect("generate");
            let pair = load(alg, &private, &public).expect("load");
            assert_eq!(pair.public_point.len(), 1 + 2 * alg.coordinate_len());
            for other in Algorithm::ALL.into_iter().filter(|a| *a != alg) {
                assert!(matches!(load(other, &private, &public), Err(KeyError::CurveMismatch { .. })));
            }
            assert!(generate_files(alg, &private, &public).is_err(), "never overwrites a key");
        }
    }
}
