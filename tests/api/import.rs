//! `authify import authify-api` (issue 22), run as the real binary from an authify-api database
//! (tests/fixtures/authify-api, on the test's backend) into a running instance's database: every
//! credential keeps working and is upgraded at first use, ids and memberships are kept, bad rows
//! are reported and skipped, and the import commits all of it or nothing.

use authify::crypto::secret::hash_secret;
use authify::store::api_keys::NewApiKey;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::cli::failure_line;
use crate::import_source::*;
use crate::support::app::{Backend, TestApp, spawn};

backend_tests!(
    every_credential_keeps_working_after_the_import_and_is_upgraded_at_first_use,
    ids_memberships_and_the_report_match_the_source_and_new_rows_get_fresh_ids,
    a_second_import_is_refused_and_merge_adds_only_what_is_missing,
    a_dry_run_checks_everything_and_commits_nothing,
);

/// The report's counts (`read`, `imported`, `folded`, `skipped`) of one table.
fn counts(report: &Value, table: &str) -> [u64; 4] {
    let c = &report["tables"][table];
    ["read", "imported", "folded", "skipped"].map(|k| c[k].as_u64().unwrap_or(u64::MAX))
}

async fn imported(backend: Backend) -> (TestApp, Source, Value) {
    let app = spawn(backend.clone()).start().await;
    let source = Source::fixture(&backend, app.dir.path()).await;
    let report: Value = serde_json::from_str(&import_ok(&app, &source, &["--json"])).expect("a JSON report");
    (app, source, report)
}

async fn key_login(app: &TestApp, access: &str, secret: &str) -> (u16, Value) {
    let response = app.post_json("/jwt/token", &json!({"access_key": access, "secret_key": secret})).await;
    (response.status().as_u16(), response.json().await.expect("JSON"))
}

/// An identity login through the imported delegate: a delegate-authenticated request.
async fn delegate_login(app: &TestApp, secret: &str) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/jwt/token"))
        .header("X-Authify-Access", DELEGATE_ACCESS)
        .header("X-Authify-Secret", secret)
        .json(&json!({"provider": "github", "uid": "1001"}))
        .send()
        .await
        .expect("request");
    (response.status().as_u16(), response.json().await.expect("JSON"))
}

async fn every_credential_keeps_working_after_the_import_and_is_upgraded_at_first_use(backend: Backend) {
    let (app, _source, report) = imported(backend).await;
    assert_eq!(report["committed"], true, "{report}");
    let store = &app.state.store;

    // Passwords: a wrong one is still wrong; the right one works and leaves argon2id behind.
    assert_eq!(app.login("alice@example.com", "alice-password-2").await.0, 401);
    let (status, body) = app.login("alice@example.com", ALICE_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let alice = store.user_by_id(1).await.expect("read").expect("alice");
    assert!(alice.password_digest.as_deref().is_some_and(|d| d.starts_with("$argon2id$")), "{alice:?}");
    assert_eq!(app.login("alice@example.com", ALICE_PASSWORD).await.0, 200);

    // API keys: authify-api's access key and unprefixed secret log in at /jwt/token.
    assert_eq!(key_login(&app, ALICE_ACCESS, &BOB_SECRET.replace('a', "b")).await.0, 401, "wrong secret");
    let before = store.api_key_by_access_key(ALICE_ACCESS).await.expect("read").expect("key");
    assert_eq!(before.secret_hash.len(), 144, "still authify-api's digest");
    let (status, body) = key_login(&app, ALICE_ACCESS, ALICE_SECRET).await;
    assert_eq!(status, 200, "{body}");
    let claims = app.verify(body["jwt"].as_str().expect("jwt")).await;
    assert_eq!(claims["payload"]["user"]["uid"], 1, "{claims}");
    assert_eq!(claims["payload"]["scopes"], json!(["user_access", "admin_access"]), "alice is an admin");
    let after = store.api_key_by_access_key(ALICE_ACCESS).await.expect("read").expect("key");
    assert_eq!(after.secret_hash, hash_secret(ALICE_SECRET), "upgraded to Authify's digest");
    assert_eq!((after.id, after.user_id, &after.access_key), (before.id, before.user_id, &before.access_key));
    assert_eq!(key_login(&app, ALICE_ACCESS, ALICE_SECRET).await.0, 200, "works after the upgrade");
    assert_eq!(key_login(&app, ALICE_ACCESS, BOB_SECRET).await.0, 401);

    // The trusted delegate: a wrong secret is refused and changes nothing; the right one works.
    let secret = delegate_secret();
    assert_eq!(delegate_login(&app, &secret.replace('9', "8")).await.0, 401);
    let stored = store.delegate_by_access_key(DELEGATE_ACCESS).await.expect("read").expect("delegate");
    assert_eq!(stored.secret_hash.len(), 144);
    let (status, body) = delegate_login(&app, &secret).await;
    assert_eq!(status, 200, "{body}");
    let claims = app.verify(body["jwt"].as_str().expect("jwt")).await;
    assert_eq!(claims["payload"]["user"]["uid"], 1, "github 1001 is alice: {claims}");
    assert_eq!(claims["payload"]["act"]["sub"], "delegate:sso-portal", "{claims}");
    let stored = store.delegate_by_access_key(DELEGATE_ACCESS).await.expect("read").expect("delegate");
    assert_eq!(stored.secret_hash, hash_secret(&secret));
    assert_eq!(delegate_login(&app, &secret).await.0, 200, "works after the upgrade");

    // Bob's `verified` was NULL: unverified, so his password and key are right but he may not log
    // in while verification is required (the default), as with any unverified account; a refused
    // login replaces no digest.
    let bob = store.user_by_id(2).await.expect("read").expect("bob");
    assert!(!bob.verified);
    assert_eq!(app.login("bob@example.com", BOB_PASSWORD).await.0, 401);
    assert_eq!(key_login(&app, BOB_ACCESS, BOB_SECRET).await.0, 401);
    let key = store.api_key_by_access_key(BOB_ACCESS).await.expect("read").expect("key");
    assert_eq!(key.secret_hash.len(), 144);
    let bob = store.user_by_id(2).await.expect("read").expect("bob");
    assert!(bob.password_digest.is_some_and(|d| !d.starts_with("$argon2")));
}

async fn ids_memberships_and_the_report_match_the_source_and_new_rows_get_fresh_ids(backend: Backend) {
    let (app, _source, report) = imported(backend).await;
    let store = &app.state.store;
    assert_eq!(counts(&report, "users"), [6, 3, 0, 3], "{report}");
    assert_eq!(counts(&report, "organizations"), [2, 2, 0, 0]);
    assert_eq!(counts(&report, "organization_memberships"), [6, 3, 1, 2]);
    assert_eq!(counts(&report, "groups"), [2, 2, 0, 0]);
    assert_eq!(counts(&report, "groups_users"), [4, 2, 1, 1]);
    assert_eq!(counts(&report, "identities"), [2, 1, 0, 1]);
    assert_eq!(counts(&report, "apikeys"), [3, 2, 0, 1]);
    assert_eq!(counts(&report, "trusted_delegates"), [1, 1, 0, 0]);
    let skipped: Vec<(String, Value, String)> = report["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .map(|s| {
            (s["table"].as_str().unwrap_or("").to_owned(), s["id"].clone(), s["code"].as_str().unwrap_or("").to_owned())
        })
        .collect();
    for expected in [
        ("users", json!(3), "invalid_email"),
        ("users", json!(5), "duplicate_email"),
        ("users", json!(7), "invalid_handle"),
        ("organization_memberships", json!(5), "orphan"),
        ("apikeys", json!(2), "orphan"),
        ("identities", json!(2), "orphan"),
    ] {
        let expected = (expected.0.to_owned(), expected.1, expected.2.to_owned());
        assert!(skipped.contains(&expected), "{expected:?} in {report}");
    }

    let user = |id| async move { store.user_by_id(id).await.expect("read") };
    let alice = user(1).await.expect("alice keeps id 1");
    assert_eq!(
        (alice.email.as_str(), alice.handle.as_str(), alice.admin, alice.verified),
        ("alice@example.com", "alice", true, true)
    );
    assert_eq!(alice.full_name.as_deref(), Some("Alice Admin"));
    assert_eq!(alice.created_at, 1_499_855_600, "2017-07-12 10:33:20 UTC");
    let dave = user(4).await.expect("dave keeps id 4");
    assert_eq!((dave.handle.as_str(), dave.password_digest.as_deref(), dave.verified), ("dave", None, false));
    for gone in [3, 5, 7] {
        assert!(user(gone).await.is_none(), "user {gone} was skipped");
    }

    // Memberships: alice is Acme's admin; bob's two Acme rows are one plain membership; bob admins Globex.
    let claims = |id| async move { store.organization_claims(id).await.expect("claims") };
    let alice_orgs: Vec<(i64, bool)> = claims(1).await.iter().map(|o| (o.oid, o.admin)).collect();
    assert_eq!(alice_orgs, [(1, true)]);
    let mut bob_orgs: Vec<(i64, bool)> = claims(2).await.iter().map(|o| (o.oid, o.admin)).collect();
    bob_orgs.sort();
    assert_eq!(bob_orgs, [(1, false), (2, true)]);
    let members: Vec<i64> = store.group_members(1).await.expect("members").iter().map(|u| u.id).collect();
    assert_eq!(members, [1, 2]);
    assert_eq!(store.group_by_id(2).await.expect("read").map(|g| g.organization_id), Some(2));
    let identity = store.identity_by_provider_uid("github", "1001").await.expect("read").expect("identity");
    assert_eq!((identity.id, identity.user_id), (1, 1));
    let keys: Vec<i64> = store.api_keys_of_user(2).await.expect("keys").iter().map(|k| k.id).collect();
    assert_eq!(keys, [3]);

    // New rows get ids past the imported ones (PostgreSQL's sequences were moved).
    let carol = app.insert_user("carol@example.com", true, false).await;
    assert!(carol.id > 4, "{}", carol.id);
    let new = NewApiKey {
        user_id: carol.id,
        name: None,
        access_key: "aaaaaaaaaaaaaaaaaaaa".into(),
        secret_hash: hash_secret("x"),
        scopes: "user_access".into(),
        expires_at: None,
        now: app.clock_now(),
    };
    assert!(store.insert_api_key(new).await.expect("a new key").id > 3);
}

async fn a_second_import_is_refused_and_merge_adds_only_what_is_missing(backend: Backend) {
    let (app, source, _) = imported(backend).await;
    let refused = failure_line(&import(&app, &source, &[]));
    assert!(refused.contains("already holds 3 users") && refused.contains("--merge"), "{refused}");

    let report: Value = serde_json::from_str(&import_ok(&app, &source, &["--merge", "--json"])).expect("JSON");
    for table in ["users", "organizations", "apikeys", "trusted_delegates", "groups_users"] {
        assert_eq!(report["tables"][table]["imported"], 0, "{table}: {report}");
    }
    let present =
        report["skipped"].as_array().expect("skipped").iter().filter(|s| s["code"] == "already_present").count();
    assert!(present >= 7, "{report}");

    // A user added to authify-api since, with a key: merged; an existing email is not taken twice.
    source
        .execute(
            "INSERT INTO users (id, email, full_name, created_at, updated_at, admin, verified, handle) VALUES \
             (8, 'frank@example.com', 'Frank', '2017-08-01 10:00:00', '2017-08-01 10:00:00', FALSE, TRUE, 'frank'), \
             (9, ' alice@example.com', 'Alice again', '2017-08-01 10:00:00', '2017-08-01 10:00:00', FALSE, TRUE, 'alice9')",
        )
        .await;
    let text = import_ok(&app, &source, &["--merge"]);
    assert!(text.contains("users id 9: the target already has a user with email alice@example.com"), "{text}");
    let frank = app.state.store.user_by_id(8).await.expect("read").expect("frank merged");
    assert_eq!(frank.email, "frank@example.com");
    assert!(app.state.store.user_by_id(9).await.expect("read").is_none());
}

async fn a_dry_run_checks_everything_and_commits_nothing(backend: Backend) {
    let app = spawn(backend.clone()).start().await;
    let source = Source::fixture(&backend, app.dir.path()).await;
    let report: Value = serde_json::from_str(&import_ok(&app, &source, &["--dry-run", "--json"])).expect("JSON");
    assert_eq!((report["dry_run"].clone(), report["committed"].clone()), (json!(true), json!(false)));
    assert_eq!(counts(&report, "users"), [6, 3, 0, 3], "the same report as a real import: {report}");
    let text = import_ok(&app, &source, &["--dry-run"]);
    assert!(text.contains("nothing was committed"), "{text}");
    let store = &app.state.store;
    assert!(store.user_by_id(1).await.expect("read").is_none());
    assert!(store.delegate_by_access_key(DELEGATE_ACCESS).await.expect("read").is_none());
    // Nothing was left behind: the real import still finds an empty database.
    let report: Value = serde_json::from_str(&import_ok(&app, &source, &["--json"])).expect("JSON");
    assert_eq!(report["committed"], true);
    assert!(store.user_by_id(1).await.expect("read").is_some());
}
