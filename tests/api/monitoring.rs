//! Operations: `/monitoring/info` (admins) and Prometheus `/metrics`, and request ids.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::plain_tests;
use crate::support::app::{Backend, TestApp, spawn};
use crate::support::jsonapi::As;

backend_tests!(
    monitoring_info_is_for_admins_and_its_counters_move,
    behind_a_trusted_proxy_metrics_are_for_local_clients_and_the_token_only,
);
plain_tests!(
    metrics_are_prometheus_text_by_route_template_and_status,
    a_metrics_token_guards_metrics_and_admins_may_read_them,
    every_response_carries_a_request_id_and_a_well_formed_one_is_kept
);

fn bearer(who: &As) -> String {
    match who {
        As::Bearer(token) => format!("Bearer {token}"),
        _ => String::new(),
    }
}

async fn info(app: &TestApp, who: &As) -> (u16, Value) {
    let response =
        app.client.get(app.url("/monitoring/info")).header("authorization", bearer(who)).send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

async fn metrics(app: &TestApp, authorization: Option<&str>) -> (u16, String) {
    let mut request = app.client.get(app.url("/metrics"));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = request.send().await.expect("request");
    (response.status().as_u16(), response.text().await.expect("text"))
}

async fn monitoring_info_is_for_admins_and_its_counters_move(backend: Backend) {
    let app = spawn(backend).start().await;
    let (_, admin) = app.user_with_token("root@example.com", true).await;
    let (jo, user) = app.user_with_token("jo@example.com", false).await;
    let (status, body) = info(&app, &As::Anonymous).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(info(&app, &user).await.0, 403);

    let (status, before) = info(&app, &admin).await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(before["jwt.tokens.provided"], 2);
    assert_eq!(before["registration.password.resets"], 0);
    assert_eq!(app.api_get(&format!("/users/{jo}"), &user).await.status, 200);
    assert_eq!(app.api_get("/users/999999", &user).await.status, 404);
    app.token_for("jo@example.com").await;

    let (_, after) = info(&app, &admin).await;
    let requests = |v: &Value| v["rack.request.count"].as_u64().expect("count");
    assert_eq!(requests(&after) - requests(&before), 4, "three requests and the first info read");
    assert_eq!(after["jwt.tokens.provided"], 3);
    let route = &after["routes"]["GET /users/:id"];
    assert_eq!(route["count"], 2, "{after:#}");
    assert!(route["time_ms"].as_f64().expect("time") > 0.0);
    assert_eq!(after["routes"]["POST /jwt/token"]["count"], 3);
    assert!(after["routes"].as_object().expect("routes").keys().all(|k| !k.contains("999999")));
}

async fn metrics_are_prometheus_text_by_route_template_and_status() {
    let app = spawn(Backend::Sqlite).start().await;
    let (jo, user) = app.user_with_token("jo@example.com", false).await;
    for id in [jo, 999_998, 999_999] {
        app.api_get(&format!("/users/{id}"), &user).await;
    }
    assert_eq!(app.get("/no/such/route/17").await.status(), 404);
    let (status, text) = metrics(&app, None).await;
    assert_eq!(status, 200, "loopback reads /metrics without a token");

    // Every sample line is `name{labels} value` with a number; comments are HELP/TYPE lines.
    let mut buckets = Vec::new();
    let mut counts = std::collections::HashMap::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(comment) = line.strip_prefix('#') {
            assert!(comment.starts_with(" HELP ") || comment.starts_with(" TYPE "), "{line}");
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("a sample");
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("a number: {line}"));
        let (name, labels) = series.split_once('{').map_or((series, ""), |(n, l)| (n, l.trim_end_matches('}')));
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'), "{line}");
        if name == "authify_http_request_duration_seconds_bucket" {
            buckets.push((labels.to_owned(), value));
        }
        if name == "authify_http_request_duration_seconds_count" {
            counts.insert(labels.to_owned(), value);
        }
        if name == "authify_jwt_tokens_provided_total" {
            assert_eq!(value, 1.0);
        }
    }
    assert_eq!(counts[r#"route="/users/:id",method="GET",status="200""#], 1.0);
    assert_eq!(counts[r#"route="/users/:id",method="GET",status="404""#], 2.0);
    assert_eq!(counts[r#"route="unmatched",method="GET",status="404""#], 1.0);
    // Labels only: a sample value such as a latency sum may well contain the digits 999999.
    let labels: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_once('{').and_then(|(_, rest)| rest.split_once('}')))
        .map(|(l, _)| l)
        .collect();
    assert!(
        labels.iter().all(|l| !l.contains("999999") && !l.contains("/no/such")),
        "ids and unknown paths are not labels"
    );
    let users: Vec<&(String, f64)> =
        buckets.iter().filter(|(l, _)| l.starts_with(r#"route="/users/:id",method="GET",status="404""#)).collect();
    assert!(users.len() > 5, "{users:?}");
    assert!(users.windows(2).all(|w| w[0].1 <= w[1].1), "cumulative buckets");
    assert!(users.iter().any(|(l, v)| l.ends_with(r#"le="+Inf""#) && *v == 2.0), "{users:?}");
}

async fn a_metrics_token_guards_metrics_and_admins_may_read_them() {
    let token = "a-scraper-secret-of-some-length";
    let app = spawn(Backend::Sqlite).settings(move |s| s.metrics_token = Some(token.into())).start().await;
    let (_, admin) = app.user_with_token("root@example.com", true).await;
    let (_, user) = app.user_with_token("jo@example.com", false).await;
    assert_eq!(metrics(&app, None).await.0, 401);
    assert_eq!(metrics(&app, Some("Bearer wrong-secret-of-some-length")).await.0, 401);
    assert_eq!(metrics(&app, Some(&bearer(&user))).await.0, 403);
    assert_eq!(metrics(&app, Some(&bearer(&admin))).await.0, 200);
    let (status, text) = metrics(&app, Some(&format!("Bearer {token}"))).await;
    assert_eq!(status, 200);
    assert!(text.contains("authify_requests_total"), "{text}");
}

/// `GET /metrics` as the proxy forwards it: with `X-Forwarded-For` (a client of the proxy) or not.
async fn metrics_via(app: &TestApp, forwarded_for: Option<&str>, authorization: Option<&str>) -> u16 {
    let mut request = app.client.get(app.url("/metrics"));
    if let Some(client) = forwarded_for {
        request = request.header("x-forwarded-for", client);
    }
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    request.send().await.expect("request").status().as_u16()
}

async fn behind_a_trusted_proxy_metrics_are_for_local_clients_and_the_token_only(backend: Backend) {
    // The proxy runs on this host: every request reaches the service from 127.0.0.1.
    let app =
        spawn(backend.clone()).settings(|s| s.trusted_proxies = "127.0.0.1".parse().expect("proxies")).start().await;
    assert_eq!(metrics_via(&app, Some("203.0.113.9"), None).await, 401, "an outside client through the proxy");
    assert_eq!(metrics_via(&app, Some("127.0.0.1, 203.0.113.9"), None).await, 401, "a forged hop does not help");
    assert_eq!(metrics_via(&app, Some("203.0.113.9:4711"), None).await, 401, "a hop that names no address");
    assert_eq!(metrics_via(&app, None, None).await, 200, "a scraper on this host, not through the proxy");
    assert_eq!(metrics_via(&app, Some("::1"), None).await, 200, "a local client through the proxy");
    let (_, user) = app.user_with_token("jo@example.com", false).await;
    assert_eq!(metrics_via(&app, Some("203.0.113.9"), Some(&bearer(&user))).await, 403, "not an admin");

    let token = "a-scraper-secret-of-some-length";
    let guarded = spawn(backend)
        .settings(move |s| {
            s.trusted_proxies = "127.0.0.1".parse().expect("proxies");
            s.metrics_token = Some(token.into());
        })
        .start()
        .await;
    let with_token = format!("Bearer {token}");
    assert_eq!(metrics_via(&guarded, Some("203.0.113.9"), None).await, 401);
    assert_eq!(metrics_via(&guarded, Some("203.0.113.9"), Some(&with_token)).await, 200, "the scraper's token");
    assert_eq!(metrics_via(&guarded, None, Some(&with_token)).await, 200);
}

async fn every_response_carries_a_request_id_and_a_well_formed_one_is_kept() {
    let app = spawn(Backend::Sqlite).start().await;
    let id_of = |r: &reqwest::Response| r.headers()["x-request-id"].to_str().expect("ascii").to_owned();
    let first = app.get("/health").await;
    let second = app.get("/nowhere").await;
    assert_eq!(second.status(), 404);
    assert_ne!(id_of(&first), id_of(&second));
    assert!(!id_of(&first).is_empty());
    let kept = app.client.get(app.url("/health")).header("x-request-id", "lb-7f3a:42").send().await.expect("request");
    assert_eq!(id_of(&kept), "lb-7f3a:42");
    for bad in ["has space", &"x".repeat(65), "semi;colon"] {
        let replaced = app.client.get(app.url("/health")).header("x-request-id", bad).send().await.expect("request");
        assert_ne!(id_of(&replaced), bad);
    }
    let failed = app.post_json("/jwt/token", &json!({"email": "a@example.com", "password": "x"})).await;
    assert!(!id_of(&failed).is_empty());
}
