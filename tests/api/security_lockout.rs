//! A client that resets its connection mid-check cannot leave a lockout reservation behind, and a
//! reservation nobody settled expires by itself (issue 16, item 2).

use std::time::Duration;

use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::audit::events;
use crate::backend_tests;
use crate::support::app::{Backend, PASSWORD, TestApp};
use crate::support::jsonapi::As;
use crate::support::tokens::eventually;

backend_tests!(
    password_logins_reset_mid_check_are_settled_audited_and_lift_after_the_lock_time,
    password_changes_reset_mid_check_are_settled_too,
    reservations_a_dead_process_left_expire_as_failures,
);

async fn start(backend: Backend) -> TestApp {
    crate::lockout::start(backend, 5).await
}

/// Sends a JSON POST and resets the connection (SO_LINGER 0) while the service is still checking it.
async fn post_and_reset(app: &TestApp, path: &str, headers: &str, body: &serde_json::Value, after: Duration) {
    let body = body.to_string();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        app.addr,
        body.len()
    );
    let mut stream = TcpStream::connect(app.addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("send");
    tokio::time::sleep(after).await;
    socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO)).expect("SO_LINGER 0");
    drop(stream);
}

/// A login's status and Retry-After.
async fn login(app: &TestApp, password: &str) -> (u16, Option<i64>) {
    let response = app.post_json("/jwt/token", &json!({"email": "al@example.com", "password": password})).await;
    let retry = response.headers().get("retry-after").map(|v| v.to_str().expect("ascii").parse().expect("seconds"));
    (response.status().as_u16(), retry)
}

/// Sends wrong attempts, each reset by the client a few milliseconds in (a little later each
/// time, so the reset lands in the check whatever the machine's speed), until `action` has five
/// failures on the audit trail: those attempts were checked to the end although nobody waited.
async fn abort_five_checks(
    app: &TestApp,
    admin: &As,
    path: &str,
    headers: &str,
    body: &serde_json::Value,
    action: &str,
) {
    let failures = || async {
        let recorded = events(app, admin, &format!("filter[action]={action}")).await;
        recorded.iter().filter(|e| e["details"]["outcome"] == "failure").count()
    };
    for attempt in 0..40 {
        if failures().await >= 5 {
            return;
        }
        post_and_reset(app, path, headers, body, Duration::from_millis(5 + 2 * attempt)).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eventually("five aborted attempts are checked and audited", || async { failures().await >= 5 }).await;
}

/// After five settled failures: locked for the first interval, even for the right password, and
/// open again after it.
async fn assert_locked_for_a_minute_then_open(app: &TestApp) {
    assert_eq!(login(app, PASSWORD).await, (429, Some(60)), "a real lock, not attempts left in flight");
    app.clock.advance(61);
    assert_eq!(login(app, PASSWORD).await, (200, None), "the right password works after the lock time");
}

async fn password_logins_reset_mid_check_are_settled_audited_and_lift_after_the_lock_time(backend: Backend) {
    let app = start(backend).await;
    let (_, admin) = app.user_with_token("root@example.com", true).await;
    app.insert_user("al@example.com", true, false).await;
    let wrong = json!({"email": "al@example.com", "password": "wrong"});
    abort_five_checks(&app, &admin, "/jwt/token", "", &wrong, "login.password").await;
    assert_locked_for_a_minute_then_open(&app).await;
}

async fn password_changes_reset_mid_check_are_settled_too(backend: Backend) {
    let app = start(backend).await;
    let (_, admin) = app.user_with_token("root@example.com", true).await;
    app.insert_user("al@example.com", true, false).await;
    let token = app.token_for("al@example.com").await;
    let bearer = format!("Authorization: Bearer {token}\r\n");
    let body = json!({"current_password": "wrong", "new_password": "a brand new password"});
    abort_five_checks(&app, &admin, "/me/password", &bearer, &body, "users.password-change").await;
    assert_locked_for_a_minute_then_open(&app).await;
}

/// Reservations made and never settled, as by a process that died mid-check.
async fn reservations_a_dead_process_left_expire_as_failures(backend: Backend) {
    let app = start(backend).await;
    app.insert_user("al@example.com", true, false).await;
    let key = authify::service::account::lockout::account_key("al@example.com");
    for _ in 0..5 {
        app.state.store.reserve_login_attempt(&key, 5, app.clock_now()).await.expect("reserve");
    }
    assert_eq!(login(&app, PASSWORD).await, (429, Some(1)), "attempts in flight fill the threshold");
    app.clock.advance(authify::service::account::lockout::RESERVATION_SECONDS);
    assert_eq!(login(&app, PASSWORD).await, (429, Some(60)), "expired: counted as failures, a 1-minute lock");
    app.clock.advance(60);
    assert_eq!(login(&app, PASSWORD).await, (200, None));
}
