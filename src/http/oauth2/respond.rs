//! The response side of the OAuth endpoints: JSON with `Cache-Control: no-store`, and RFC 6749
//! §5.2 errors (401 with `WWW-Authenticate`, `Retry-After` on 429 and 503).

use poem::Response;
use poem::http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA};
use poem::http::{HeaderValue, StatusCode};
use serde::Serialize;

use crate::service::oauth::error::OauthError;

/// A JSON answer that no cache may keep. The headers are constants, so nothing is parsed per
/// answer; the buffer starts large enough for a token response with an ID token.
pub fn json(status: StatusCode, body: &impl Serialize) -> Response {
    let mut bytes = Vec::with_capacity(2048);
    if serde_json::to_writer(&mut bytes, body).is_err() {
        bytes = b"{}".to_vec();
    }
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header(CACHE_CONTROL, HeaderValue::from_static("no-store"))
        .header(PRAGMA, HeaderValue::from_static("no-cache"))
        .body(bytes)
}

/// An RFC 6749 error body; `scheme` is the `WWW-Authenticate` scheme of a 401 (`Basic` at the
/// token endpoint, `Bearer` at userinfo).
pub fn error(err: &OauthError, scheme: &str) -> Response {
    let status = StatusCode::from_u16(err.status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = serde_json::json!({"error": err.code, "error_description": err.description});
    let mut response = json(status, &body);
    let headers = response.headers_mut();
    if err.status == 401 {
        let challenge = if scheme == "Bearer" {
            format!("Bearer error=\"{}\", error_description=\"{}\"", err.code, err.description.replace('"', "'"))
        } else {
            format!("{scheme} realm=\"authify\"")
        };
        if let Ok(value) = challenge.parse() {
            headers.insert("WWW-Authenticate", value);
        }
    }
    if let Some(seconds) = err.retry_after
        && let Ok(value) = seconds.to_string().parse()
    {
        headers.insert("Retry-After", value);
    }
    response
}
