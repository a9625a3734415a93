//! Account lockout: counted in the database before any password check, so parallel guesses and
//! other instances cannot pass the threshold; growing intervals; lifted by success, by an admin and
//! by `authify user unlock`.

use reqwest::Method;
use serde_json::json;

use crate::backend_tests;
use crate::support::app::{Backend, PASSWORD, TestApp, spawn};
use crate::support::totp::{call, code_at, enable_totp, login_with_code};

backend_tests!(
    an_account_locks_after_the_threshold_and_then_refuses_even_the_right_password,
    lock_intervals_grow_and_a_success_starts_afresh,
    wrong_second_factor_codes_count_towards_the_lockout,
    fifty_parallel_wrong_passwords_never_make_more_checks_than_the_threshold,
    two_instances_share_the_lockout_and_an_admin_lifts_it,
    unknown_emails_lock_like_known_ones,
    authify_user_unlock_and_reset_totp_work_from_the_command_line,
);

/// Settings: lock after `threshold` failures for 1, then 5 minutes; no rate limits in the way.
pub async fn start(backend: Backend, threshold: u32) -> TestApp {
    spawn(backend)
        .settings(move |s| {
            s.lockout_threshold = threshold;
            s.lockout_minutes = "1,5".parse().expect("minutes");
            s.rate_limit_per_ip = 0;
            s.rate_limit_per_account = 0;
            // Checks wait for a hashing thread as long as it takes: a busy machine's 503 is no
            // outcome of the lockout.
            s.password_hash_wait_ms = 0;
        })
        .start()
        .await
}

/// A login's status and Retry-After.
async fn login(app: &TestApp, email: &str, password: &str) -> (u16, Option<i64>) {
    let response = app.post_json("/jwt/token", &json!({ "email": email, "password": password })).await;
    let retry = response.headers().get("retry-after").map(|v| v.to_str().expect("ascii").parse().expect("seconds"));
    (response.status().as_u16(), retry)
}

async fn an_account_locks_after_the_threshold_and_then_refuses_even_the_right_password(backend: Backend) {
    let app = start(backend, 3).await;
    app.insert_user("al@example.com", true, false).await;
    for _ in 0..3 {
        assert_eq!(login(&app, "al@example.com", "wrong").await, (401, None));
    }
    let wrong = app.post_json("/jwt/token", &json!({ "email": "al@example.com", "password": "wrong" })).await;
    assert_eq!(wrong.status().as_u16(), 429);
    let wrong_body: serde_json::Value = wrong.json().await.expect("JSON");
    let right = app.post_json("/jwt/token", &json!({ "email": "al@example.com", "password": PASSWORD })).await;
    assert_eq!(right.status().as_u16(), 429);
    assert_eq!(right.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("60"));
    let right_body: serde_json::Value = right.json().await.expect("JSON");
    assert_eq!(wrong_body, right_body, "the same answer whether or not the password was right");
    app.clock.advance(60);
    assert_eq!(login(&app, "al@example.com", PASSWORD).await, (200, None));
}

async fn lock_intervals_grow_and_a_success_starts_afresh(backend: Backend) {
    let app = start(backend, 2).await;
    app.insert_user("bea@example.com", true, false).await;
    let fail_twice = || async {
        for _ in 0..2 {
            assert_eq!(login(&app, "bea@example.com", "wrong").await.0, 401);
        }
    };
    fail_twice().await;
    assert_eq!(login(&app, "bea@example.com", "wrong").await, (429, Some(60)));
    app.clock.advance(60);
    fail_twice().await;
    assert_eq!(login(&app, "bea@example.com", "wrong").await, (429, Some(300)));
    app.clock.advance(300);
    fail_twice().await;
    assert_eq!(login(&app, "bea@example.com", PASSWORD).await, (429, Some(300)), "the last interval repeats");
    app.clock.advance(300);
    assert_eq!(login(&app, "bea@example.com", PASSWORD).await.0, 200);
    // The success cleared the failures and the growth.
    assert_eq!(login(&app, "bea@example.com", "wrong").await.0, 401);
    assert_eq!(login(&app, "bea@example.com", PASSWORD).await.0, 200);
    fail_twice().await;
    assert_eq!(login(&app, "bea@example.com", "wrong").await, (429, Some(60)));
}

async fn wrong_second_factor_codes_count_towards_the_lockout(backend: Backend) {
    let app = start(backend, 3).await;
    app.insert_user("cal@example.com", true, false).await;
    let (secret, _) = enable_totp(&app, "cal@example.com").await;
    // A right password waiting for its code is neither a failure nor a success.
    for _ in 0..4 {
        assert_eq!(app.login("cal@example.com", PASSWORD).await.1["error"], json!("totp_required"));
    }
    for _ in 0..3 {
        assert_eq!(login_with_code(&app, "cal@example.com", "000000").await.0, 401);
    }
    let code = code_at(&secret, app.clock_now());
    assert_eq!(login_with_code(&app, "cal@example.com", &code).await.0, 429);
    app.clock.advance(60);
    let code = code_at(&secret, app.clock_now());
    assert_eq!(login_with_code(&app, "cal@example.com", &code).await.0, 200);
}

async fn fifty_parallel_wrong_passwords_never_make_more_checks_than_the_threshold(backend: Backend) {
    let app = start(backend, 5).await;
    app.insert_user("dan@example.com", true, false).await;
    let attempts = (0..50).map(|_| login(&app, "dan@example.com", "wrong"));
    let statuses: Vec<u16> = futures::future::join_all(attempts).await.into_iter().map(|(s, _)| s).collect();
    // Every 401 is a password that was checked; every 429 was refused before any hashing.
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, refused), (5, 45), "{statuses:?}");
    assert_eq!(login(&app, "dan@example.com", PASSWORD).await.0, 429);
}

async fn two_instances_share_the_lockout_and_an_admin_lifts_it(backend: Backend) {
    let first = start(backend, 3).await;
    let user = first.insert_user("eve@example.com", true, false).await;
    first.insert_user("root@example.com", true, true).await;
    let admin = first.token_for("root@example.com").await;
    let second = first.second_instance(|_| {}).await;
    assert_eq!(login(&first, "eve@example.com", "wrong").await.0, 401);
    assert_eq!(login(&second, "eve@example.com", "wrong").await.0, 401);
    assert_eq!(login(&first, "eve@example.com", "wrong").await.0, 401);
    assert_eq!(login(&second, "eve@example.com", PASSWORD).await.0, 429);
    assert_eq!(login(&first, "eve@example.com", PASSWORD).await.0, 429);

    let path = format!("/admin/users/{}/unlock", user.id);
    assert_eq!(call(&second, Method::POST, &path, &admin, None).await.0, 204);
    assert_eq!(login(&first, "eve@example.com", PASSWORD).await.0, 200);
}

async fn unknown_emails_lock_like_known_ones(backend: Backend) {
    let app = start(backend, 2).await;
    app.insert_user("fin@example.com", true, false).await;
    for email in ["fin@example.com", "nobody@example.com"] {
        assert_eq!(login(&app, email, "wrong").await.0, 401);
        assert_eq!(login(&app, email, "wrong").await.0, 401);
        assert_eq!(login(&app, email, "wrong").await, (429, Some(60)), "{email}");
    }
}

async fn authify_user_unlock_and_reset_totp_work_from_the_command_line(backend: Backend) {
    let app = start(backend, 2).await;
    app.insert_user("gus@example.com", true, false).await;
    enable_totp(&app, "gus@example.com").await;
    for _ in 0..2 {
        assert_eq!(login(&app, "gus@example.com", "wrong").await.0, 401);
    }
    assert_eq!(login(&app, "gus@example.com", PASSWORD).await.0, 429);

    let dir = tempfile::tempdir().expect("tempdir");
    let env = [("AUTHIFY_DB_URL", app.db.url.as_str())];
    let unlocked = crate::cli::run(dir.path(), &env, &["user", "unlock", "Gus@example.com"], "");
    assert!(unlocked.status.success(), "{}", String::from_utf8_lossy(&unlocked.stderr));
    assert_eq!(String::from_utf8_lossy(&unlocked.stdout).trim(), "Gus@example.com unlocked");
    assert_eq!(app.login("gus@example.com", PASSWORD).await.1["error"], json!("totp_required"));

    let reset = crate::cli::run(dir.path(), &env, &["user", "reset-totp", "gus@example.com"], "");
    assert!(reset.status.success(), "{}", String::from_utf8_lossy(&reset.stderr));
    assert_eq!(String::from_utf8_lossy(&reset.stdout).trim(), "gus@example.com: second factor removed");
    assert_eq!(login(&app, "gus@example.com", PASSWORD).await.0, 200);
    let unknown =
        crate::cli::failure_line(&crate::cli::run(dir.path(), &env, &["user", "reset-totp", "x@example.com"], ""));
    assert_eq!(unknown, "error: no user with email x@example.com");
}
