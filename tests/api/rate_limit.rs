//! Rate limits: per client IP on the listed paths, per (IP, account) on password logins; 429 with
//! Retry-After; X-Forwarded-For believed only from trusted proxies; Redis shared by instances.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::plain_tests;
use crate::support::app::{Backend, PASSWORD, TestApp, spawn};

backend_tests!(
    the_per_ip_limit_answers_429_with_retry_after_until_the_window_ends,
    the_per_account_limit_counts_logins_per_ip_and_account,
);
plain_tests!(forwarded_for_is_honoured_only_from_trusted_proxies, an_unreachable_redis_lets_requests_through);
plain_tests!(requires_env = "AUTHIFY_TEST_REDIS_URL"; redis_counters_are_shared_by_two_instances);

/// `POST /jwt/token` for `email` with a wrong password, optionally as forwarded for `xff`:
/// status, Retry-After and body.
async fn attempt(app: &TestApp, email: &str, xff: Option<&str>) -> (u16, Option<u64>, Value) {
    let mut request = app.client.post(app.url("/jwt/token")).json(&json!({ "email": email, "password": "nope" }));
    if let Some(xff) = xff {
        request = request.header("X-Forwarded-For", xff);
    }
    let response = request.send().await.expect("request");
    let retry_after =
        response.headers().get("retry-after").map(|v| v.to_str().expect("ascii").parse().expect("seconds"));
    (response.status().as_u16(), retry_after, response.json().await.expect("a JSON body"))
}

async fn the_per_ip_limit_answers_429_with_retry_after_until_the_window_ends(backend: Backend) {
    let app = spawn(backend)
        .settings(|s| {
            s.rate_limit_per_ip = 3;
            s.rate_limit_per_account = 0;
            s.lockout_threshold = 0;
        })
        .start()
        .await;
    for n in 0..3 {
        assert_eq!(attempt(&app, &format!("u{n}@example.com"), None).await.0, 401);
    }
    let (status, retry_after, body) = attempt(&app, "u9@example.com", None).await;
    assert_eq!(status, 429, "{body}");
    assert!(body["error"].is_string(), "{body}");
    let retry_after = retry_after.expect("Retry-After");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    // Paths that are not listed are not limited.
    assert_eq!(app.get("/jwt/meta").await.status().as_u16(), 200);
    app.clock.advance(retry_after as i64);
    assert_eq!(attempt(&app, "u9@example.com", None).await.0, 401);
}

async fn the_per_account_limit_counts_logins_per_ip_and_account(backend: Backend) {
    let app = spawn(backend)
        .settings(|s| {
            s.rate_limit_per_ip = 100;
            s.rate_limit_per_account = 2;
            s.lockout_threshold = 0;
        })
        .start()
        .await;
    app.insert_user("amy@example.com", true, false).await;
    assert_eq!(attempt(&app, "amy@example.com", None).await.0, 401);
    assert_eq!(attempt(&app, "AMY@example.com", None).await.0, 401);
    let (status, retry_after, _) = attempt(&app, "amy@example.com", None).await;
    assert_eq!((status, retry_after.is_some()), (429, true));
    // Even the right password waits: the limit comes before any password check.
    assert_eq!(app.login("amy@example.com", PASSWORD).await.0, 429);
    assert_eq!(attempt(&app, "bob@example.com", None).await.0, 401, "another account is not limited");
}

async fn forwarded_for_is_honoured_only_from_trusted_proxies() {
    let settings = |s: &mut authify::config::Settings| {
        s.rate_limit_per_ip = 2;
        s.rate_limit_per_account = 0;
        s.lockout_threshold = 0;
    };
    let behind_proxy = spawn(Backend::Sqlite)
        .settings(move |s| {
            settings(s);
            s.trusted_proxies = "127.0.0.1, 10.0.0.0/8".parse().expect("proxies");
        })
        .start()
        .await;
    for _ in 0..2 {
        assert_eq!(attempt(&behind_proxy, "a@example.com", Some("203.0.113.1, 10.0.0.7")).await.0, 401);
    }
    assert_eq!(attempt(&behind_proxy, "a@example.com", Some("198.51.100.1, 203.0.113.1")).await.0, 429);
    assert_eq!(attempt(&behind_proxy, "a@example.com", Some("203.0.113.1, 198.51.100.2")).await.0, 401);

    let direct = spawn(Backend::Sqlite).settings(settings).start().await;
    for n in 0..2 {
        assert_eq!(attempt(&direct, "a@example.com", Some(&format!("203.0.113.{n}"))).await.0, 401);
    }
    assert_eq!(attempt(&direct, "a@example.com", Some("203.0.113.77")).await.0, 429, "a forged header changes nothing");
}

async fn redis_counters_are_shared_by_two_instances() {
    let url = std::env::var("AUTHIFY_TEST_REDIS_URL").expect("AUTHIFY_TEST_REDIS_URL");
    let prefix = format!("authify-test-{}", authify::crypto::tokens::random_token(9));
    let first = spawn(Backend::Sqlite)
        .settings(move |s| {
            s.redis_url = Some(url);
            s.redis_key_prefix = prefix;
            s.rate_limit_per_ip = 3;
            s.rate_limit_per_account = 0;
            s.lockout_threshold = 0;
        })
        .start()
        .await;
    let second = first.second_instance(|_| {}).await;
    second.clock.advance(first.clock_now() - second.clock_now());
    assert_eq!(attempt(&first, "a@example.com", None).await.0, 401);
    assert_eq!(attempt(&second, "a@example.com", None).await.0, 401);
    assert_eq!(attempt(&first, "a@example.com", None).await.0, 401);
    let (status, retry_after, _) = attempt(&second, "a@example.com", None).await;
    assert_eq!((status, retry_after.is_some()), (429, true));
}

async fn an_unreachable_redis_lets_requests_through() {
    let app = spawn(Backend::Sqlite)
        .settings(|s| {
            s.redis_url = Some("redis://127.0.0.1:1".into());
            s.rate_limit_per_ip = 1;
            s.rate_limit_per_account = 1;
            s.lockout_threshold = 0;
        })
        .start()
        .await;
    for _ in 0..3 {
        assert_eq!(attempt(&app, "a@example.com", None).await.0, 401);
    }
}
