//! What the poem and tower middleware share: where the token is read from, and how a refusal is
//! answered (RFC 6750 §3: 401 with `WWW-Authenticate: Bearer …`, 403 `insufficient_scope`).

use http::header::{AUTHORIZATION, COOKIE, HeaderValue};
use http::{HeaderMap, StatusCode};

use crate::{Claims, Error, Verifier};

#[cfg(feature = "poem")]
pub mod poem;
#[cfg(feature = "tower")]
pub mod tower;

/// Where the middleware looks for the token: the `Authorization: Bearer` header, then, when
/// named, a cookie (for browser front-ends that keep the token in a cookie).
#[derive(Debug, Clone, Default)]
pub struct TokenSource {
    cookie: Option<String>,
}

impl TokenSource {
    /// `Authorization: Bearer <token>` only (the default).
    pub fn bearer() -> Self {
        Self::default()
    }

    /// The Bearer header, or else the cookie `name`.
    pub fn bearer_or_cookie(name: impl Into<String>) -> Self {
        Self { cookie: Some(name.into()) }
    }

    /// The token of a request, if it carries one.
    pub fn token<'a>(&self, headers: &'a HeaderMap) -> Option<&'a str> {
        if let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
            let (scheme, token) = value.trim().split_once(' ')?;
            return scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty());
        }
        let name = self.cookie.as_deref()?;
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|cookies| cookies.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, token)| token.trim_matches('"'))
            .filter(|token| !token.is_empty())
    }
}

/// Why a request was turned away.
#[derive(Debug)]
pub(crate) enum Rejection {
    /// No token at all: 401 with a bare challenge.
    Missing,
    /// A token that does not verify: 401 `invalid_token`.
    Invalid(Error),
    /// The verifier has no keys (Authify unreachable on first use): 503.
    Unavailable,
    /// A valid token without the scope a route needs: 403 `insufficient_scope`.
    InsufficientScope(String),
}

impl Rejection {
    pub fn status(&self) -> StatusCode {
        match self {
            Rejection::Missing | Rejection::Invalid(_) => StatusCode::UNAUTHORIZED,
            Rejection::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Rejection::InsufficientScope(_) => StatusCode::FORBIDDEN,
        }
    }

    /// The `WWW-Authenticate` value, if the status calls for one.
    pub fn challenge(&self) -> Option<HeaderValue> {
        let text = match self {
            Rejection::Missing => return Some(HeaderValue::from_static("Bearer")),
            Rejection::Invalid(error) => {
                format!(r#"Bearer error="invalid_token", error_description="{}""#, error.description())
            }
            Rejection::Unavailable => return None,
            Rejection::InsufficientScope(scope) => format!(
                r#"Bearer error="insufficient_scope", error_description="the token lacks a scope", scope="{}""#,
                scope.replace(['"', '\\'], "")
            ),
        };
        Some(HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static(r#"Bearer error="invalid_token""#)))
    }
}

/// The claims of a request's token, or why it has none.
pub(crate) async fn authenticate(
    verifier: &Verifier,
    source: &TokenSource,
    headers: &HeaderMap,
) -> Result<Claims, Rejection> {
    let token = source.token(headers).ok_or(Rejection::Missing)?;
    verifier.verify(token).await.map_err(|error| match error.is_token_error() {
        true => Rejection::Invalid(error),
        false => Rejection::Unavailable,
    })
}

/// The request's claims carry `scope`, or why not.
pub(crate) fn require(claims: Option<&Claims>, scope: &str) -> Result<(), Rejection> {
    match claims {
        None => Err(Rejection::Missing),
        Some(claims) if claims.has_scope(scope) => Ok(()),
        Some(_) => Err(Rejection::InsufficientScope(scope.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).expect("header value"));
        }
        map
    }

    #[test]
    fn the_token_comes_from_the_bearer_header_then_the_named_cookie() {
        let source = TokenSource::bearer_or_cookie("jwt");
        assert_eq!(source.token(&headers(&[("authorization", "Bearer abc")])), Some("abc"));
        assert_eq!(source.token(&headers(&[("authorization", "bearer  abc ")])), Some("abc"));
        assert_eq!(source.token(&headers(&[("authorization", "Basic abc"), ("cookie", "jwt=x")])), None);
        assert_eq!(source.token(&headers(&[("cookie", "a=1; jwt=xyz"), ("cookie", "b=2")])), Some("xyz"));
        assert_eq!(TokenSource::bearer().token(&headers(&[("cookie", "jwt=xyz")])), None);
        assert_eq!(source.token(&headers(&[])), None);
    }

    #[test]
    fn refusals_carry_rfc_6750_challenges() {
        assert_eq!(Rejection::Missing.challenge().expect("challenge"), "Bearer");
        let expired = Rejection::Invalid(Error::Expired);
        assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            expired.challenge().expect("challenge"),
            r#"Bearer error="invalid_token", error_description="token expired""#
        );
        let scope = Rejection::InsufficientScope("admin_access".into());
        assert_eq!(scope.status(), StatusCode::FORBIDDEN);
        assert!(scope.challenge().expect("challenge").to_str().expect("text").ends_with(r#"scope="admin_access""#));
        assert_eq!(Rejection::Unavailable.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
