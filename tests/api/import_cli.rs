//! `authify import authify-api` on SQLite only: a database that is not authify-api's, keys and
//! tokens of the old deployment, the rate limit on imported credentials, and the help text.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openssl::ec::EcKey;
use openssl::ecdsa::EcdsaSig;
use openssl::hash::{MessageDigest, hash};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

use crate::authify_readme::readme_openssl_keys;
use crate::cli::{Server, failure_line, run};
use crate::import_source::*;
use crate::plain_tests;
use crate::support::app::{Backend, spawn};

plain_tests!(
    a_database_that_is_not_authify_apis_is_refused_naming_what_is_missing,
    a_jwt_signed_with_authify_apis_key_files_verifies_when_authify_starts_on_them,
    wrong_imported_secrets_count_against_the_rate_limit_like_any_other,
    a_failure_while_writing_commits_nothing,
);
plain_tests!(sync; import_help_names_the_source_and_every_option);

async fn a_database_that_is_not_authify_apis_is_refused_naming_what_is_missing() {
    let app = spawn(Backend::Sqlite).start().await;
    // Authify's own database has users and groups but no `groups_users`.
    let own = Source::at(app.settings.db_url.split('?').next().unwrap_or_default());
    let line = failure_line(&import(&app, &own, &[]));
    assert_eq!(line, "error: not an authify-api database: table `groups_users` is missing");

    let source = Source::fixture(&Backend::Sqlite, app.dir.path()).await;
    source.execute("DROP TABLE apikeys").await;
    let line = failure_line(&import(&app, &source, &[]));
    assert_eq!(line, "error: not an authify-api database: table `apikeys` is missing");
    source.execute("CREATE TABLE apikeys (id INTEGER PRIMARY KEY, user_id integer, access_key varchar)").await;
    let line = failure_line(&import(&app, &source, &[]));
    assert_eq!(line, "error: not an authify-api database: column `apikeys.secret_key_digest` is missing");

    let missing = Source::at(format!("sqlite://{}/no-such.db", app.dir.path().display()));
    let line = failure_line(&import(&app, &missing, &[]));
    assert!(line.starts_with("error: cannot read the authify-api database"), "{line}");
    assert!(!app.dir.path().join("no-such.db").exists(), "the source is opened read-only, never created");
    assert!(app.state.store.user_by_id(1).await.expect("read").is_none(), "nothing imported");
}

/// Signs `claims` as authify-api did (ruby-jwt, ES512): `{"typ":"JWT","alg":"ES512"}`, and the
/// ECDSA signature as r ‖ s, 66 bytes each.
fn sign_es512(private_pem: &str, claims: &Value) -> String {
    let key = EcKey::private_key_from_pem(private_pem.as_bytes()).expect("the private key");
    let header = URL_SAFE_NO_PAD.encode(json!({"typ": "JWT", "alg": "ES512"}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let input = format!("{header}.{payload}");
    let digest = hash(MessageDigest::sha512(), input.as_bytes()).expect("digest");
    let signature = EcdsaSig::sign(&digest, &key).expect("sign");
    let mut raw = signature.r().to_vec_padded(66).expect("r");
    raw.extend(signature.s().to_vec_padded(66).expect("s"));
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(raw))
}

async fn a_jwt_signed_with_authify_apis_key_files_verifies_when_authify_starts_on_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (private, public, _) = readme_openssl_keys(dir.path());
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "user": {"username": "alice@example.com", "uid": 1, "organizations": []},
        "scopes": ["user_access"],
        "iss": "Authify",
        "iat": now,
        "exp": now + 15 * 60,
    });
    let token = sign_es512(&std::fs::read_to_string(&private).expect("read"), &claims);
    let db_url = format!("sqlite://{}/authify.db?mode=rwc", dir.path().display());
    let env = [
        ("AUTHIFY_DB_URL", db_url.as_str()),
        ("AUTHIFY_PRIVKEY_PATH", private.to_str().expect("UTF-8")),
        ("AUTHIFY_PUBKEY_PATH", public.to_str().expect("UTF-8")),
        ("AUTHIFY_JWT_ALGORITHM", "ES512"),
        ("AUTHIFY_JWT_ISSUER", "Authify"),
    ];
    let server = Server::start(dir.path(), &env);
    let client = reqwest::Client::new();
    let verified: Value = client
        .post(server.url("/jwt/verify"))
        .json(&json!({ "token": token }))
        .send()
        .await
        .expect("verify")
        .json()
        .await
        .expect("JSON");
    assert_eq!(verified["valid"], true, "{verified}");
    assert_eq!(verified["payload"], claims);
    let key: Value = client.get(server.url("/jwt/key")).send().await.expect("key").json().await.expect("JSON");
    let served = key["data"].as_str().unwrap_or_default().trim().to_owned();
    assert_eq!(served, std::fs::read_to_string(&public).expect("read").trim(), "the old public key, as it is");
}

async fn wrong_imported_secrets_count_against_the_rate_limit_like_any_other() {
    let app = spawn(Backend::Sqlite).settings(|s| s.rate_limit_per_ip = 3).start().await;
    let source = Source::fixture(&Backend::Sqlite, app.dir.path()).await;
    import_ok(&app, &source, &[]);
    let login = |secret: &'static str| {
        let app = &app;
        async move {
            let body = json!({"access_key": ALICE_ACCESS, "secret_key": secret});
            app.post_json("/jwt/token", &body).await.status().as_u16()
        }
    };
    for _ in 0..3 {
        assert_eq!(login(BOB_SECRET).await, 401);
    }
    assert_eq!(login(ALICE_SECRET).await, 429, "the right secret waits like everyone else");
    let key = app.state.store.api_key_by_access_key(ALICE_ACCESS).await.expect("read").expect("key");
    assert_eq!(key.secret_hash.len(), 144, "not upgraded by refused attempts");
}

fn import_help_names_the_source_and_every_option() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(dir.path(), &[], &["import", "authify-api", "--help"], "");
    let help = String::from_utf8_lossy(&output.stdout);
    for word in ["--from", "--dry-run", "--merge", "--json", "one transaction"] {
        assert!(help.contains(word), "{word}: {help}");
    }
}

async fn a_failure_while_writing_commits_nothing() {
    let app = spawn(Backend::Sqlite).start().await;
    let source = Source::fixture(&Backend::Sqlite, app.dir.path()).await;
    // The last table written fails, after every other row was inserted.
    let target = Database::connect(app.settings.db_url.as_str()).await.expect("connect");
    let trigger = "CREATE TRIGGER refuse BEFORE INSERT ON trusted_delegates BEGIN SELECT RAISE(ABORT, 'refused by the test'); END";
    target.execute_unprepared(trigger).await.expect("trigger");
    let line = failure_line(&import(&app, &source, &[]));
    assert!(line.starts_with("error: writing the import failed and nothing was committed"), "{line}");
    assert!(line.contains("refused by the test"), "{line}");
    let store = &app.state.store;
    assert!(store.user_by_id(1).await.expect("read").is_none(), "no user committed");
    assert!(store.api_key_by_access_key(ALICE_ACCESS).await.expect("read").is_none());
    target.execute_unprepared("DROP TRIGGER refuse").await.expect("drop trigger");
    target.close().await.expect("close");
    import_ok(&app, &source, &[]);
    assert!(store.user_by_id(1).await.expect("read").is_some(), "the same import runs once the cause is gone");
}
