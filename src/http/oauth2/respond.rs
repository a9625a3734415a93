//! The response side of the OAuth endpoints: JSON with `Cache-Control: no-store`, and RFC 6749
//! §5.2 errors (401 with `WWW-Authenticate`, `Retry-After` on 429 and 503).

use poem::Response;
use poem::http::StatusCode;
use serde::Serialize;

use crate::service::oauth::error::OauthError;

/// A JSON answer that no cache may keep.
pub fn json(status: StatusCode, body: &impl Serialize) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    Response::builder()
        .status(status)
        .content_type("application/json")
        .header("Cache-Control", "no-store")
        .header("Pragma", "no-cache")
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
