//! The server's verification (`authify::crypto::jwt::verify`, as `/jwt/verify` runs it) beside the
//! relying-side crate's (`authify_verify::Verifier`) on the same token, per algorithm, in one run:
//! what the server would gain or lose by sharing the crate's code (issue 24).
//! `cargo bench --bench relying_verify -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use authify::crypto::jwt::{self, Expectations};
use authify::crypto::{Algorithm, Keyring, keyfile};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

fn bench_paths(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "exp": now + 900, "iat": now, "iss": "My Awesome Company Inc.", "scopes": ["user_access"],
        "user": {"username": "someuser@mycompany.com", "uid": 172, "organizations": []},
        "sub": "172", "jti": "b3JnYW5pemF0aW9ucyBhbmQ",
    });
    for algorithm in Algorithm::ALL {
        let (private, public) =
            (dir.path().join(format!("{algorithm}.pem")), dir.path().join(format!("{algorithm}.pub")));
        keyfile::generate_files(algorithm, &private, &public).expect("generate keys");
        let keyring = Keyring::new(&keyfile::load(algorithm, &private, &public).expect("load")).expect("keyring");
        let token = jwt::sign(&keyring, &claims, now).expect("sign");
        let expect = Expectations { issuer: "My Awesome Company Inc.", now, leeway: 0 };
        let verifier = authify_verify::Verifier::from_pem(keyring.public_pem(now))
            .expect("PEM")
            .issuer("My Awesome Company Inc.")
            .build()
            .expect("verifier");
        assert!(verifier.verify_cached(&token).is_ok() && jwt::verify(&keyring, &token, expect).is_ok());
        let mut group = c.benchmark_group(algorithm.to_string());
        group.bench_function("server jwt::verify", |b| b.iter(|| jwt::verify(&keyring, black_box(&token), expect)));
        group.bench_function("authify-verify", |b| b.iter(|| verifier.verify_cached(black_box(&token))));
        group.finish();
    }
}

criterion_group!(benches, bench_paths);
criterion_main!(benches);
