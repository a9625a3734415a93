//! How browser sessions end and who may open one: idle and absolute lifetimes, disabling and
//! deleting the user, the second factor, lockout and rate limits at `POST /session`.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::app::{Backend, PASSWORD, TestApp, spawn};
use crate::support::cookies::{
    cookie_from, cookie_from_our_page, login_pair_with, me_status, refresh, set_cookies, sign_in, sign_in_with,
};
use crate::support::jsonapi::As;
use crate::support::totp::{code_at, enable_totp};

backend_tests!(
    an_unused_session_ends_after_the_idle_time_and_each_use_extends_it,
    a_short_idle_time_under_a_minute_still_slides_with_use,
    no_session_outlives_the_absolute_lifetime_however_often_it_is_used,
    disabling_or_deleting_a_user_ends_their_sessions_for_good,
    an_account_with_a_second_factor_signs_in_only_with_a_code,
    sign_in_failures_lock_the_account_and_sign_ins_are_rate_limited,
    ending_all_of_a_users_sessions_ends_their_cookies_too,
    a_session_opened_on_one_instance_works_and_ends_on_another,
);

async fn an_unused_session_ends_after_the_idle_time_and_each_use_extends_it(backend: Backend) {
    let app = spawn(backend).settings(|s| s.sessions.session_idle_seconds = 600).start().await;
    app.insert_user("ann@example.com", true, false).await;
    let active = sign_in(&app, "ann@example.com").await;
    let unused = sign_in(&app, "ann@example.com").await;

    app.clock.advance(400);
    assert_eq!(me_status(&app, &active).await, 200);
    app.clock.advance(200);
    assert_eq!(me_status(&app, &unused).await, 401, "600 s without use");
    assert_eq!(me_status(&app, &active).await, 200, "used 200 s ago");
    app.clock.advance(599);
    assert_eq!(me_status(&app, &active).await, 200, "used 599 s ago");
    app.clock.advance(600);
    assert_eq!(me_status(&app, &active).await, 401, "600 s without use");
    assert_eq!(me_status(&app, &unused).await, 401, "an ended session stays ended");
    assert_eq!(me_status(&app, &sign_in(&app, "ann@example.com").await).await, 200);
}

async fn a_short_idle_time_under_a_minute_still_slides_with_use(backend: Backend) {
    let app = spawn(backend).settings(|s| s.sessions.session_idle_seconds = 30).start().await;
    app.insert_user("ann@example.com", true, false).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    for use_at in [20, 40, 60, 80] {
        app.clock.advance(20);
        assert_eq!(me_status(&app, &cookie).await, 200, "used every 20 s, now at {use_at} s");
    }
    app.clock.advance(30);
    assert_eq!(me_status(&app, &cookie).await, 401, "30 s without use");
}

async fn no_session_outlives_the_absolute_lifetime_however_often_it_is_used(backend: Backend) {
    let app = spawn(backend)
        .settings(|s| {
            s.sessions.session_idle_seconds = 600;
            s.sessions.refresh_absolute_seconds = 1000;
        })
        .start()
        .await;
    app.insert_user("ann@example.com", true, false).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    app.clock.advance(500);
    assert_eq!(me_status(&app, &cookie).await, 200);
    app.clock.advance(499);
    assert_eq!(me_status(&app, &cookie).await, 200);
    app.clock.advance(1);
    assert_eq!(me_status(&app, &cookie).await, 401, "1000 s after sign-in");
}

fn disable(id: i64, disabled: bool) -> Value {
    json!({"data": {"type": "users", "id": id.to_string(), "attributes": {"disabled": disabled}}})
}

async fn set_disabled(app: &TestApp, admin: &As, id: i64, disabled: bool) {
    let response = app.api("PATCH", &format!("/users/{id}"), admin, Some(disable(id, disabled))).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.body["data"]["attributes"]["disabled"], disabled);
}

async fn disabling_or_deleting_a_user_ends_their_sessions_for_good(backend: Backend) {
    let app = spawn(backend).start().await;
    let ann = app.insert_user("ann@example.com", true, false).await;
    let bo = app.insert_user("bo@example.com", true, false).await;
    app.insert_user("root@example.com", true, true).await;
    let root = cookie_from_our_page(&sign_in(&app, "root@example.com").await);
    let ann_cookie = sign_in(&app, "ann@example.com").await;
    let (ann_jwt, ann_refresh) = login_pair_with(&app, "ann@example.com", PASSWORD).await;
    let bo_cookie = sign_in(&app, "bo@example.com").await;

    set_disabled(&app, &root, ann.id, true).await;
    assert_eq!(me_status(&app, &ann_cookie).await, 401, "disabled");
    let refused = sign_in_with(&app, "ann@example.com", PASSWORD, json!({})).await;
    assert_eq!(refused.status().as_u16(), 403, "a disabled user cannot sign in");
    assert!(set_cookies(&refused).is_empty());
    // Enabling the account again does not bring the ended sessions back.
    set_disabled(&app, &root, ann.id, false).await;
    assert_eq!(me_status(&app, &ann_cookie).await, 401, "the session ended when the user was disabled");
    assert_eq!(refresh(&app, &ann_refresh).await.0, 401, "the refresh token's session ended too");
    assert_eq!(app.api_get("/me", &As::Bearer(ann_jwt)).await.status, 401, "and its JWT was revoked");
    assert_eq!(me_status(&app, &sign_in(&app, "ann@example.com").await).await, 200, "a new sign-in works");

    assert_eq!(me_status(&app, &bo_cookie).await, 200);
    let deleted = app.api("DELETE", &format!("/users/{}", bo.id), &root, None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert_eq!(me_status(&app, &bo_cookie).await, 401, "deleted");
}

async fn an_account_with_a_second_factor_signs_in_only_with_a_code(backend: Backend) {
    let app = spawn(backend).start().await;
    app.insert_user("ann@example.com", true, false).await;
    let (secret, recovery) = enable_totp(&app, "ann@example.com").await;

    let failures = [
        (PASSWORD, json!({}), "totp_required"),
        (PASSWORD, json!({ "totp_code": "000000" }), "Invalid second factor code"),
        ("wrong password", json!({ "totp_code": code_at(&secret, app.clock_now()) }), "Invalid credentials"),
    ];
    for (password, extra, error) in failures {
        let response = sign_in_with(&app, "ann@example.com", password, extra.clone()).await;
        assert_eq!(response.status().as_u16(), 401, "{extra}");
        assert!(set_cookies(&response).is_empty(), "{extra}");
        let body: Value = response.json().await.expect("a JSON body");
        assert_eq!(body["error"], error, "{extra}");
    }

    let code = code_at(&secret, app.clock_now());
    let with_code =
        cookie_from(sign_in_with(&app, "ann@example.com", PASSWORD, json!({ "totp_code": code })).await).await;
    assert_eq!(me_status(&app, &with_code).await, 200);
    let replayed = sign_in_with(&app, "ann@example.com", PASSWORD, json!({ "totp_code": code })).await;
    assert_eq!(replayed.status().as_u16(), 401, "a code is accepted once");
    let recovery = json!({ "recovery_code": recovery[0] });
    let with_recovery = cookie_from(sign_in_with(&app, "ann@example.com", PASSWORD, recovery).await).await;
    assert_eq!(me_status(&app, &with_recovery).await, 200);
}

async fn sign_in_failures_lock_the_account_and_sign_ins_are_rate_limited(backend: Backend) {
    let app = spawn(backend.clone()).start().await;
    app.insert_user("ann@example.com", true, false).await;
    for _ in 0..5 {
        let response = sign_in_with(&app, "ann@example.com", "wrong password", json!({})).await;
        assert_eq!(response.status().as_u16(), 401);
    }
    let locked = sign_in_with(&app, "ann@example.com", PASSWORD, json!({})).await;
    assert_eq!(locked.status().as_u16(), 429, "the right password while locked");
    assert!(locked.headers().get("retry-after").is_some());
    assert!(set_cookies(&locked).is_empty());
    assert_eq!(app.login("ann@example.com", PASSWORD).await.0, 429, "/jwt/token shares the lockout");
    app.clock.advance(60);
    assert_eq!(me_status(&app, &sign_in(&app, "ann@example.com").await).await, 200, "after the lock interval");

    let limited = spawn(backend).settings(|s| s.rate_limit_per_ip = 2).start().await;
    limited.insert_user("bo@example.com", true, false).await;
    for _ in 0..2 {
        sign_in(&limited, "bo@example.com").await;
    }
    let throttled = sign_in_with(&limited, "bo@example.com", PASSWORD, json!({})).await;
    assert_eq!(throttled.status().as_u16(), 429);
    assert!(throttled.headers().get("retry-after").is_some());
    assert!(set_cookies(&throttled).is_empty());
}

async fn ending_all_of_a_users_sessions_ends_their_cookies_too(backend: Backend) {
    let app = spawn(backend).start().await;
    let ann = app.insert_user("ann@example.com", true, false).await;
    let bo = app.insert_user("bo@example.com", true, false).await;
    app.insert_user("root@example.com", true, true).await;
    let ann_cookie = sign_in(&app, "ann@example.com").await;
    let bo_cookie = sign_in(&app, "bo@example.com").await;
    let bo_other = sign_in(&app, "bo@example.com").await;

    let path = |id: i64| format!("/users/{id}/sessions");
    let refused = app.api("DELETE", &path(bo.id), &cookie_from_our_page(&ann_cookie), None).await;
    assert!(matches!(refused.status, 403 | 404), "not ann's to end: {}", refused.body);
    assert_eq!(me_status(&app, &bo_cookie).await, 200);
    let cross_site = app.api("DELETE", &path(bo.id), &crate::support::cookies::cookie_as(&bo_cookie, &[]), None).await;
    assert_eq!(cross_site.error(403)["code"], "AUTH-0031");
    assert_eq!(me_status(&app, &bo_other).await, 200, "a refused request ends nothing");

    let own = app.api("DELETE", &path(bo.id), &cookie_from_our_page(&bo_cookie), None).await;
    assert_eq!(own.status, 204, "{}", own.body);
    assert_eq!((me_status(&app, &bo_cookie).await, me_status(&app, &bo_other).await), (401, 401), "every one");

    let root = cookie_from_our_page(&sign_in(&app, "root@example.com").await);
    assert_eq!(app.api("DELETE", &path(ann.id), &root, None).await.status, 204);
    assert_eq!(me_status(&app, &ann_cookie).await, 401, "an admin ends them");
}

async fn a_session_opened_on_one_instance_works_and_ends_on_another(backend: Backend) {
    let one = spawn(backend).start().await;
    let two = one.second_instance(|_| {}).await;
    one.insert_user("ann@example.com", true, false).await;
    let leaving = sign_in(&one, "ann@example.com").await;
    let staying = sign_in(&two, "ann@example.com").await;
    assert_eq!((me_status(&two, &leaving).await, me_status(&one, &staying).await), (200, 200));

    let (status, _) = crate::support::cookies::sign_out(&one, Some(&leaving), &[("x-requested-with", "fetch")]).await;
    assert_eq!(status, 204);
    assert_eq!(me_status(&two, &leaving).await, 401, "ended on the other instance at once");
    assert_eq!(me_status(&two, &staying).await, 200);
}
