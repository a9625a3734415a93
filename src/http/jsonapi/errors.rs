//! {json:api} error documents: `{"errors": [{id, status, code, title, detail, source}], "jsonapi"}`.
//! The single mapping from [`Error`] for the {json:api} routes; 401 carries `WWW-Authenticate`, 429
//! and 503 `Retry-After`, 405 `Allow`. Internal errors are logged with the error id and never
//! described to the client.

use poem::http::{HeaderValue, StatusCode, header};
use poem::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::MEDIA_TYPE;
use crate::crypto::tokens;
use crate::error::Error;
use crate::http::errors::WWW_AUTHENTICATE;

/// Where in the request an error lies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Pointer(String),
    Parameter(String),
}

/// One error object.
#[derive(Debug, Clone)]
pub struct ErrorObject {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub source: Option<Source>,
}

impl ErrorObject {
    fn to_json(&self, id: &str) -> Value {
        let mut object = Map::new();
        object.insert("id".into(), json!(id));
        object.insert("status".into(), json!(self.status.as_str()));
        object.insert("code".into(), json!(self.code));
        object.insert("title".into(), json!(self.status.canonical_reason().unwrap_or("Error")));
        object.insert("detail".into(), json!(self.detail));
        match &self.source {
            Some(Source::Pointer(pointer)) => object.insert("source".into(), json!({ "pointer": pointer })),
            Some(Source::Parameter(parameter)) => object.insert("source".into(), json!({ "parameter": parameter })),
            None => None,
        };
        Value::Object(object)
    }

    /// The error as a complete response.
    pub fn into_response_with(self, retry_after: Option<u32>) -> Response {
        let id = tokens::random_token(9);
        if self.status.is_server_error() && retry_after.is_none() {
            tracing::error!(error_id = %id, detail = %self.detail, "request failed");
        }
        let body = json!({ "errors": [self.to_json(&id)], "jsonapi": { "version": "1.0" } });
        let mut response = Response::builder()
            .status(self.status)
            .header(header::CONTENT_TYPE, MEDIA_TYPE)
            .body(serde_json::to_vec(&body).unwrap_or_default());
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(WWW_AUTHENTICATE));
        }
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Where a field error points: attributes are dasherized in documents.
fn attribute_pointer(field: &str) -> String {
    format!("/data/attributes/{}", field.replace('_', "-"))
}

impl From<&Error> for ErrorObject {
    fn from(err: &Error) -> Self {
        let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let detail = if status.is_server_error() && !err.is_temporary() {
            tracing::error!(code = err.code(), error = ?err, "request failed");
            "Internal server error".to_owned()
        } else {
            err.to_string()
        };
        let source = match err {
            Error::Invalid(invalid) => Some(Source::Pointer(attribute_pointer(invalid.field))),
            Error::Taken { field } => Some(Source::Pointer(attribute_pointer(field))),
            Error::BadParameter { parameter, .. } => Some(Source::Parameter(parameter.clone())),
            Error::BadDocument { pointer, .. } => Some(Source::Pointer(pointer.clone())),
            _ => None,
        };
        ErrorObject { status, code: err.code(), detail, source }
    }
}

/// A domain error on a {json:api} route.
pub struct JsonApiError(pub Error);

impl From<Error> for JsonApiError {
    fn from(err: Error) -> Self {
        JsonApiError(err)
    }
}

impl IntoResponse for JsonApiError {
    fn into_response(self) -> Response {
        let retry_after = self.0.retry_after();
        let mut response = ErrorObject::from(&self.0).into_response_with(retry_after);
        if let Error::MethodNotAllowed { allowed } = &self.0
            && let Ok(value) = HeaderValue::from_str(allowed)
        {
            response.headers_mut().insert(header::ALLOW, value);
        }
        response
    }
}
