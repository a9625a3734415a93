//! Keys shared by every instance through the database (issue 25): scheduled rotation publishes a
//! key before it signs on every instance, the old key verifies for a token lifetime and then
//! leaves the JWKS, an emergency rotation refuses a retired key's tokens everywhere within the poll
//! interval, private keys are sealed at rest, and key files (authify-api's too) are imported.

use std::sync::Arc;

use authify::app::Application;
use authify::config::{KeyStore, SecretString, Settings};
use authify::store::entity::{audit_event, signing_key};
use base64::Engine;
use sea_orm::{ColumnTrait, Database, EntityTrait, QueryFilter};
use serde_json::Value;

use crate::backend_tests;
use crate::cli::run;
use crate::support::app::{Backend, TestApp, jwt_segment, spawn};
use crate::support::jsonapi::As;
use crate::support::tokens::eventually;

backend_tests!(
    a_scheduled_rotation_publishes_before_it_signs_on_every_instance_and_the_old_key_leaves_on_time,
    an_emergency_rotation_refuses_the_retired_keys_tokens_on_every_instance_within_the_poll_interval,
    private_keys_are_sealed_in_the_table_and_a_wrong_key_encryption_key_stops_start_up,
    authify_api_key_files_are_imported_and_keep_their_kid_and_public_key,
);

const DAY: i64 = 86_400;
/// AUTHIFY_KEY_ROTATION_DELAY's default: how long a new key is published before it signs.
const DELAY: i64 = 900;
/// AUTHIFY_JWT_EXPIRATION's default (15 min) with no leeway.
const LIFETIME: i64 = 900;

fn shared(settings: &mut Settings) {
    settings.key_store = KeyStore::Database;
    settings.key_poll_ms = 100;
}

/// `count` instances on one database with the shared key store, their clocks in step.
async fn instances(backend: Backend, count: usize, rotation_days: u32) -> Vec<TestApp> {
    let first = spawn(backend)
        .settings(move |s| {
            shared(s);
            s.key_rotation_days = rotation_days;
        })
        .start()
        .await;
    first.insert_user("pat@example.com", true, false).await;
    let mut all = vec![first];
    for _ in 1..count {
        let next = all[0].second_instance(|_| {}).await;
        next.clock.advance(all[0].clock_now() - next.clock_now());
        all.push(next);
    }
    all
}

/// A relying service that caches the JWKS for the `max-age` Authify sends, on Authify's clock.
struct CachingVerifier {
    fetched_at: i64,
    max_age: i64,
    kids: Vec<String>,
}

impl CachingVerifier {
    async fn new(app: &TestApp) -> Self {
        let mut cache = Self { fetched_at: 0, max_age: 0, kids: Vec::new() };
        cache.fetch(app).await;
        cache
    }

    async fn fetch(&mut self, app: &TestApp) {
        let response = app.get("/.well-known/jwks.json").await;
        let control = response.headers()["cache-control"].to_str().expect("ASCII").to_owned();
        self.max_age = control.rsplit("max-age=").next().and_then(|n| n.parse().ok()).expect("max-age");
        let jwks: Value = response.json().await.expect("JWKS");
        let keys = jwks["keys"].as_array().expect("keys");
        self.kids = keys.iter().map(|k| k["kid"].as_str().expect("kid").to_owned()).collect();
        self.fetched_at = app.clock_now();
    }

    /// Whether it finds the key of `token`, refetching only once its copy is older than max-age.
    async fn knows(&mut self, app: &TestApp, token: &str) -> bool {
        if app.clock_now() - self.fetched_at >= self.max_age {
            self.fetch(app).await;
        }
        self.kids.contains(&kid(token))
    }
}

/// A relying service that caches like Node's `jose` (`createRemoteJWKSet`): it keeps its copy for
/// 10 minutes whatever max-age says, and refetches on an unknown `kid` at most once per 30 s.
struct JoseLikeVerifier {
    fetched_at: i64,
    kids: Vec<String>,
}

impl JoseLikeVerifier {
    const CACHE_MAX_AGE: i64 = 600;
    const COOLDOWN: i64 = 30;

    async fn fetch(&mut self, app: &TestApp) {
        self.kids = published(app).await;
        self.fetched_at = app.clock_now();
    }

    async fn knows(&mut self, app: &TestApp, token: &str) -> bool {
        let age = app.clock_now() - self.fetched_at;
        let unknown = !self.kids.contains(&kid(token));
        if age >= Self::CACHE_MAX_AGE || (unknown && age >= Self::COOLDOWN) {
            self.fetch(app).await;
        }
        self.kids.contains(&kid(token))
    }
}

fn advance(apps: &[&TestApp], seconds: i64) {
    for app in apps {
        app.clock.advance(seconds);
    }
}

async fn published(app: &TestApp) -> Vec<String> {
    let jwks: Value = app.get("/.well-known/jwks.json").await.json().await.expect("JWKS");
    jwks["keys"].as_array().expect("keys").iter().map(|k| k["kid"].as_str().expect("kid").to_owned()).collect()
}

fn kid(token: &str) -> String {
    jwt_segment(token, 0)["kid"].as_str().expect("kid").to_owned()
}

/// A token from `app`, checking that every instance publishes the key that signed it.
async fn token_published_everywhere(app: &TestApp, all: &[&TestApp]) -> String {
    let token = app.token_for("pat@example.com").await;
    for other in all {
        assert!(published(other).await.contains(&kid(&token)), "{} is not published by every instance", kid(&token));
    }
    token
}

async fn assert_verifies_everywhere(all: &[&TestApp], token: &str) {
    for app in all {
        let body = app.verify(token).await;
        assert_eq!(body["valid"], true, "{body}");
    }
}

async fn metric(app: &TestApp, name: &str) -> String {
    let text = app.get("/metrics").await.text().await.expect("metrics");
    text.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name} in {text}")).to_owned()
}

async fn a_scheduled_rotation_publishes_before_it_signs_on_every_instance_and_the_old_key_leaves_on_time(
    backend: Backend,
) {
    let apps = instances(backend, 3, 30).await;
    let all: Vec<&TestApp> = apps.iter().collect();
    let (a, b, c) = (&apps[0], &apps[1], &apps[2]);
    let first = token_published_everywhere(a, &all).await;
    let old = kid(&first);
    assert_eq!(published(b).await, std::slice::from_ref(&old));
    let next_step = metric(a, "authify_key_next_step_seconds").await;
    assert_eq!(next_step, format!("authify_key_next_step_seconds {}", 30 * DAY - DELAY));
    // A relying service whose copy of the JWKS is as old as can be when the next key is added.
    advance(&all, 30 * DAY - DELAY - 1);
    let mut relying = CachingVerifier::new(c).await;
    let mut jose = JoseLikeVerifier { fetched_at: 0, kids: Vec::new() };
    jose.fetch(c).await;

    // The schedule adds the next key a publish delay before the 30 days end: every instance
    // publishes it within the poll interval, and none signs with it yet.
    advance(&all, 1);
    for app in &all {
        eventually("every instance publishes the next key", || async { published(app).await.len() == 2 }).await;
    }
    let new = published(a).await.into_iter().find(|k| *k != old).expect("the next key");
    for _ in 0..(DELAY / 60 - 1) {
        advance(&all, 60);
        let token = token_published_everywhere(b, &all).await;
        assert_eq!(kid(&token), old, "not signing before its time");
        assert!(relying.knows(c, &token).await);
        assert!(jose.knows(c, &token).await);
    }
    // The jose-like service fetches 5 s before the new key signs: its cooldown then forbids a
    // refetch when the first new-key token comes, so it must already have the key.
    advance(&all, 54);
    jose.fetch(c).await;
    advance(&all, 5);
    let late_old = token_published_everywhere(b, &all).await;
    assert_eq!(kid(&late_old), old, "not signing before its time");
    assert_eq!(kid(&token_published_everywhere(a, &all).await), old);

    // At its time it signs on every instance; the old key's tokens still verify everywhere, and
    // the caching relying service knows the new key already.
    advance(&all, 1);
    for app in &all {
        let token = token_published_everywhere(app, &all).await;
        assert_eq!(kid(&token), new);
        assert!(relying.knows(c, &token).await, "the relying service knows the new key");
        assert!(jose.knows(c, &token).await, "the jose-like service knows the new key");
    }
    assert_verifies_everywhere(&all, &late_old).await;
    assert!(metric(b, "authify_signing_key_info").await.contains(&new));

    // One token lifetime after it stopped signing, the old key leaves every JWKS and its row retires.
    advance(&all, LIFETIME - 2);
    assert_verifies_everywhere(&all, &late_old).await;
    advance(&all, 2);
    for app in &all {
        eventually("the old key leaves the JWKS", || async { published(app).await == [new.clone()] }).await;
    }
    let conn = Database::connect(a.settings.db_url.as_str()).await.expect("connect");
    eventually("the old key is retired in the store", || async {
        let row = signing_key::Entity::find().filter(signing_key::Column::Kid.eq(&old)).one(&conn).await;
        row.ok().flatten().is_some_and(|r| r.state == "retired")
    })
    .await;
    let rows = signing_key::Entity::find().all(&conn).await.expect("rows");
    assert_eq!(rows.len(), 2, "exactly one instance added the next key");
    // The audit trail is written in the background: wait for the step's event, then for every
    // instance's queue, and count.
    let count = |action: &'static str| {
        let conn = &conn;
        async move {
            let events = audit_event::Entity::find().filter(audit_event::Column::Action.eq(action)).all(conn).await;
            events.expect("audit").len()
        }
    };
    eventually("the retirement is audited", || async { count("keys.retire").await > 0 }).await;
    for app in &all {
        app.state.audit.flush().await;
    }
    for action in ["keys.rotate", "keys.sign", "keys.retire"] {
        assert_eq!(count(action).await, 1, "exactly one instance performed {action}");
    }
}

async fn an_emergency_rotation_refuses_the_retired_keys_tokens_on_every_instance_within_the_poll_interval(
    backend: Backend,
) {
    let apps = instances(backend, 2, 0).await;
    let all: Vec<&TestApp> = apps.iter().collect();
    let (a, b) = (&apps[0], &apps[1]);
    let compromised = token_published_everywhere(a, &all).await;
    let old = kid(&compromised);
    assert_eq!(b.api_get("/users", &As::Bearer(compromised.clone())).await.status, 200);

    let env = [
        ("AUTHIFY_DB_URL", a.settings.db_url.as_str()),
        ("AUTHIFY_KEY_STORE", "database"),
        ("AUTHIFY_JWT_ALGORITHM", "ES256"),
        ("USER", "ops"),
    ];
    let rotated = run(a.dir.path(), &env, &["keys", "rotate", "--now", "--retire", &old], "");
    assert!(rotated.status.success(), "{}", String::from_utf8_lossy(&rotated.stderr));

    for app in &all {
        eventually("the retired key's tokens are refused", || async {
            app.verify(&compromised).await["valid"] == false
        })
        .await;
        assert_eq!(app.verify_error(&compromised).await, "Signature verification raised");
        assert_eq!(app.api_get("/users", &As::Bearer(compromised.clone())).await.status, 401);
        assert!(!published(app).await.contains(&old));
    }
    let fresh = token_published_everywhere(b, &all).await;
    assert_ne!(kid(&fresh), old);
    assert_verifies_everywhere(&all, &fresh).await;

    let listed = run(a.dir.path(), &env, &["keys", "list", "--json"], "");
    let listed: Value = serde_json::from_slice(&listed.stdout).expect("JSON list");
    let state_of =
        |kid: &str| listed.as_array().expect("rows").iter().find(|r| r["kid"] == kid).map(|r| r["state"].clone());
    assert_eq!(state_of(&old), Some("retired".into()), "{listed}");
    assert_eq!(state_of(&kid(&fresh)), Some("signing".into()), "{listed}");
    let table = String::from_utf8(run(a.dir.path(), &env, &["keys", "list"], "").stdout).expect("utf-8");
    let row = table.lines().find(|l| l.starts_with(&old)).expect("the retired key's row");
    assert!(row.contains(" retired ") && !row.contains("until"), "{table}");

    let conn = Database::connect(a.settings.db_url.as_str()).await.expect("connect");
    let retired = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("keys.retire"))
        .all(&conn)
        .await
        .expect("audit");
    assert_eq!(retired.len(), 1, "{retired:?}");
    assert_eq!(
        (retired[0].actor.as_str(), retired[0].target.as_deref()),
        ("cli:ops", Some(format!("kid:{old}").as_str()))
    );
}

async fn private_keys_are_sealed_in_the_table_and_a_wrong_key_encryption_key_stops_start_up(backend: Backend) {
    let a = spawn(backend).settings(shared).start().await;
    a.insert_user("pat@example.com", true, false).await;
    let token = a.token_for("pat@example.com").await;
    let private = a.private_key_pem();
    let body: String = private.lines().filter(|l| !l.starts_with("-----")).collect();

    let conn = Database::connect(a.settings.db_url.as_str()).await.expect("connect");
    let rows = signing_key::Entity::find().all(&conn).await.expect("rows");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].kid, kid(&token));
    let dump = format!("{rows:?}");
    assert!(dump.contains("BEGIN PUBLIC KEY"), "the public key is stored in clear");
    for window in body.as_bytes().windows(24) {
        let window = std::str::from_utf8(window).expect("ASCII");
        assert!(!dump.contains(window), "a piece of the private key is in the table in clear");
    }

    let mut wrong = a.settings.clone();
    wrong.key_encryption_key_path = Some(a.dir.path().join("another.key"));
    let clock = Arc::new(authify::clock::ManualClock::new());
    let error = Application::build(wrong, clock).await.err().expect("a wrong key-encryption key stops start-up");
    let line = error.to_string();
    assert!(!line.contains('\n'), "{line}");
    assert!(line.starts_with("AUTHIFY_KEY_ENCRYPTION_KEY_PATH: "), "{line}");
    assert!(line.contains("another key-encryption key"), "{line}");

    // The key may come from the environment instead of the file: the right one starts, another stops.
    let from_env = |key: String| {
        let mut settings = a.settings.clone();
        settings.key_encryption_key = Some(SecretString::new(key));
        Application::build(settings, Arc::new(authify::clock::ManualClock::new()))
    };
    let right = std::fs::read_to_string(a.settings.totp_key_file()).expect("the key file");
    assert!(from_env(right).await.is_ok(), "the file's key given in the environment opens the store");
    let other = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let line = from_env(other).await.err().expect("another key stops start-up").to_string();
    assert!(line.starts_with("AUTHIFY_KEY_ENCRYPTION_KEY: the key does not open"), "{line}");
    let line = from_env("short".into()).await.err().expect("a malformed key stops start-up").to_string();
    assert_eq!(line, "AUTHIFY_KEY_ENCRYPTION_KEY: not a base64 256-bit key");
}

async fn authify_api_key_files_are_imported_and_keep_their_kid_and_public_key(backend: Backend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (private, public, public_pem) = crate::authify_readme::readme_openssl_keys(dir.path());
    let a = spawn(backend)
        .algorithm(authify::crypto::Algorithm::Es512)
        .settings(move |s| {
            shared(s);
            (s.privkey_path, s.pubkey_path) = (private, public);
        })
        .start()
        .await;
    let key: Value = a.get("/jwt/key").await.json().await.expect("JSON");
    assert_eq!(key["data"].as_str().map(str::trim), Some(public_pem.trim()));
    a.insert_user("pat@example.com", true, false).await;
    let token = a.token_for("pat@example.com").await;
    assert_eq!(jwt_segment(&token, 0)["alg"], "ES512");
    assert_eq!(published(&a).await, [kid(&token)]);
    assert_eq!(a.verify(&token).await["valid"], true);

    // A second instance finds the key in the store and does not import again.
    let b = a.second_instance(|_| {}).await;
    b.clock.advance(a.clock_now() - b.clock_now());
    assert_eq!(b.verify(&token).await["valid"], true);
    assert_eq!(kid(&b.token_for("pat@example.com").await), kid(&token));
    let conn = Database::connect(a.settings.db_url.as_str()).await.expect("connect");
    let rows = signing_key::Entity::find().all(&conn).await.expect("rows");
    assert_eq!(rows.iter().map(|r| (r.origin.as_str(), r.state.as_str())).collect::<Vec<_>>(), [("file", "signing")]);
}
