//! Raw ceilings of the crypto on the hot paths: signing and verifying a realistic Authify token
//! with each algorithm. `cargo bench --bench tokens`; figures in docs/benchmarks.md.

use std::hint::black_box;

use authify::crypto::jwt::{self, Expectations};
use authify::crypto::{Algorithm, Keyring, keyfile};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Map, Value, json};

fn claims(now: i64) -> Map<String, Value> {
    let value = json!({
        "exp": now + 900, "iat": now, "iss": "My Awesome Company Inc.",
        "scopes": ["user_access"],
        "user": {"username": "someuser@mycompany.com", "uid": 172, "organizations": []},
        "sub": "172", "jti": "b3JnYW5pemF0aW9ucyBhbmQ",
    });
    value.as_object().cloned().unwrap_or_default()
}

fn keyring(algorithm: Algorithm, dir: &std::path::Path) -> Keyring {
    let (private, public) = (dir.join(format!("{algorithm}.pem")), dir.join(format!("{algorithm}.pub.pem")));
    keyfile::generate_files(algorithm, &private, &public).expect("generate keys");
    Keyring::new(&keyfile::load(algorithm, &private, &public).expect("load keys")).expect("keyring")
}

fn bench_tokens(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = chrono::Utc::now().timestamp();
    for algorithm in Algorithm::ALL {
        let keyring = keyring(algorithm, dir.path());
        let token = jwt::sign(&keyring, &claims(now), now).expect("sign");
        let expect = Expectations { issuer: "My Awesome Company Inc.", now, leeway: 0 };
        c.bench_function(&format!("sign {algorithm}"), |b| {
            b.iter(|| jwt::sign(&keyring, &black_box(claims(now)), now))
        });
        c.bench_function(&format!("verify {algorithm}"), |b| {
            b.iter(|| jwt::verify(&keyring, black_box(&token), expect).expect("valid"))
        });
    }
}

criterion_group!(benches, bench_tokens);
criterion_main!(benches);
