//! What any client can send: never a 500, always a JSON body with the right status.

use serde_json::{Value, json};

use crate::plain_tests;
use crate::support::app::{Backend, spawn};

plain_tests!(
    malformed_bodies_get_400_and_wrong_types_422_naming_the_field,
    wrong_media_type_size_route_and_method_get_json_errors,
    every_route_answers_options_with_cors_headers,
    a_cors_allow_list_echoes_allowed_origins_only
);

async fn error_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(content_type.starts_with("application/json"), "status {status}: content type {content_type:?}");
    let body: Value = response.json().await.expect("JSON error body");
    (status, body["error"].as_str().expect("an `error` member").to_owned())
}

async fn malformed_bodies_get_400_and_wrong_types_422_naming_the_field() {
    let app = spawn(Backend::Sqlite).start().await;
    let post_raw = |body: &'static str| {
        app.client.post(app.url("/jwt/token")).header("content-type", "application/json").body(body).send()
    };
    let (status, error) = error_of(post_raw("{not json").await.expect("send")).await;
    assert_eq!(status, 400);
    assert!(error.starts_with("Request must be valid JSON: "), "{error}");
    let (status, error) = error_of(post_raw("").await.expect("send")).await;
    assert_eq!((status, error.starts_with("Request must be valid JSON: ")), (400, true));
    let (status, error) = error_of(post_raw("[1, 2]").await.expect("send")).await;
    assert_eq!((status, error.starts_with("Request must be valid JSON: ")), (400, true));

    let (status, error) = error_of(app.post_json("/jwt/token", &json!({"email": 5, "password": "x"})).await).await;
    assert_eq!(status, 422);
    assert!(error.starts_with("email: invalid type"), "{error}");
    let (status, error) = error_of(app.post_json("/jwt/verify", &json!({"token": {"a": 1}})).await).await;
    assert_eq!(status, 422);
    assert!(error.starts_with("token: "), "{error}");
}

async fn wrong_media_type_size_route_and_method_get_json_errors() {
    let app = spawn(Backend::Sqlite).start().await;
    let response = app
        .client
        .post(app.url("/jwt/token"))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("send");
    assert_eq!(error_of(response).await.0, 415);
    let response = app.client.post(app.url("/jwt/token")).body("{}").send().await.expect("send");
    assert_eq!(error_of(response).await.0, 415);

    let big = json!({"email": "a@b.c", "password": "x".repeat(70 * 1024)});
    assert_eq!(error_of(app.post_json("/jwt/token", &big).await).await.0, 413);

    let (status, error) = error_of(app.get("/no/such/route").await).await;
    assert_eq!((status, error.as_str()), (404, "Not found"));
    let response = app.client.delete(app.url("/jwt/token")).send().await.expect("send");
    assert_eq!(error_of(response).await.0, 405);
}

async fn every_route_answers_options_with_cors_headers() {
    let app = spawn(Backend::Sqlite).start().await;
    for path in ["/jwt/token", "/jwt/verify", "/jwt/key", "/jwt/meta", "/.well-known/jwks.json", "/health"] {
        let response = app.client.request(reqwest::Method::OPTIONS, app.url(path)).send().await.expect("send");
        assert_eq!(response.status().as_u16(), 200, "{path}");
        assert_eq!(response.headers()["access-control-allow-origin"], "*", "{path}");
        assert!(response.headers()["access-control-allow-methods"].to_str().expect("ascii").contains("POST"));
    }
    let response =
        app.client.get(app.url("/jwt/meta")).header("origin", "https://x.example").send().await.expect("send");
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
}

async fn a_cors_allow_list_echoes_allowed_origins_only() {
    let app = spawn(Backend::Sqlite)
        .settings(|s| s.cors_origins = "https://app.example".parse().expect("origins"))
        .start()
        .await;
    let ask = |origin: &'static str| app.client.get(app.url("/jwt/meta")).header("origin", origin).send();
    let allowed = ask("https://app.example").await.expect("send");
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://app.example");
    let refused = ask("https://evil.example").await.expect("send");
    assert!(refused.headers().get("access-control-allow-origin").is_none());
}
