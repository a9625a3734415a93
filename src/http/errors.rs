//! The one place where errors become responses on the plain-JSON routes: Authify's
//! `{"error": "…"}` body with the status of [`Error::status`]. poem's own errors (unknown route,
//! wrong method, wrong content type, bad query parameter) go through [`poem_error_to_json`].

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};

use crate::error::Error;

pub const WWW_AUTHENTICATE: &str = r#"Bearer realm="authify""#;

/// Authify's error body.
#[derive(Debug, Clone, Object, serde::Serialize, serde::Deserialize)]
pub struct ErrorBody {
    /// What went wrong, for people.
    pub error: String,
    /// Only with `"error": "totp_required"` (a correct password; the account has a second factor).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub second_factor_required: Option<SecondFactorRequired>,
}

/// What a password login may come back with as its second factor.
#[derive(Debug, Clone, Object, serde::Serialize, serde::Deserialize)]
pub struct SecondFactorRequired {
    /// `totp` (send `totp_code`), `recovery_code` (send `recovery_code`) and, when the account has
    /// passkeys, `passkey` (send `passkey: {"challenge_id", "credential"}`).
    pub kinds: Vec<String>,
    /// The passkey ceremony: `challenge_id` and the `publicKey` request options for
    /// `navigator.credentials.get`; single-use, for five minutes.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub passkey: Option<serde_json::Value>,
}

impl SecondFactorRequired {
    fn of(passkey: Option<Box<serde_json::Value>>) -> Self {
        let mut kinds = vec!["totp".to_owned(), "recovery_code".to_owned()];
        if passkey.is_some() {
            kinds.push("passkey".to_owned());
        }
        Self { kinds, passkey: passkey.map(|p| *p) }
    }
}

/// Every error a plain-JSON route may answer with.
#[derive(Debug, ApiResponse)]
pub enum PlainError {
    /// The request cannot be parsed (for example, the body is not JSON).
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// The credentials are wrong or missing.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>, #[oai(header = "WWW-Authenticate")] String),
    /// The account may not do this (for example, it is disabled).
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// A unique value is already taken.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// The body is larger than the route takes (64 KiB for JSON).
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// The body is not JSON (`Content-Type` missing or another media type).
    #[oai(status = 415)]
    UnsupportedMediaType(Json<ErrorBody>),
    /// A field has a value that does not meet the rules; the message names the field.
    #[oai(status = 422)]
    Unprocessable(Json<ErrorBody>),
    /// Throttled or locked out: retry after `Retry-After` seconds.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>, #[oai(header = "Retry-After")] String),
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// Overloaded (too many password checks waiting), the database or an external sign-in provider
    /// cannot be reached: retry after `Retry-After` seconds.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>, #[oai(header = "Retry-After")] String),
}

/// What a JSON request body itself is refused for, on a route that otherwise always answers 200
/// (`POST /jwt/verify`). The `JsonBody` extractor sends these; the type declares them in the
/// OpenAPI document.
#[derive(Debug, ApiResponse)]
#[allow(dead_code, reason = "answered by the JsonBody extractor before the handler runs")]
pub enum BodyError {
    /// The body is not JSON, or not a JSON object.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// The body is larger than 64 KiB.
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// `Content-Type` is missing or not JSON.
    #[oai(status = 415)]
    UnsupportedMediaType(Json<ErrorBody>),
    /// A field has the wrong type; the message names it.
    #[oai(status = 422)]
    Unprocessable(Json<ErrorBody>),
}

fn body(message: impl Into<String>) -> Json<ErrorBody> {
    Json(ErrorBody { error: message.into(), second_factor_required: None })
}

impl From<Error> for PlainError {
    fn from(err: Error) -> Self {
        let message = err.to_string();
        if let Error::TotpRequired(passkey) = err {
            let required = Some(SecondFactorRequired::of(passkey));
            let body = Json(ErrorBody { error: message, second_factor_required: required });
            return PlainError::Unauthorized(body, WWW_AUTHENTICATE.into());
        }
        if let Some(retry_after) = err.retry_after().filter(|_| err.status() == 503) {
            return PlainError::Unavailable(body(message), retry_after.to_string());
        }
        if let Some(retry_after) = err.retry_after().filter(|_| err.status() == 429) {
            return PlainError::TooManyRequests(body(message), retry_after.to_string());
        }
        match err.status() {
            400 => PlainError::BadRequest(body(message)),
            401 => PlainError::Unauthorized(body(message), WWW_AUTHENTICATE.into()),
            403 => PlainError::Forbidden(body(message)),
            404 => PlainError::NotFound(body(message)),
            409 => PlainError::Conflict(body(message)),
            413 => PlainError::PayloadTooLarge(body(message)),
            415 => PlainError::UnsupportedMediaType(body(message)),
            422 => PlainError::Unprocessable(body(message)),
            _ => {
                tracing::error!(code = err.code(), error = ?err, "request failed");
                PlainError::Internal(body("Internal server error"))
            }
        }
    }
}

/// A JSON error response with any status.
pub fn json_error(status: StatusCode, message: impl Into<String>) -> Response {
    let mut response =
        poem::web::Json(ErrorBody { error: message.into(), second_factor_required: None }).into_response();
    response.set_status(status);
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert("WWW-Authenticate", poem::http::HeaderValue::from_static(WWW_AUTHENTICATE));
    }
    response
}

/// A 429 with `Retry-After` and Authify's JSON body (the rate-limit middleware's answer).
pub fn too_many_requests(err: &Error) -> Response {
    let mut response = json_error(StatusCode::TOO_MANY_REQUESTS, err.to_string());
    if let Some(seconds) = err.retry_after() {
        response.headers_mut().insert("Retry-After", poem::http::HeaderValue::from(seconds));
    }
    response
}

/// Turns any error that reached the top without a JSON body into one.
pub async fn poem_error_to_json(err: poem::Error) -> Response {
    if err.is_from_response() {
        return err.into_response();
    }
    let status = err.status();
    let message = match status {
        StatusCode::NOT_FOUND => "Not found".to_string(),
        StatusCode::METHOD_NOT_ALLOWED => "Method not allowed".to_string(),
        StatusCode::INTERNAL_SERVER_ERROR => {
            tracing::error!(error = %err, "request failed");
            "Internal server error".to_string()
        }
        _ => err.to_string(),
    };
    json_error(status, message)
}
