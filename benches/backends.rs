//! Why each algorithm signs and verifies with the backend it does (src/crypto/signer.rs and
//! verifier.rs): ECDSA sign and verify of a token-sized message through every backend in the tree
//! that offers the curve: OpenSSL (through josekit), ring, and RustCrypto. `cargo bench --bench
//! backends`; figures in docs/benchmarks.md ("Raw crypto ceiling").

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use josekit::jws::alg::ecdsa::EcdsaJwsAlgorithm;
use josekit::jws::{JwsSigner, JwsVerifier};
use p256::ecdsa::signature::{Signer, Verifier};
use p256::elliptic_curve::Generate;
use p256::elliptic_curve::pkcs8::{EncodePrivateKey, EncodePublicKey};
use p256::elliptic_curve::sec1::ToSec1Point;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, EcdsaSigningAlgorithm, EcdsaVerificationAlgorithm, UnparsedPublicKey};

/// About the signing input of an Authify token (base64url header and claims).
const MESSAGE: &[u8] = &[b'e'; 420];

/// OpenSSL through josekit, from the key's PKCS#8 and SPKI DER.
fn openssl(c: &mut Criterion, name: &str, algorithm: EcdsaJwsAlgorithm, pkcs8: &[u8], spki: &[u8]) {
    let signer = algorithm.signer_from_der(pkcs8).expect("OpenSSL signer");
    let verifier = algorithm.verifier_from_der(spki).expect("OpenSSL verifier");
    let signature = signer.sign(MESSAGE).expect("sign");
    c.bench_function(&format!("{name} sign openssl"), |b| b.iter(|| signer.sign(black_box(MESSAGE))));
    c.bench_function(&format!("{name} verify openssl"), |b| {
        b.iter(|| verifier.verify(black_box(MESSAGE), &signature).expect("valid"))
    });
}

/// ring, from the private scalar and the uncompressed public point.
fn ring(
    c: &mut Criterion,
    name: &str,
    algs: (&'static EcdsaSigningAlgorithm, &'static EcdsaVerificationAlgorithm),
    scalar: &[u8],
    point: &[u8],
) {
    let rng = SystemRandom::new();
    let key = EcdsaKeyPair::from_private_key_and_public_key(algs.0, scalar, point, &rng).expect("ring key");
    let public = UnparsedPublicKey::new(algs.1, point);
    let signature = key.sign(&rng, MESSAGE).expect("sign");
    c.bench_function(&format!("{name} sign ring"), |b| b.iter(|| key.sign(&rng, black_box(MESSAGE))));
    c.bench_function(&format!("{name} verify ring"), |b| {
        b.iter(|| public.verify(black_box(MESSAGE), signature.as_ref()).expect("valid"))
    });
}

macro_rules! curve {
    ($c:expr, $name:expr, $curve:ident, $josekit:expr, $ring:expr) => {{
        let secret = $curve::SecretKey::generate();
        let pkcs8 = secret.to_pkcs8_der().expect("PKCS#8");
        let spki = secret.public_key().to_public_key_der().expect("SPKI");
        let point = secret.public_key().to_sec1_point(false);
        openssl($c, $name, $josekit, pkcs8.as_bytes(), spki.as_bytes());
        let ring_algorithms: Option<(&'static EcdsaSigningAlgorithm, &'static EcdsaVerificationAlgorithm)> = $ring;
        if let Some(algs) = ring_algorithms {
            ring($c, $name, algs, &secret.to_bytes(), point.as_bytes());
        }
        let signing = $curve::ecdsa::SigningKey::from(&secret);
        let verifying = $curve::ecdsa::VerifyingKey::from_sec1_bytes(point.as_bytes()).expect("point");
        let signature: $curve::ecdsa::Signature = signing.sign(MESSAGE);
        $c.bench_function(&format!("{} sign rustcrypto", $name), |b| {
            b.iter(|| -> $curve::ecdsa::Signature { signing.sign(black_box(MESSAGE)) })
        });
        $c.bench_function(&format!("{} verify rustcrypto", $name), |b| {
            b.iter(|| verifying.verify(black_box(MESSAGE), &signature).expect("valid"))
        });
    }};
}

fn bench_backends(c: &mut Criterion) {
    use ring::signature::{
        ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED,
        ECDSA_P384_SHA384_FIXED_SIGNING,
    };
    curve!(
        c,
        "ES256",
        p256,
        EcdsaJwsAlgorithm::Es256,
        Some((&ECDSA_P256_SHA256_FIXED_SIGNING, &ECDSA_P256_SHA256_FIXED))
    );
    curve!(
        c,
        "ES384",
        p384,
        EcdsaJwsAlgorithm::Es384,
        Some((&ECDSA_P384_SHA384_FIXED_SIGNING, &ECDSA_P384_SHA384_FIXED))
    );
    // ring has no P-521.
    curve!(c, "ES512", p521, EcdsaJwsAlgorithm::Es512, None);
}

criterion_group!(benches, bench_backends);
criterion_main!(benches);
