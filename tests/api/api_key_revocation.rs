//! Deleting an API key revokes the tokens minted with it (their `akid` claim names the key): an
//! `apikey` entry on the revocation list refuses them at `/jwt/verify` and on every route, on
//! every instance, and no instance mints new ones from its credential cache.

use serde_json::json;

use crate::backend_tests;
use crate::support::app::{Backend, spawn};
use crate::support::credentials::{create_key, key_login, verified_claims};
use crate::support::jsonapi::As;
use crate::support::tokens::eventually;

backend_tests!(
    tokens_of_a_deleted_api_key_are_revoked_and_the_key_no_longer_logs_in,
    another_instance_refuses_a_deleted_keys_tokens_and_stops_minting_from_its_cache,
    ending_every_session_with_revoke_api_keys_revokes_the_keys_tokens_too,
);

async fn tokens_of_a_deleted_api_key_are_revoked_and_the_key_no_longer_logs_in(backend: Backend) {
    let app = spawn(backend).start().await;
    let (owner_id, owner) = app.user_with_token("svc@example.com", false).await;
    let owner_user = app.state.store.user_by_id(owner_id).await.expect("read").expect("owner");
    let key = create_key(&app, &owner_user, None, None).await;
    let other = create_key(&app, &owner_user, None, None).await;
    let (access, secret) = (key.key.access_key.as_str(), key.secret.as_str());

    let minted = key_login(&app, access, secret).await;
    let claims = verified_claims(&app, &minted).await;
    assert_eq!(claims["akid"], json!(key.key.id.to_string()), "the key's id, as a string");
    let token = As::Bearer(minted.1["jwt"].as_str().expect("jwt").to_owned());
    let As::Bearer(jwt) = &token else { unreachable!("a bearer") };
    assert_eq!(app.api_get("/me", &token).await.status, 200);
    assert_eq!(key_login(&app, access, secret).await.0, 200, "served from the credential cache now");
    let kept = key_login(&app, &other.key.access_key, &other.secret).await;
    verified_claims(&app, &kept).await;

    let deleted = app.api("DELETE", &format!("/apikeys/{}", key.key.id), &owner, None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);

    assert_eq!(app.verify_error(jwt).await, "Token has been revoked");
    app.api_get("/me", &token).await.error(401);
    assert_eq!(key_login(&app, access, secret).await, (401, json!({"error": "Invalid credentials"})));
    // The owner's other credentials are untouched.
    verified_claims(&app, &kept).await;
    assert_eq!(key_login(&app, &other.key.access_key, &other.secret).await.0, 200);
    assert_eq!(app.api_get("/me", &owner).await.status, 200);
}

async fn another_instance_refuses_a_deleted_keys_tokens_and_stops_minting_from_its_cache(backend: Backend) {
    let first = spawn(backend).start().await;
    // A cache entry that stays fresh for as long as this test runs.
    let second = first.second_instance(|s| s.credential_cache_seconds = 3600).await;
    // Each instance has its own clock, started when it was; one a second ahead finds the other's
    // tokens issued in the future (`Invalid iat`).
    match second.clock_now() - first.clock_now() {
        ahead if ahead > 0 => first.clock.advance(ahead),
        behind => second.clock.advance(-behind),
    }
    let (owner_id, owner) = first.user_with_token("svc@example.com", false).await;
    let owner_user = first.state.store.user_by_id(owner_id).await.expect("read").expect("owner");
    let key = create_key(&first, &owner_user, None, None).await;
    let (access, secret) = (key.key.access_key.as_str(), key.secret.as_str());
    let minted = key_login(&second, access, secret).await;
    let jwt = minted.1["jwt"].as_str().expect("jwt").to_owned();
    verified_claims(&second, &minted).await;
    assert_eq!(key_login(&second, access, secret).await.0, 200, "cached on the second instance");

    let deleted = first.api("DELETE", &format!("/apikeys/{}", key.key.id), &owner, None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert_eq!(first.verify_error(&jwt).await, "Token has been revoked", "at once where it was deleted");
    eventually("the second instance refuses the key's token", || async {
        second.verify(&jwt).await["errors"] == json!(["Token has been revoked"])
    })
    .await;
    assert_eq!(key_login(&second, access, secret).await.0, 401, "its cached entry mints nothing more");
}

async fn ending_every_session_with_revoke_api_keys_revokes_the_keys_tokens_too(backend: Backend) {
    let app = spawn(backend).start().await;
    let (owner_id, owner) = app.user_with_token("svc@example.com", false).await;
    let owner_user = app.state.store.user_by_id(owner_id).await.expect("read").expect("owner");
    let key = create_key(&app, &owner_user, None, None).await;
    let minted = key_login(&app, &key.key.access_key, &key.secret).await;
    let token = As::Bearer(minted.1["jwt"].as_str().expect("jwt").to_owned());
    let As::Bearer(jwt) = &token else { unreachable!("a bearer") };
    verified_claims(&app, &minted).await;

    let path = format!("/users/{owner_id}/sessions?revoke_api_keys=true");
    assert_eq!(app.api("DELETE", &path, &owner, None).await.status, 204);
    assert_eq!(app.verify_error(jwt).await, "Token has been revoked");
    app.api_get("/me", &token).await.error(401);
    assert_eq!(key_login(&app, &key.key.access_key, &key.secret).await.0, 401);
}
