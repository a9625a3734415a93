//! The {json:api} 1.0 envelope: media type negotiation, documents, request parsing, query
//! parameters and error documents. Resource types live in `http::resources`.

pub mod document;
pub mod errors;
pub mod input;
pub mod query;

use poem::http::{HeaderMap, HeaderValue, StatusCode, header};
use poem::{IntoResponse, Response};
use serde_json::Value;

use crate::error::Error;

pub const MEDIA_TYPE: &str = "application/vnd.api+json";

/// Largest request document accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// 406 when the client accepts neither the media type nor a wildcard, or lists the media type only
/// with parameters (JSON:API 1.0, "Server Responsibilities").
pub fn check_accept(headers: &HeaderMap) -> Result<(), Error> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let acceptable = accept.split(',').any(|range| {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or("").to_ascii_lowercase();
        let params_ok = parts.all(|p| p.to_ascii_lowercase().starts_with("q=") && p != "q=0");
        match media.as_str() {
            "*/*" | "application/*" => true,
            MEDIA_TYPE => params_ok,
            _ => false,
        }
    });
    if acceptable { Ok(()) } else { Err(Error::NotAcceptable) }
}

/// 415 unless a request body is declared as exactly the media type, without parameters.
pub fn check_content_type(headers: &HeaderMap) -> Result<(), Error> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if content_type.trim().eq_ignore_ascii_case(MEDIA_TYPE) { Ok(()) } else { Err(Error::UnsupportedMediaType) }
}

/// A document response with the media type.
pub fn document_response(status: StatusCode, body: &Value) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE))
        .body(serde_json::to_vec(body).unwrap_or_default())
}

/// An error response for a domain error.
pub fn error_response(err: Error) -> Response {
    errors::JsonApiError(err).into_response()
}
