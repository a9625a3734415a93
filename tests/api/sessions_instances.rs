//! Sessions across instances sharing one database: revocations reach every instance through the
//! polled `revocations` table, rotation is claimed in the database, and expired revocations are
//! pruned.

use authify::store::entity::revocation;
use sea_orm::{ColumnTrait, Database, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::backend_tests;
use crate::cli::run;
use crate::support::app::{Backend, TestApp, spawn};
use crate::support::credentials::{create_key, key_login};
use crate::support::jsonapi::As;
use crate::support::tokens::{
    assert_revoked, claims, eventually, invalid_refresh, jwt, login_pair, refresh, refresh_token, refreshed,
    revoke_bearer, wait_until_revoked,
};

backend_tests!(
    a_logout_on_one_instance_is_seen_by_another_within_a_few_polls,
    ending_a_users_sessions_on_one_instance_is_seen_by_another,
    a_token_rotated_on_one_instance_gets_the_same_pair_on_another_only_within_the_grace_window,
    expired_revocations_are_pruned_from_the_table,
    a_revoked_token_stays_revoked_while_the_leeway_still_accepts_it,
    an_instance_started_after_a_logout_knows_of_it_at_once,
    authify_user_disable_ends_sessions_on_running_instances_for_good,
);

/// Two instances on one database, each polling the revocation table every 100 ms.
async fn two_instances(backend: Backend) -> (TestApp, TestApp) {
    let a = spawn(backend).settings(|s| s.sessions.revocation_poll_ms = 100).start().await;
    let b = a.second_instance(|_| {}).await;
    (a, b)
}

async fn a_logout_on_one_instance_is_seen_by_another_within_a_few_polls(backend: Backend) {
    let (a, b) = two_instances(backend).await;
    a.insert_user("pat@example.com", true, false).await;
    let pair = login_pair(&a, "pat@example.com").await;
    let kept = login_pair(&a, "pat@example.com").await;
    claims(&b, jwt(&pair)).await;

    assert_eq!(revoke_bearer(&a, jwt(&pair)).await, (200, json!({})));
    assert_revoked(&a, jwt(&pair)).await;
    wait_until_revoked(&b, jwt(&pair)).await;
    assert_eq!(b.api_get("/users", &As::Bearer(jwt(&pair).to_owned())).await.status, 401);
    assert_eq!(refresh(&b, refresh_token(&pair)).await, invalid_refresh());
    claims(&b, jwt(&kept)).await;
}

async fn ending_a_users_sessions_on_one_instance_is_seen_by_another(backend: Backend) {
    let (a, b) = two_instances(backend).await;
    let (_, admin) = a.user_with_token("root@example.com", true).await;
    let pat = a.insert_user("pat@example.com", true, false).await;
    let pair = login_pair(&b, "pat@example.com").await;
    let pair = refreshed(&b, refresh_token(&pair)).await;

    let response = a.api("DELETE", &format!("/users/{}/sessions", pat.id), &admin, None).await;
    assert_eq!(response.status, 204, "{}", response.body);
    wait_until_revoked(&b, jwt(&pair)).await;
    assert_eq!(refresh(&b, refresh_token(&pair)).await, invalid_refresh());
}

async fn a_token_rotated_on_one_instance_gets_the_same_pair_on_another_only_within_the_grace_window(backend: Backend) {
    let (a, b) = two_instances(backend).await;
    a.insert_user("pat@example.com", true, false).await;
    let old = login_pair(&a, "pat@example.com").await;
    let new = refreshed(&a, refresh_token(&old)).await;
    // Each instance has its own clock; B's still reads the time of the rotation.
    assert_eq!(refreshed(&b, refresh_token(&old)).await, new, "a concurrent refresh on another instance");

    b.clock.advance(6);
    assert_eq!(refresh(&b, refresh_token(&old)).await, invalid_refresh());
    assert_eq!(refresh(&a, refresh_token(&new)).await, invalid_refresh(), "the whole session ended");
    assert_revoked(&b, jwt(&new)).await;
    wait_until_revoked(&a, jwt(&new)).await;
}

/// How many rows the `revocations` table holds, and how many of them have this `value`.
async fn revocation_rows_with(app: &TestApp, value: &str) -> (u64, u64) {
    let db = Database::connect(app.db.url.as_str()).await.expect("connect");
    let count = revocation::Entity::find().count(&db).await.expect("count revocations");
    let with = revocation::Entity::find()
        .filter(revocation::Column::Value.eq(value))
        .count(&db)
        .await
        .expect("count revocations");
    db.close().await.expect("close");
    (count, with)
}

async fn revocation_rows(app: &TestApp) -> u64 {
    revocation_rows_with(app, "").await.0
}

async fn expired_revocations_are_pruned_from_the_table(backend: Backend) {
    let app = spawn(backend).settings(|s| s.sessions.revocation_poll_ms = 100).start().await;
    app.insert_user("pat@example.com", true, false).await;
    let pair = login_pair(&app, "pat@example.com").await;
    assert_eq!(revoke_bearer(&app, jwt(&pair)).await, (200, json!({})));
    assert!(revocation_rows(&app).await >= 2, "the token and its session are listed");

    app.clock.advance(15 * 60 + 1);
    assert_eq!(app.verify_error(jwt(&pair)).await, "Signature has expired");
    eventually("the expired revocations are pruned", || async { revocation_rows(&app).await == 0 }).await;
}

async fn a_revoked_token_stays_revoked_while_the_leeway_still_accepts_it(backend: Backend) {
    let app = spawn(backend)
        .settings(|s| {
            s.sessions.revocation_poll_ms = 100;
            s.jwt_leeway = 120;
        })
        .start()
        .await;
    let user = app.insert_user("pat@example.com", true, false).await;
    let key = create_key(&app, &user, None, None).await;
    let token = key_login(&app, &key.key.access_key, &key.secret).await.1["jwt"].as_str().expect("jwt").to_owned();
    assert_eq!(revoke_bearer(&app, &token).await, (200, json!({})));

    // Just past `exp`: the leeway still accepts the signature, so the revocation must hold. A marker
    // entry that expires now shows when the poller has pruned.
    app.clock.advance(15 * 60 + 1);
    let marker = [("jti", "prune-marker".to_owned(), app.clock_now())];
    app.state.store.insert_revocations(&marker, app.clock_now()).await.expect("insert the marker");
    eventually("the poller prunes", || async { revocation_rows_with(&app, "prune-marker").await.1 == 0 }).await;
    assert_revoked(&app, &token).await;
    assert_eq!(app.api_get("/users", &As::Bearer(token.clone())).await.status, 401);

    app.clock.advance(120);
    assert_eq!(app.verify_error(&token).await, "Signature has expired");
}

async fn an_instance_started_after_a_logout_knows_of_it_at_once(backend: Backend) {
    let app = spawn(backend).start().await;
    app.insert_user("pat@example.com", true, false).await;
    let pair = login_pair(&app, "pat@example.com").await;
    assert_eq!(revoke_bearer(&app, jwt(&pair)).await, (200, json!({})));
    let late = app.second_instance(|_| {}).await;
    assert_revoked(&late, jwt(&pair)).await;
}

/// `authify <args>` against the instance's database; asserts success.
fn authify_ok(app: &TestApp, args: &[&str]) {
    let output = run(app.dir.path(), &[("AUTHIFY_DB_URL", app.settings.db_url.as_str())], args, "");
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

async fn authify_user_disable_ends_sessions_on_running_instances_for_good(backend: Backend) {
    let app = spawn(backend).settings(|s| s.sessions.revocation_poll_ms = 100).start().await;
    app.insert_user("pat@example.com", true, false).await;
    let pair = login_pair(&app, "pat@example.com").await;

    authify_ok(&app, &["user", "disable", "pat@example.com"]);
    wait_until_revoked(&app, jwt(&pair)).await;
    assert_eq!(refresh(&app, refresh_token(&pair)).await, invalid_refresh());
    authify_ok(&app, &["user", "enable", "pat@example.com"]);
    assert_eq!(refresh(&app, refresh_token(&pair)).await, invalid_refresh());
    refreshed(&app, refresh_token(&login_pair(&app, "pat@example.com").await)).await;
}
