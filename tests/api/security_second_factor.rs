//! Second-factor management needs the password, and every wrong secret on the way counts toward
//! the account's lockout (issue 16, item 6; issue 17, item 6).

use reqwest::Method;
use serde_json::json;

use crate::backend_tests;
use crate::support::app::{Backend, PASSWORD, TestApp};
use crate::support::totp::{call, code_at, enable_totp, login_with_code};

backend_tests!(
    wrong_codes_on_delete_me_totp_lock_the_account_instead_of_being_guessed_at_full_speed,
    turning_the_factor_on_or_off_needs_the_current_password,
);

async fn start(backend: Backend) -> TestApp {
    crate::lockout::start(backend, 5).await
}

async fn wrong_codes_on_delete_me_totp_lock_the_account_instead_of_being_guessed_at_full_speed(backend: Backend) {
    let app = start(backend).await;
    app.insert_user("al@example.com", true, false).await;
    let (secret, _) = enable_totp(&app, "al@example.com").await;
    let (status, pair) = login_with_code(&app, "al@example.com", &code_at(&secret, app.clock_now())).await;
    assert_eq!(status, 200, "{pair}");
    let token = pair["jwt"].as_str().expect("jwt").to_owned();
    app.clock.advance(30);

    let mut statuses = Vec::new();
    for n in 0..8 {
        let wrong = json!({"password": PASSWORD, "code": format!("{:06}", n)});
        statuses.push(call(&app, Method::DELETE, "/me/totp", &token, Some(wrong)).await.0);
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429, 429], "five wrong codes, then the lock");
    let right = json!({"password": PASSWORD, "code": code_at(&secret, app.clock_now())});
    assert_eq!(
        call(&app, Method::DELETE, "/me/totp", &token, Some(right)).await.0,
        429,
        "locked even for the right one"
    );
    let (status, body) = app.login("al@example.com", PASSWORD).await;
    assert_eq!(status, 429, "the lockout is the account's: {body}");
}

async fn turning_the_factor_on_or_off_needs_the_current_password(backend: Backend) {
    let app = start(backend).await;
    app.insert_user("al@example.com", true, false).await;
    let token = app.token_for("al@example.com").await;
    let (status, enrolment) = call(&app, Method::POST, "/me/totp", &token, None).await;
    assert_eq!(status, 200, "{enrolment}");
    let secret = enrolment["secret"].as_str().expect("secret").to_owned();
    let code = code_at(&secret, app.clock_now());

    let confirm = |body| call(&app, Method::POST, "/me/totp/confirm", &token, Some(body));
    assert_eq!(confirm(json!({"code": code})).await.0, 400, "no password");
    let (status, body) = confirm(json!({"password": "not the password", "code": code})).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"].as_str().expect("error").starts_with("password:"), "{body}");
    let (status, body) = confirm(json!({"password": PASSWORD, "code": code})).await;
    assert_eq!(status, 200, "{body}");

    app.clock.advance(30);
    let code = code_at(&secret, app.clock_now());
    let remove = |body| call(&app, Method::DELETE, "/me/totp", &token, Some(body));
    assert_eq!(remove(json!({"code": code})).await.0, 400, "no password");
    assert_eq!(remove(json!({"password": "not the password", "code": code})).await.0, 422);
    assert_eq!(remove(json!({"password": PASSWORD, "code": code})).await.0, 204);
}
