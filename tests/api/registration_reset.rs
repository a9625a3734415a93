//! Password reset over HTTP (`POST /registration/forgot_password`), with mail from a real SMTP server.

use authify::domain::Email;
use authify::service::account::reset_password::request_reset;
use serde_json::json;

use crate::backend_tests;
use crate::registration::{NEW_PASSWORD, post, signup_and_mail, start_with_sink, verify};
use crate::support::app::{Backend, PASSWORD, TestApp, spawn};
use crate::support::smtp_sink::SmtpSink;

pub async fn forgot(app: &TestApp, email: &str) -> reqwest::Response {
    app.client
        .post(app.url("/registration/forgot_password"))
        .json(&json!({"email": email}))
        .send()
        .await
        .expect("request")
}

pub async fn reset(app: &TestApp, email: &str, token: &str, password: &str) -> (u16, serde_json::Value) {
    let body = json!({"email": email, "token": token, "password": password});
    post(app, "/registration/forgot_password", &[], &body).await
}

/// Asks for a reset of `email` and returns the token of the newest reset mail.
pub async fn reset_token(app: &TestApp, sink: &SmtpSink, email: &str, mails_before: usize) -> String {
    let response = forgot(app, email).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.json::<serde_json::Value>().await.expect("JSON"), json!({}));
    let mails = sink.wait_for(email, mails_before + 1).await;
    let mail = mails.last().expect("mail");
    assert_eq!(mail.subject, "Reset your password");
    mail.token()
}

backend_tests!(
    a_reset_mail_sets_a_new_password_and_the_old_one_stops_working,
    reset_tokens_are_single_use_and_bound_to_their_purpose,
    forgot_password_answers_the_same_for_unknown_emails_and_changes_nothing,
    reset_mails_are_limited_per_recipient,
    mails_are_limited_per_client_address_and_signup_answers_429,
);

async fn a_reset_mail_sets_a_new_password_and_the_old_one_stops_working(backend: Backend) {
    let (app, sink) = start_with_sink(backend, |_| {}).await;
    let user = app.insert_user("forgetful@example.com", true, false).await;
    let token = reset_token(&app, &sink, "forgetful@example.com", 0).await;
    let unchanged = app.state.store.user_by_id(user.id).await.expect("lookup").expect("user");
    assert_eq!(unchanged, user, "asking for a reset changes nothing");

    assert_eq!(
        reset(&app, "forgetful@example.com", &token, "short").await,
        (422, json!({"error": "Invalid password"}))
    );
    app.clock.advance(5);
    let (status, body) = reset(&app, "forgetful@example.com", &token, NEW_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], json!(user.id));
    assert_eq!(body["verified"], json!(true));
    assert_eq!(app.verify(body["jwt"].as_str().expect("jwt")).await["valid"], json!(true));
    let changed = app.state.store.user_by_id(user.id).await.expect("lookup").expect("user");
    assert_eq!(changed.password_changed_at, user.password_changed_at + 5);

    assert_eq!(app.login("forgetful@example.com", PASSWORD).await.0, 401);
    assert_eq!(app.login("forgetful@example.com", NEW_PASSWORD).await.0, 200);
}

async fn reset_tokens_are_single_use_and_bound_to_their_purpose(backend: Backend) {
    let (app, sink) = start_with_sink(backend, |_| {}).await;
    let verify_token = signup_and_mail(&app, &sink, "both@example.com", "first password").await.token();
    let reset = |token: String| {
        let app = &app;
        async move { reset(app, "both@example.com", &token, NEW_PASSWORD).await }
    };
    let failed = (422, json!({"error": "Verification Failed"}));
    assert_eq!(reset(verify_token.clone()).await, failed, "a verify token cannot reset");
    let reset_token = reset_token(&app, &sink, "both@example.com", 1).await;
    assert_eq!(verify(&app, "both@example.com", "first password", &reset_token).await, failed, "nor the reverse");
    let unverified = app.state.store.user_by_email("both@example.com").await.expect("lookup").expect("user");
    assert!(!unverified.verified, "forgot_password never changes verification");

    assert_eq!(reset(reset_token.clone()).await.0, 200);
    assert_eq!(reset(reset_token).await, failed, "single use");
    assert_eq!(reset("made-up".into()).await, failed);
}

async fn forgot_password_answers_the_same_for_unknown_emails_and_changes_nothing(backend: Backend) {
    let (app, sink) = start_with_sink(backend, |_| {}).await;
    let user = app.insert_user("known@example.com", true, false).await;
    let known = forgot(&app, "known@example.com").await;
    let unknown = forgot(&app, "unknown@example.com").await;
    let invalid = forgot(&app, "not an email").await;
    for other in [&unknown, &invalid] {
        assert_eq!(known.status(), other.status());
        assert_eq!(known.headers().get("content-type"), other.headers().get("content-type"));
        assert_eq!(known.headers().get("content-length"), other.headers().get("content-length"));
    }
    let bodies =
        [known.text().await.expect("body"), unknown.text().await.expect("body"), invalid.text().await.expect("body")];
    assert!(bodies.iter().all(|b| b == "{}"), "{bodies:?}");
    sink.wait_for("known@example.com", 1).await;
    assert_eq!(app.state.store.user_by_id(user.id).await.expect("lookup"), Some(user));
    assert!(app.state.store.outbox_for("unknown@example.com").await.expect("outbox").is_empty());
}

async fn reset_mails_are_limited_per_recipient(backend: Backend) {
    let app = spawn(backend).settings(|s| s.mail_limit_per_recipient = 2).start().await;
    app.insert_user("limited@example.com", true, false).await;
    let ip = Some("192.0.2.7".parse().expect("ip"));
    let mut queued = Vec::new();
    for _ in 0..3 {
        queued.push(
            request_reset(&app.state.account, &email("limited@example.com"), None, ip).await.expect("request_reset"),
        );
    }
    assert_eq!(queued, [true, true, false]);
    assert_eq!(app.state.store.outbox_for("limited@example.com").await.expect("outbox").len(), 2);
    let disabled = app.insert_user("disabled@example.com", true, false).await;
    authify::service::directory::users::set_disabled(&app.state.directory, app.state.sessions(), disabled.id, true)
        .await
        .expect("disable");
    assert!(
        !request_reset(&app.state.account, &email("disabled@example.com"), None, ip).await.expect("reset"),
        "disabled: no mail"
    );
    app.clock.advance(3600);
    assert!(
        request_reset(&app.state.account, &email("limited@example.com"), None, ip).await.expect("request_reset"),
        "window over"
    );
    let response = forgot(&app, "limited@example.com").await;
    assert_eq!((response.status().as_u16(), response.text().await.expect("body")), (200, "{}".to_owned()));
}

async fn mails_are_limited_per_client_address_and_signup_answers_429(backend: Backend) {
    let app = spawn(backend)
        .settings(|s| {
            s.mail_limit_per_ip = 1;
            s.mail_limit_per_recipient = 0;
        })
        .start()
        .await;
    app.insert_user("a@example.com", true, false).await;
    app.insert_user("b@example.com", true, false).await;
    let (x, y) = (Some("192.0.2.1".parse().expect("ip")), Some("192.0.2.2".parse().expect("ip")));
    assert!(request_reset(&app.state.account, &email("a@example.com"), None, x).await.expect("reset"));
    assert!(!request_reset(&app.state.account, &email("b@example.com"), None, x).await.expect("reset"), "same address");
    assert!(
        request_reset(&app.state.account, &email("b@example.com"), None, y).await.expect("reset"),
        "another address"
    );

    let first =
        post(&app, "/registration/signup", &[], &json!({"email": "c@example.com", "password": "long enough"})).await;
    assert_eq!(first.0, 200, "{}", first.1);
    let response = app
        .client
        .post(app.url("/registration/signup"))
        .json(&json!({"email": "d@example.com", "password": "long enough"}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 429);
    assert!(response.headers().get("retry-after").is_some());
    assert!(app.state.store.user_by_email("d@example.com").await.expect("lookup").is_none(), "nothing created");
}

fn email(text: &str) -> Email {
    Email::parse(text).expect("an email address")
}
