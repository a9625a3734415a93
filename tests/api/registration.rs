//! Signup and email verification over HTTP, with mail read from a real in-process SMTP server.

use std::time::Duration;

use authify::config::Settings;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::app::{Backend, Spawn, TestApp, spawn};
use crate::support::smtp_sink::{Mail, SmtpSink};

pub const NEW_PASSWORD: &str = "a brand new secret";

/// An instance delivering to a fresh SMTP sink, with extra settings.
pub async fn start_with_sink(backend: Backend, tweak: impl FnOnce(&mut Settings) + 'static) -> (TestApp, SmtpSink) {
    spawn_with_sink(spawn(backend), tweak).await
}

/// The instance `spawn` describes, delivering to a fresh SMTP sink, with extra settings.
pub async fn spawn_with_sink(spawn: Spawn, tweak: impl FnOnce(&mut Settings) + 'static) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await;
    let port = sink.addr.port();
    let app = spawn
        .settings(move |s| {
            s.mail_address = Some("127.0.0.1".into());
            s.mail_port = port;
            tweak(s);
        })
        .start()
        .await;
    (app, sink)
}

/// POST with optional extra headers; returns status and JSON body.
pub async fn post(app: &TestApp, path: &str, headers: &[(&str, &str)], body: &Value) -> (u16, Value) {
    let mut request = app.client.post(app.url(path)).json(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

pub async fn signup(app: &TestApp, body: Value) -> (u16, Value) {
    post(app, "/registration/signup", &[], &body).await
}

/// Signs `email` up with `password` and returns the verification mail.
pub async fn signup_and_mail(app: &TestApp, sink: &SmtpSink, email: &str, password: &str) -> Mail {
    let (status, body) = signup(app, json!({"email": email, "password": password})).await;
    assert_eq!(status, 200, "{body}");
    sink.wait_for(email, 1).await.pop().expect("a mail")
}

pub async fn verify(app: &TestApp, email: &str, password: &str, token: &str) -> (u16, Value) {
    post(app, "/registration/verify", &[], &json!({"email": email, "password": password, "token": token})).await
}

/// Polls the outbox row of `email` until `done` holds (15 s at most).
pub async fn wait_for_row(app: &TestApp, email: &str, done: impl Fn(&authify::store::outbox::OutboxMail) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let rows = app.state.store.outbox_for(email).await.expect("outbox");
        if rows.first().is_some_and(&done) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "outbox row never reached the state: {rows:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

backend_tests!(
    signup_mails_a_token_that_verifies_the_account_and_logs_it_in,
    a_verify_token_works_once_and_expires,
    signup_refuses_duplicates_bad_emails_short_passwords_and_bad_handles,
    handles_are_derived_from_the_email_then_the_name_then_suffixed,
    wrong_tokens_are_throttled_and_never_wear_out_the_live_token,
    with_verifications_off_signup_answers_a_token_and_queues_no_mail,
);

async fn signup_mails_a_token_that_verifies_the_account_and_logs_it_in(backend: Backend) {
    let (app, sink) = start_with_sink(backend, |_| {}).await;
    let (status, body) =
        signup(&app, json!({"email": "Some.User@Example.com", "password": "b@d!dea-long", "name": "Some User"})).await;
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_i64().expect("id");
    assert_eq!(body, json!({"id": id, "email": "some.user@example.com", "handle": "someuser", "verified": false}));
    assert_eq!(app.login("some.user@example.com", "b@d!dea-long").await.0, 401, "unverified users cannot log in");

    let mail = sink.wait_for("some.user@example.com", 1).await.pop().expect("mail");
    assert_eq!(mail.subject, "Verify your email address");
    let token = mail.token();
    assert!(token.len() >= 43, "at least 256 bits, base64url: {token}");
    assert!(mail.text.contains("Hello Some User,"), "{}", mail.text);
    let html = mail.html.clone().expect("an HTML part");
    assert!(html.contains(&token) && html.contains("some.user@example.com"), "{html}");
    wait_for_row(&app, "some.user@example.com", |row| row.status == "sent").await;
    assert_eq!(app.state.store.outbox_for("some.user@example.com").await.expect("outbox").len(), 1);

    let (status, body) = verify(&app, "some.user@example.com", "wrong password", &token).await;
    assert_eq!((status, body), (422, json!({"error": "Verification Failed"})));
    let (status, body) = verify(&app, "nobody@example.com", "b@d!dea-long", &token).await;
    assert_eq!((status, body), (422, json!({"error": "Verification Failed"})));

    let (status, body) = verify(&app, "some.user@example.com", "b@d!dea-long", &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["verified"], json!(true));
    assert_eq!(body["handle"], json!("someuser"));
    let claims = app.verify(body["jwt"].as_str().expect("jwt")).await;
    assert_eq!(claims["payload"]["user"]["username"], json!("some.user@example.com"));
    assert_eq!(app.login("some.user@example.com", "b@d!dea-long").await.0, 200);
}

async fn a_verify_token_works_once_and_expires(backend: Backend) {
    let (app, sink) = start_with_sink(backend, |s| s.email_token_minutes = 10).await;
    let token = signup_and_mail(&app, &sink, "once@example.com", "password-one").await.token();
    assert_eq!(verify(&app, "once@example.com", "password-one", &token).await.0, 200);
    let (status, body) = verify(&app, "once@example.com", "password-one", &token).await;
    assert_eq!((status, body), (422, json!({"error": "Verification Failed"})), "a token is single-use");

    let token = signup_and_mail(&app, &sink, "late@example.com", "password-two").await.token();
    app.clock.advance(10 * 60);
    let (status, body) = verify(&app, "late@example.com", "password-two", &token).await;
    assert_eq!((status, body), (422, json!({"error": "Verification Failed"})), "expired after 10 minutes");
}

async fn signup_refuses_duplicates_bad_emails_short_passwords_and_bad_handles(backend: Backend) {
    let app = spawn(backend).start().await;
    app.insert_user("taken@example.com", true, false).await;
    let cases = [
        (json!({"email": "TAKEN@example.com", "password": "long enough"}), "Duplicate User"),
        (json!({"email": "not-an-email", "password": "long enough"}), "Failed to save user"),
        (json!({"password": "long enough"}), "Failed to save user"),
        (json!({"email": "short@example.com", "password": "short"}), "Invalid password"),
        (json!({"email": "nopass@example.com"}), "Invalid password"),
    ];
    for (body, message) in cases {
        assert_eq!(signup(&app, body.clone()).await, (422, json!({"error": message})), "{body}");
    }
    let (status, body) =
        signup(&app, json!({"email": "a@example.com", "password": "long enough", "handle": "taken"})).await;
    assert_eq!((status, &body), (422, &json!({"error": "handle: is already taken"})));
    let (status, body) =
        signup(&app, json!({"email": "a@example.com", "password": "long enough", "handle": "no spaces"})).await;
    assert_eq!(status, 422);
    assert!(body["error"].as_str().expect("error").starts_with("handle: "), "{body}");
    let (status, body) =
        signup(&app, json!({"email": "a@example.com", "password": "long enough", "handle": "Chosen"})).await;
    assert_eq!((status, body["handle"].clone()), (200, json!("chosen")));
    assert!(app.state.store.user_by_email("short@example.com").await.expect("lookup").is_none());
}

async fn handles_are_derived_from_the_email_then_the_name_then_suffixed(backend: Backend) {
    let app = spawn(backend).settings(|s| s.verifications_required = false).start().await;
    let handle = |body: Value| {
        let app = &app;
        async move {
            let (status, body) = signup(app, body).await;
            assert_eq!(status, 200, "{body}");
            body["handle"].as_str().expect("handle").to_owned()
        }
    };
    assert_eq!(handle(json!({"email": "jane.doe@a.example", "password": "long enough"})).await, "janedoe");
    let by_name = json!({"email": "jane_doe@b.example", "password": "long enough", "name": "Jane Q. Public"});
    assert_eq!(handle(by_name).await, "janeqpublic");
    assert_eq!(handle(json!({"email": "jane-doe@c.example", "password": "long enough"})).await, "janedoe2");
}

/// Issue 17, item 4: wrong tokens are throttled per (account, client) instead of wearing out the
/// live token, so nobody can block another's verification or reset by guessing.
async fn wrong_tokens_are_throttled_and_never_wear_out_the_live_token(backend: Backend) {
    let (app, sink) = start_with_sink(backend, |s| s.email_token_attempts = 3).await;
    let token = signup_and_mail(&app, &sink, "guess@example.com", "password-one").await.token();
    for _ in 0..3 {
        assert_eq!(verify(&app, "guess@example.com", "password-one", "wrong-token").await.0, 422);
    }
    let (status, body) = verify(&app, "guess@example.com", "password-one", &token).await;
    assert_eq!(status, 429, "the fourth try from this client within 15 minutes: {body}");
    app.clock.advance(15 * 60);
    let (status, body) = verify(&app, "guess@example.com", "password-one", &token).await;
    assert_eq!(status, 200, "the live token still works: {body}");
    assert!(body["jwt"].is_string(), "{body}");
}

async fn with_verifications_off_signup_answers_a_token_and_queues_no_mail(backend: Backend) {
    let app = spawn(backend).settings(|s| s.verifications_required = false).start().await;
    let (status, body) = signup(&app, json!({"email": "fast@example.com", "password": "long enough"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["verified"], json!(true));
    let claims = app.verify(body["jwt"].as_str().expect("jwt")).await;
    assert_eq!(claims["valid"], json!(true));
    assert!(claims["payload"].get("act").is_none());
    assert!(app.state.store.outbox_for("fast@example.com").await.expect("outbox").is_empty());
    assert_eq!(app.login("fast@example.com", "long enough").await.0, 200);
}
