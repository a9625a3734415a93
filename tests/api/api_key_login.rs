//! API-key logins on `POST /jwt/token`: both spellings, scopes, failures, revocation through the
//! credential cache, `last_used_at` and `inject`, on every backend.

use authify::domain::InvalidValue;
use authify::error::Error;
use authify::service::directory::api_keys;
use authify::service::directory::users;
use serde_json::json;

use crate::backend_tests;
use crate::support::app::{Backend, TestApp, spawn};
use crate::support::credentials::{
    create_key, join_new_organization, key_login, last_used_at, token_request, verified_claims, wait_for_last_used,
};

backend_tests!(
    an_api_key_logs_in_with_underscored_or_dashed_fields,
    a_key_gives_only_the_scopes_it_was_created_with,
    keys_are_refused_scopes_the_owner_lacks_and_past_expiry_dates,
    every_api_key_failure_gets_the_same_401,
    a_disabled_owner_gets_403_after_a_correct_secret_only,
    a_cached_key_still_checks_its_secret_and_failures_are_not_cached,
    a_deleted_key_stops_working_at_once_though_it_was_cached,
    a_demoted_admins_key_loses_admin_access_at_once,
    another_instance_sees_a_demotion_within_the_cache_ttl,
    last_used_at_is_written_at_most_once_a_minute,
    inject_is_copied_into_api_key_tokens_and_capped,
);

async fn an_api_key_logs_in_with_underscored_or_dashed_fields(backend: Backend) {
    let app = spawn(backend).start().await;
    let user = app.insert_user("machine@example.com", true, false).await;
    let org = join_new_organization(&app, &user, "acme", true).await;
    let created = create_key(&app, &user, None, None).await;
    let access = &created.key.access_key;
    assert!(access.len() == 20 && access.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    let hex = created.secret.strip_prefix("authify_sk_").expect("prefixed secret");
    assert!(hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_ne!(created.key.secret_hash, created.secret, "only the hash is stored");
    assert_eq!(api_keys::key_scopes(&created.key), ["user_access"]);

    let underscored = key_login(&app, access, &created.secret).await;
    let dashed = token_request(&app, &[], &json!({"access-key": access, "secret-key": created.secret})).await;
    for answer in [underscored, dashed] {
        let claims = verified_claims(&app, &answer).await;
        assert_eq!(claims["scopes"], json!(["user_access"]));
        assert_eq!(claims["sub"], json!(user.id.to_string()));
        assert_eq!(
            claims["user"],
            json!({"username": "machine@example.com", "uid": user.id,
                   "organizations": [{"name": "acme", "oid": org, "admin": true, "memberships": []}]})
        );
        assert!(claims.get("act").is_none());
    }
}

async fn a_key_gives_only_the_scopes_it_was_created_with(backend: Backend) {
    let app = spawn(backend).start().await;
    let admin = app.insert_user("root@example.com", true, true).await;
    let full = create_key(&app, &admin, None, None).await;
    let narrow = create_key(&app, &admin, Some(&["user_access", "user_access"]), None).await;
    let admin_only = create_key(&app, &admin, Some(&["admin_access"]), None).await;
    assert_eq!(api_keys::key_scopes(&narrow.key), ["user_access"], "duplicates are dropped");

    let claims = verified_claims(&app, &key_login(&app, &full.key.access_key, &full.secret).await).await;
    assert_eq!(claims["scopes"], json!(["user_access", "admin_access"]));
    let claims = verified_claims(&app, &key_login(&app, &narrow.key.access_key, &narrow.secret).await).await;
    assert_eq!(claims["scopes"], json!(["user_access"]));
    let claims = verified_claims(&app, &key_login(&app, &admin_only.key.access_key, &admin_only.secret).await).await;
    assert_eq!(claims["scopes"], json!(["admin_access"]));
}

async fn keys_are_refused_scopes_the_owner_lacks_and_past_expiry_dates(backend: Backend) {
    let app = spawn(backend).start().await;
    let user = app.insert_user("plain@example.com", true, false).await;
    let create = |scopes: Option<Vec<String>>, expires_at: Option<i64>| {
        api_keys::create_api_key(&app.state.directory, &user, None, scopes, expires_at)
    };
    let field_of = |result: Result<api_keys::CreatedApiKey, Error>| match result {
        Err(Error::Invalid(InvalidValue { field, .. })) => field,
        other => panic!("expected a 422, got {other:?}"),
    };
    assert_eq!(field_of(create(Some(vec!["admin_access".into()]), None).await), "scopes");
    assert_eq!(field_of(create(Some(vec!["root".into()]), None).await), "scopes");
    assert_eq!(field_of(create(Some(vec![]), None).await), "scopes");
    assert_eq!(field_of(create(None, Some(app.clock_now())).await), "expires-at");
    assert!(app.state.store.api_keys_of_user(user.id).await.expect("list").is_empty(), "nothing was stored");

    let first = create(None, Some(app.clock_now() + 60)).await.expect("a future expiry is fine");
    let second = create(None, None).await.expect("create");
    let listed = app.state.store.api_keys_of_user(user.id).await.expect("list");
    assert_eq!(listed.iter().map(|k| k.id).collect::<Vec<_>>(), [first.key.id, second.key.id], "oldest first");
    assert_eq!(listed[0].expires_at, Some(app.clock_now() + 60));
}

async fn every_api_key_failure_gets_the_same_401(backend: Backend) {
    let app = spawn(backend).start().await;
    let user = app.insert_user("svc@example.com", true, false).await;
    let unverified = app.insert_user("new@example.com", false, false).await;
    let good = create_key(&app, &user, None, None).await;
    let expiring = create_key(&app, &user, None, Some(app.clock_now() + 30)).await;
    let deleted = create_key(&app, &user, None, None).await;
    let of_unverified = create_key(&app, &unverified, None, None).await;
    assert_eq!(key_login(&app, &expiring.key.access_key, &expiring.secret).await.0, 200, "good until it expires");
    assert!(
        api_keys::delete_api_key(&app.state.directory, app.state.sessions(), deleted.key.id).await.expect("delete")
    );
    assert!(
        !api_keys::delete_api_key(&app.state.directory, app.state.sessions(), deleted.key.id)
            .await
            .expect("delete again")
    );
    app.clock.advance(30);

    let failures = [
        token_request(&app, &[], &json!({"access_key": good.key.access_key, "secret_key": "authify_sk_0"})).await,
        key_login(&app, "0123456789abcdef0123", &good.secret).await,
        key_login(&app, &expiring.key.access_key, &expiring.secret).await,
        key_login(&app, &deleted.key.access_key, &deleted.secret).await,
        key_login(&app, &of_unverified.key.access_key, &of_unverified.secret).await,
        token_request(&app, &[], &json!({"access_key": good.key.access_key})).await,
        // The secret of one key does not open another.
        key_login(&app, &good.key.access_key, &deleted.secret).await,
    ];
    for (status, body) in &failures {
        assert_eq!(*status, 401);
        assert_eq!(*body, json!({"error": "Invalid credentials"}));
    }
    let response = app
        .client
        .post(app.url("/jwt/token"))
        .json(&json!({"access_key": good.key.access_key, "secret_key": "wrong"}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.headers()["www-authenticate"], r#"Bearer realm="authify""#);
    assert_eq!(key_login(&app, &good.key.access_key, &good.secret).await.0, 200, "the good key still works");
}

async fn a_disabled_owner_gets_403_after_a_correct_secret_only(backend: Backend) {
    let app = spawn(backend).start().await;
    let user = app.insert_user("gone@example.com", true, false).await;
    let key = create_key(&app, &user, None, None).await;
    assert_eq!(key_login(&app, &key.key.access_key, &key.secret).await.0, 200);
    users::set_disabled(&app.state.directory, app.state.sessions(), user.id, true).await.expect("disable");
    assert_eq!(key_login(&app, &key.key.access_key, "authify_sk_wrong").await.0, 401);
    let (status, body) = key_login(&app, &key.key.access_key, &key.secret).await;
    assert_eq!((status, body), (403, json!({"error": "Account disabled"})));
    users::set_disabled(&app.state.directory, app.state.sessions(), user.id, false).await.expect("enable");
    assert_eq!(key_login(&app, &key.key.access_key, &key.secret).await.0, 200);
}

async fn a_cached_key_still_checks_its_secret_and_failures_are_not_cached(backend: Backend) {
    let app = spawn(backend).start().await;
    let user = app.insert_user("svc@example.com", true, false).await;
    let key = create_key(&app, &user, None, None).await;
    let access = &key.key.access_key;
    assert_eq!(key_login(&app, access, "authify_sk_wrong").await.0, 401);
    assert_eq!(key_login(&app, "ffffffffffffffffffff", &key.secret).await.0, 401);
    assert!(app.state.directory.credentials.is_empty(), "failed logins are not cached");

    assert_eq!(key_login(&app, access, &key.secret).await.0, 200);
    assert_eq!(app.state.directory.credentials.len(), 1);
    assert_eq!(key_login(&app, access, "authify_sk_wrong").await.0, 401, "a cached key checks the secret");
    assert_eq!(key_login(&app, access, "").await.0, 401);
    assert_eq!(key_login(&app, access, &key.secret).await.0, 200);
}

async fn a_deleted_key_stops_working_at_once_though_it_was_cached(backend: Backend) {
    let app = spawn(backend).start().await;
    let user = app.insert_user("svc@example.com", true, false).await;
    let key = create_key(&app, &user, None, None).await;
    let other = create_key(&app, &user, None, None).await;
    for _ in 0..3 {
        assert_eq!(key_login(&app, &key.key.access_key, &key.secret).await.0, 200);
    }
    assert_eq!(app.state.directory.credentials.len(), 1, "the key is served from the cache");
    assert!(api_keys::delete_api_key(&app.state.directory, app.state.sessions(), key.key.id).await.expect("delete"));
    assert_eq!(key_login(&app, &key.key.access_key, &key.secret).await.0, 401);
    assert_eq!(key_login(&app, &other.key.access_key, &other.secret).await.0, 200, "other keys are unaffected");
}

async fn a_demoted_admins_key_loses_admin_access_at_once(backend: Backend) {
    let app = spawn(backend).start().await;
    let admin = app.insert_user("root@example.com", true, true).await;
    let full = create_key(&app, &admin, None, None).await;
    let admin_only = create_key(&app, &admin, Some(&["admin_access"]), None).await;
    let claims = verified_claims(&app, &key_login(&app, &full.key.access_key, &full.secret).await).await;
    assert_eq!(claims["scopes"], json!(["user_access", "admin_access"]));
    assert_eq!(key_login(&app, &admin_only.key.access_key, &admin_only.secret).await.0, 200);

    users::set_admin(&app.state.directory, admin.id, false).await.expect("demote");
    let claims = verified_claims(&app, &key_login(&app, &full.key.access_key, &full.secret).await).await;
    assert_eq!(claims["scopes"], json!(["user_access"]));
    // A key that grants nothing the owner still holds is no credential at all.
    assert_eq!(key_login(&app, &admin_only.key.access_key, &admin_only.secret).await.0, 401);

    users::set_admin(&app.state.directory, admin.id, true).await.expect("promote");
    let claims = verified_claims(&app, &key_login(&app, &full.key.access_key, &full.secret).await).await;
    assert_eq!(claims["scopes"], json!(["user_access", "admin_access"]));
}

async fn another_instance_sees_a_demotion_within_the_cache_ttl(backend: Backend) {
    let first = spawn(backend).settings(|s| s.credential_cache_seconds = 5).start().await;
    let second = first.second_instance(|_| {}).await;
    let uncached = first.second_instance(|s| s.credential_cache_seconds = 0).await;
    let admin = first.insert_user("root@example.com", true, true).await;
    let key = create_key(&first, &admin, None, None).await;
    let (access, secret) = (key.key.access_key.as_str(), key.secret.as_str());
    assert_eq!(scopes_of_key(&second, access, secret).await, json!(["user_access", "admin_access"]));
    assert_eq!(scopes_of_key(&uncached, access, secret).await, json!(["user_access", "admin_access"]));

    users::set_admin(&first.state.directory, admin.id, false).await.expect("demote");
    assert_eq!(scopes_of_key(&first, access, secret).await, json!(["user_access"]));
    assert_eq!(scopes_of_key(&uncached, access, secret).await, json!(["user_access"]), "no cache: at once");
    // The second instance did not see the change happen; it may serve its cached entry for the TTL...
    second.clock.advance(4);
    assert_eq!(scopes_of_key(&second, access, secret).await, json!(["user_access", "admin_access"]));
    // ...and no longer.
    second.clock.advance(1);
    assert_eq!(scopes_of_key(&second, access, secret).await, json!(["user_access"]));
}

async fn scopes_of_key(app: &TestApp, access: &str, secret: &str) -> serde_json::Value {
    verified_claims(app, &key_login(app, access, secret).await).await["scopes"].clone()
}

async fn last_used_at_is_written_at_most_once_a_minute(backend: Backend) {
    let app = spawn(backend).start().await;
    let user = app.insert_user("busy@example.com", true, false).await;
    let key = create_key(&app, &user, None, None).await;
    let (id, access) = (key.key.id, &key.key.access_key);
    assert_eq!(last_used_at(&app, id).await, None);

    let start = app.clock_now();
    assert_eq!(key_login(&app, access, &key.secret).await.0, 200);
    wait_for_last_used(&app, id, start).await;
    app.clock.advance(59);
    for _ in 0..5 {
        assert_eq!(key_login(&app, access, &key.secret).await.0, 200);
    }
    // A write would have been started before the next login; give a late one time to land.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(last_used_at(&app, id).await, Some(start), "no write within the minute");

    app.clock.advance(1);
    assert_eq!(key_login(&app, access, &key.secret).await.0, 200);
    wait_for_last_used(&app, id, start + 60).await;
    // The database keeps the rule too, whoever writes (another instance, a cold cache).
    assert!(!app.state.store.touch_api_key(id, start + 90).await.expect("touch"));
    assert!(app.state.store.touch_api_key(id, start + 120).await.expect("touch"));
    assert_eq!(last_used_at(&app, id).await, Some(start + 120));
}

async fn inject_is_copied_into_api_key_tokens_and_capped(backend: Backend) {
    let app = spawn(backend).start().await;
    let user = app.insert_user("svc@example.com", true, false).await;
    let key = create_key(&app, &user, None, None).await;
    let body = json!({"access_key": key.key.access_key, "secret_key": key.secret, "inject": {"foo": "bar"}});
    let claims = verified_claims(&app, &token_request(&app, &[], &body).await).await;
    assert_eq!(claims["custom"], json!({"foo": "bar"}));
    // Inject is per request: the cached entry does not keep it.
    let claims = verified_claims(&app, &key_login(&app, &key.key.access_key, &key.secret).await).await;
    assert!(claims.get("custom").is_none());

    for inject in [json!({"big": "x".repeat(5000)}), json!("text")] {
        let body = json!({"access_key": key.key.access_key, "secret_key": key.secret, "inject": inject});
        let (status, body) = token_request(&app, &[], &body).await;
        assert_eq!(status, 422);
        assert!(body["error"].as_str().is_some_and(|e| e.starts_with("inject:")), "{body}");
    }
}
