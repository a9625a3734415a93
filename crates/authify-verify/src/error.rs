//! Why a token was refused, one variant per check, so a caller can log or answer precisely.

use crate::Algorithm;

/// Why [`Verifier::verify`](crate::Verifier::verify) refused a token, or why a verifier could not be
/// made. Each variant names the check that failed; [`Error::description`] is a short text fit for a
/// `WWW-Authenticate` header (no key material, no claim values).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Not a compact JWS of three base64url segments with a JSON header and a JSON object payload,
    /// or a known claim of the wrong type.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// The header's `alg` is not the algorithm of the key it names (`none` and HMAC never are).
    #[error("the token's algorithm {found:?} is not the key's {expected}")]
    AlgorithmMismatch {
        /// The key's algorithm.
        expected: Algorithm,
        /// The header's `alg`.
        found: String,
    },
    /// No key of the key set has the header's `kid`, even after a refetch.
    #[error("no key with kid {0:?}")]
    UnknownKey(Option<String>),
    /// The signature does not verify with the key the token names.
    #[error("the signature does not verify")]
    BadSignature,
    /// `exp` is past (leeway included).
    #[error("the token has expired")]
    Expired,
    /// `nbf` is in the future (leeway included).
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `iat` is in the future (leeway included).
    #[error("the token was issued in the future")]
    IssuedInFuture,
    /// A claim the verifier requires is absent (`exp` by default; `iss` and `aud` when expected).
    #[error("the token has no {0} claim")]
    MissingClaim(&'static str),
    /// `iss` is not the expected issuer.
    #[error("the token's issuer {found:?} is not the expected {expected:?}")]
    WrongIssuer {
        /// The issuer the verifier expects.
        expected: String,
        /// The token's `iss`.
        found: String,
    },
    /// `aud` does not name an expected audience (or names one while the verifier expects none).
    #[error("the token's audience is not an expected one")]
    WrongAudience,
    /// No key set could be fetched yet (Authify unreachable on first use, or a bad JWKS).
    #[error("no keys to verify with: {0}")]
    KeysUnavailable(String),
    /// A key given to the verifier cannot be used (bad PEM or JWK, unsupported curve).
    #[error("invalid key: {0}")]
    InvalidKey(String),
}

impl Error {
    /// A short description for `WWW-Authenticate: Bearer error_description="…"`.
    pub fn description(&self) -> &'static str {
        match self {
            Error::Malformed(_) => "malformed token",
            Error::AlgorithmMismatch { .. } => "unexpected algorithm",
            Error::UnknownKey(_) => "unknown signing key",
            Error::BadSignature => "invalid signature",
            Error::Expired => "token expired",
            Error::NotYetValid => "token not yet valid",
            Error::IssuedInFuture => "token issued in the future",
            Error::MissingClaim(_) => "missing required claim",
            Error::WrongIssuer { .. } => "wrong issuer",
            Error::WrongAudience => "wrong audience",
            Error::KeysUnavailable(_) => "verification keys unavailable",
            Error::InvalidKey(_) => "invalid verification key",
        }
    }

    /// Whether the token is at fault (answer 401), rather than the verifier's key source (503).
    pub fn is_token_error(&self) -> bool {
        !matches!(self, Error::KeysUnavailable(_) | Error::InvalidKey(_))
    }
}
