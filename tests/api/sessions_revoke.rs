//! Logout and revocation: `POST /jwt/revoke` with a Bearer token or a refresh token, and
//! `DELETE /users/:id/sessions`.

use serde_json::{Value, json};

use crate::audit::events;
use crate::backend_tests;
use crate::support::app::{Backend, spawn};
use crate::support::credentials::{create_key, key_login};
use crate::support::jsonapi::As;
use crate::support::tokens::{
    assert_revoked, claims, invalid_refresh, jwt, login_pair, post, refresh, refresh_token, refreshed, revoke_bearer,
    revoke_refresh,
};

backend_tests!(
    logout_with_a_bearer_token_revokes_it_everywhere_and_ends_its_session,
    logout_with_a_refresh_token_ends_its_session,
    an_api_key_token_can_be_revoked_by_its_jti,
    revoke_without_a_token_is_400_and_with_a_bad_bearer_401,
    users_end_their_own_sessions_and_admins_anyones,
    ending_sessions_of_another_user_is_403_and_of_an_unknown_one_404,
);

async fn logout_with_a_bearer_token_revokes_it_everywhere_and_ends_its_session(backend: Backend) {
    let app = spawn(backend).start().await;
    app.insert_user("pat@example.com", true, false).await;
    let kept = login_pair(&app, "pat@example.com").await;
    let first = login_pair(&app, "pat@example.com").await;
    let pair = refreshed(&app, refresh_token(&first)).await;
    let bearer = As::Bearer(jwt(&pair).to_owned());
    assert_eq!(app.api_get("/users", &bearer).await.status, 200);

    assert_eq!(revoke_bearer(&app, jwt(&pair)).await, (200, json!({})));
    let body = app.verify(jwt(&pair)).await;
    assert_eq!(body["valid"], json!(false));
    assert_eq!(body["errors"], json!(["Token has been revoked"]));
    assert_revoked(&app, jwt(&first)).await;
    let users = app.api_get("/users", &bearer).await;
    users.error(401);
    assert!(users.header("www-authenticate").is_some());
    assert_eq!(refresh(&app, refresh_token(&pair)).await, invalid_refresh());

    // The user's other session is untouched.
    claims(&app, jwt(&kept)).await;
    assert_eq!(app.api_get("/users", &As::Bearer(jwt(&kept).to_owned())).await.status, 200);
    refreshed(&app, refresh_token(&kept)).await;
}

async fn logout_with_a_refresh_token_ends_its_session(backend: Backend) {
    let app = spawn(backend).start().await;
    app.insert_user("pat@example.com", true, false).await;
    let kept = login_pair(&app, "pat@example.com").await;
    let pair = login_pair(&app, "pat@example.com").await;

    assert_eq!(revoke_refresh(&app, refresh_token(&pair)).await, (200, json!({})));
    assert_eq!(refresh(&app, refresh_token(&pair)).await, invalid_refresh());
    assert_revoked(&app, jwt(&pair)).await;
    assert_eq!(app.api_get("/users", &As::Bearer(jwt(&pair).to_owned())).await.status, 401);
    // Revoking again, or an unknown or malformed token, answers the same.
    for token in [refresh_token(&pair).to_owned(), format!("authify_rt_{}", "0".repeat(64)), "nope".to_owned()] {
        assert_eq!(revoke_refresh(&app, &token).await, (200, json!({})), "{token}");
    }

    claims(&app, jwt(&kept)).await;
    refreshed(&app, refresh_token(&kept)).await;
}

async fn an_api_key_token_can_be_revoked_by_its_jti(backend: Backend) {
    let app = spawn(backend).start().await;
    let user = app.insert_user("pat@example.com", true, false).await;
    let key = create_key(&app, &user, None, None).await;
    let revoked = key_login(&app, &key.key.access_key, &key.secret).await.1["jwt"].as_str().expect("jwt").to_owned();
    let other = key_login(&app, &key.key.access_key, &key.secret).await.1["jwt"].as_str().expect("jwt").to_owned();

    assert_eq!(revoke_bearer(&app, &revoked).await, (200, json!({})));
    assert_revoked(&app, &revoked).await;
    assert_eq!(app.api_get("/users", &As::Bearer(revoked)).await.status, 401);
    claims(&app, &other).await;
}

async fn revoke_without_a_token_is_400_and_with_a_bad_bearer_401(backend: Backend) {
    let app = spawn(backend).start().await;
    app.insert_user("pat@example.com", true, false).await;
    let pair = login_pair(&app, "pat@example.com").await;

    let empty = app.client.post(app.url("/jwt/revoke")).send().await.expect("request");
    assert_eq!(empty.status().as_u16(), 400);
    assert!(empty.json::<serde_json::Value>().await.expect("JSON")["error"].is_string());
    let (status, _) = post(&app, "/jwt/revoke", &json!({})).await;
    assert_eq!(status, 400);

    for bad in ["garbage", "a.b.c", &jwt(&pair)[..jwt(&pair).len() - 4]] {
        assert_eq!(revoke_bearer(&app, bad).await.0, 401, "{bad}");
    }
    app.clock.advance(15 * 60 + 1);
    assert_eq!(revoke_bearer(&app, jwt(&pair)).await.0, 401, "an expired token");
    // None of that ended the session.
    refreshed(&app, refresh_token(&pair)).await;
}

async fn users_end_their_own_sessions_and_admins_anyones(backend: Backend) {
    let app = spawn(backend).start().await;
    let (_, admin) = app.user_with_token("root@example.com", true).await;
    let pat = app.insert_user("pat@example.com", true, false).await;
    let sam = app.insert_user("sam@example.com", true, false).await;
    let pat_one = login_pair(&app, "pat@example.com").await;
    let pat_two = refreshed(&app, refresh_token(&login_pair(&app, "pat@example.com").await)).await;
    let sam_pair = login_pair(&app, "sam@example.com").await;

    let me = As::Bearer(jwt(&pat_one).to_owned());
    let response = app.api("DELETE", &format!("/users/{}/sessions", pat.id), &me, None).await;
    assert_eq!(response.status, 204, "{}", response.body);
    for pair in [&pat_one, &pat_two] {
        assert_eq!(refresh(&app, refresh_token(pair)).await, invalid_refresh());
        assert_revoked(&app, jwt(pair)).await;
    }
    claims(&app, jwt(&sam_pair)).await;
    let pat_three = login_pair(&app, "pat@example.com").await;

    let response = app.api("DELETE", &format!("/users/{}/sessions", sam.id), &admin, None).await;
    assert_eq!(response.status, 204, "{}", response.body);
    assert_eq!(refresh(&app, refresh_token(&sam_pair)).await, invalid_refresh());
    assert_revoked(&app, jwt(&sam_pair)).await;
    // A fresh login after it works, and the admin's own session was not touched.
    refreshed(&app, refresh_token(&pat_three)).await;
    assert_eq!(app.api_get("/users", &admin).await.status, 200);

    let ended = events(&app, &admin, "filter[action]=users.sessions-end&sort=id").await;
    let targets: Vec<&Value> = ended.iter().map(|e| &e["target"]).collect();
    assert_eq!(targets, [&json!(format!("users:{}", pat.id)), &json!(format!("users:{}", sam.id))]);
    assert_eq!(ended[0]["details"], json!({"sessions_ended": 2}), "{ended:?}");
}

async fn ending_sessions_of_another_user_is_403_and_of_an_unknown_one_404(backend: Backend) {
    let app = spawn(backend).start().await;
    let (_, admin) = app.user_with_token("root@example.com", true).await;
    let pat = app.insert_user("pat@example.com", true, false).await;
    app.insert_user("sam@example.com", true, false).await;
    let pat_pair = login_pair(&app, "pat@example.com").await;
    let sam = As::Bearer(jwt(&login_pair(&app, "sam@example.com").await).to_owned());

    let response = app.api("DELETE", &format!("/users/{}/sessions", pat.id), &sam, None).await;
    assert_eq!(response.error(403)["status"], json!("403"));
    claims(&app, jwt(&pat_pair)).await;
    let pat_pair = refreshed(&app, refresh_token(&pat_pair)).await;

    for who in [&admin, &sam] {
        let response = app.api("DELETE", "/users/999999/sessions", who, None).await;
        assert_eq!(response.error(404)["status"], json!("404"));
    }
    let response = app.api("DELETE", &format!("/users/{}/sessions", pat.id), &As::Anonymous, None).await;
    response.error(401);
    refreshed(&app, refresh_token(&pat_pair)).await;
}
