//! `/jwt/verify` agrees with what the service accepts: a token of a disabled or deleted user is
//! invalid, API-key tokens included (issue 16, item 7).

use serde_json::json;

use crate::backend_tests;
use crate::support::app::{Backend, spawn};
use crate::support::credentials::{create_key, key_login};
use crate::support::jsonapi::As;
use crate::support::tokens::{assert_revoked, claims};

backend_tests!(
    a_disabled_or_deleted_users_api_key_tokens_are_reported_invalid,
    api_key_tokens_survive_a_password_change,
);

async fn a_disabled_or_deleted_users_api_key_tokens_are_reported_invalid(backend: Backend) {
    let app = spawn(backend).start().await;
    let (_, admin) = app.user_with_token("root@example.com", true).await;
    let al = app.insert_user("al@example.com", true, false).await;
    let key = create_key(&app, &al, None, None).await;
    let (status, body) = key_login(&app, &key.key.access_key, &key.secret).await;
    assert_eq!(status, 200, "{body}");
    let token = body["jwt"].as_str().expect("jwt").to_owned();
    claims(&app, &token).await;

    let disable = json!({"data": {"type": "users", "id": al.id.to_string(), "attributes": {"disabled": true}}});
    assert_eq!(app.api("PATCH", &format!("/users/{}", al.id), &admin, Some(disable)).await.status, 200);
    assert_eq!(app.api("GET", "/me", &As::Bearer(token.clone()), None).await.status, 401);
    assert_revoked(&app, &token).await;

    // Enabled again: new tokens work, the old one stays refused.
    app.clock.advance(1);
    let enable = json!({"data": {"type": "users", "id": al.id.to_string(), "attributes": {"disabled": false}}});
    assert_eq!(app.api("PATCH", &format!("/users/{}", al.id), &admin, Some(enable)).await.status, 200);
    let (status, body) = key_login(&app, &key.key.access_key, &key.secret).await;
    assert_eq!(status, 200, "{body}");
    let fresh = body["jwt"].as_str().expect("jwt").to_owned();
    claims(&app, &fresh).await;
    assert_revoked(&app, &token).await;

    assert_eq!(app.api("DELETE", &format!("/users/{}", al.id), &admin, None).await.status, 204);
    assert_revoked(&app, &fresh).await;
}

/// The decision: API keys are credentials of their own, so a password change leaves them and the
/// tokens they minted alone (deleting the key, disabling the account or "end every session" with
/// its option end them).
async fn api_key_tokens_survive_a_password_change(backend: Backend) {
    let app = spawn(backend).start().await;
    let al = app.insert_user("al@example.com", true, false).await;
    let key = create_key(&app, &al, None, None).await;
    let (_, body) = key_login(&app, &key.key.access_key, &key.secret).await;
    let token = body["jwt"].as_str().expect("jwt").to_owned();
    let password_token = app.token_for("al@example.com").await;
    let changed = app
        .client
        .post(app.url("/me/password"))
        .bearer_auth(&password_token)
        .json(&json!({"current_password": crate::support::app::PASSWORD, "new_password": "a whole new password"}))
        .send()
        .await
        .expect("request");
    assert_eq!(changed.status().as_u16(), 204);
    claims(&app, &token).await;
    assert_eq!(key_login(&app, &key.key.access_key, &key.secret).await.0, 200);
}
