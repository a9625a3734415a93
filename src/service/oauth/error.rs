//! RFC 6749 §5.2 errors: what the token, introspection and revocation endpoints answer, and what
//! the authorization endpoint sends back to a validated redirect URI.

use crate::error::Error;

/// An OAuth error: the `error` code, a human-readable `error_description`, and the status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct OauthError {
    pub code: &'static str,
    pub description: String,
    pub status: u16,
    /// Seconds, for 429 and 503.
    pub retry_after: Option<u32>,
}

impl OauthError {
    fn new(code: &'static str, status: u16, description: impl Into<String>) -> Self {
        Self { code, description: description.into(), status, retry_after: None }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new("invalid_request", 400, description)
    }

    /// 401 with `WWW-Authenticate` (RFC 6749 §5.2).
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::new("invalid_client", 401, description)
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new("invalid_grant", 400, description)
    }

    pub fn unauthorized_client(description: impl Into<String>) -> Self {
        Self::new("unauthorized_client", 400, description)
    }

    pub fn unsupported_grant_type(description: impl Into<String>) -> Self {
        Self::new("unsupported_grant_type", 400, description)
    }

    pub fn invalid_scope(description: impl Into<String>) -> Self {
        Self::new("invalid_scope", 400, description)
    }

    pub fn invalid_token(description: impl Into<String>) -> Self {
        Self::new("invalid_token", 401, description)
    }

    pub fn unsupported_token_type(description: impl Into<String>) -> Self {
        Self::new("unsupported_token_type", 400, description)
    }

    /// Authorization-endpoint errors, sent to the client's redirect URI.
    pub fn redirect(code: &'static str, description: impl Into<String>) -> Self {
        Self::new(code, 302, description)
    }
}

/// Domain failures seen on an OAuth route: limits keep their 429 and `Retry-After`, a busy hasher
/// its 503, and anything unexpected is `server_error` (logged where the response is made).
impl From<Error> for OauthError {
    fn from(err: Error) -> Self {
        match err {
            Error::RateLimited { retry_after } | Error::AccountLocked { retry_after } => OauthError {
                retry_after: Some(retry_after),
                ..Self::new("temporarily_unavailable", 429, "too many requests; retry later")
            },
            Error::Busy { .. } | Error::DatabaseUnavailable => OauthError {
                retry_after: err.retry_after(),
                ..Self::new("temporarily_unavailable", 503, "busy; retry shortly")
            },
            Error::Unauthenticated | Error::InvalidCredentials | Error::InvalidRefreshToken => {
                Self::invalid_grant("the grant is invalid, expired or revoked")
            }
            other => {
                tracing::error!(error = ?other, "an OAuth request failed");
                Self::new("server_error", 500, "the server could not complete the request")
            }
        }
    }
}

impl From<crate::store::StoreError> for OauthError {
    fn from(err: crate::store::StoreError) -> Self {
        Error::from(err).into()
    }
}
