//! Reading a request's credentials: a Bearer token, trusted-delegate headers, or the session
//! cookie. An unsafe request (POST, PATCH, DELETE, …) that only the cookie authenticates must come
//! from an allowed page: a matching `Origin`, or (from clients that send no `Origin`) an
//! `X-Requested-With` header, which a cross-site form cannot set. Otherwise 403.
//!
//! The cookie's name guards against cookie tossing: a page on a sibling subdomain can set a cookie
//! for the parent domain that the browser sends to us too. While the cookie is `Secure` it is
//! `__Host-identity`: browsers accept a `__Host-` cookie only when it is `Secure`, has `Path=/` and
//! no `Domain`, so no other host can set one. Plain-HTTP development (AUTHIFY_COOKIE_SECURE=false)
//! keeps `identity`, which such a page can set. Either way a request carrying two cookies of the
//! name in use is refused ([`Error::AmbiguousSessionCookie`], 400) rather than trusting whichever
//! the browser happened to send first; cookies of the other name are ignored.

use poem::Request;
use poem::http::HeaderMap;

use super::client::request_meta;
use crate::error::Error;
use crate::service::auth::access::{self, Caller, Credentials};
use crate::state::AppState;

/// The cookie's name while it is `Secure` (see the module documentation).
pub const SECURE_COOKIE_NAME: &str = "__Host-identity";
/// The cookie's name over plain HTTP (AUTHIFY_COOKIE_SECURE=false).
pub const PLAIN_COOKIE_NAME: &str = "identity";

/// Who is calling: the request's credentials (Bearer token, session cookie, or a delegate, on a
/// user's behalf or not), checked. No or bad credentials: [`Error::Unauthenticated`].
pub async fn caller(state: &AppState, req: &Request) -> Result<Caller, Error> {
    access::authenticate(&state.auth, &credentials(state, req)?, &request_meta(req)).await
}

/// The credentials a request carries, with the cross-site rule applied to the cookie.
pub fn credentials<'r>(state: &AppState, req: &'r Request) -> Result<Credentials<'r>, Error> {
    let headers = req.headers();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let mut credentials = Credentials {
        bearer: header("authorization").and_then(bearer_token),
        delegate_access: header("x-authify-access"),
        delegate_secret: header("x-authify-secret"),
        on_behalf_of: header("x-authify-on-behalf-of"),
        session_cookie: None,
    };
    if credentials.bearer.is_none() && credentials.delegate_access.is_none() {
        credentials.session_cookie = session_cookie(state, headers)?;
        if credentials.session_cookie.is_some() && !req.method().is_safe() {
            check_same_origin(state, headers)?;
        }
    }
    Ok(credentials)
}

/// The token of an `Authorization: Bearer <token>` header value.
pub fn bearer_token(authorization: &str) -> Option<&str> {
    authorization.strip_prefix("Bearer ").map(str::trim)
}

/// The session cookie's name under the current settings.
pub fn cookie_name(state: &AppState) -> &'static str {
    if state.settings.sessions.cookie_secure { SECURE_COOKIE_NAME } else { PLAIN_COOKIE_NAME }
}

/// The value of the session cookie, if the request has one; two or more of that name (empty ones
/// included) are [`Error::AmbiguousSessionCookie`].
pub fn session_cookie<'h>(state: &AppState, headers: &'h HeaderMap) -> Result<Option<&'h str>, Error> {
    let name = cookie_name(state);
    let mut values = headers
        .get_all("cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(candidate, _)| *candidate == name)
        .map(|(_, value)| value.trim_matches('"'));
    let first = values.next();
    if values.next().is_some() {
        return Err(Error::AmbiguousSessionCookie);
    }
    Ok(first.filter(|value| !value.is_empty()))
}

/// The cross-site rule for unsafe cookie-authenticated requests (see the module documentation).
pub fn check_same_origin(state: &AppState, headers: &HeaderMap) -> Result<(), Error> {
    match headers.get("origin").and_then(|v| v.to_str().ok()) {
        Some(origin) => {
            if state.settings.sessions.allows_origin(origin, &state.settings.public_url) {
                Ok(())
            } else {
                Err(Error::CrossSiteRequest)
            }
        }
        None if headers.contains_key("x-requested-with") => Ok(()),
        None => Err(Error::CrossSiteRequest),
    }
}

/// The `Set-Cookie` value that stores a browser session's secret.
pub fn session_cookie_header(state: &AppState, secret: &str) -> String {
    let max_age = state.settings.sessions.session_idle_seconds;
    cookie_header(state, cookie_name(state), secret, "/", i64::from(max_age))
}

/// The `Set-Cookie` value that removes the cookie.
pub fn clear_session_cookie_header(state: &AppState) -> String {
    cookie_header(state, cookie_name(state), "", "/", 0)
}

/// An HttpOnly, SameSite=Lax cookie for `path` (`Secure` unless AUTHIFY_COOKIE_SECURE=false);
/// `max_age` 0 removes it.
pub fn cookie_header(state: &AppState, name: &str, value: &str, path: &str, max_age: i64) -> String {
    format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{}", secure(state))
}

fn secure(state: &AppState) -> &'static str {
    if state.settings.sessions.cookie_secure { "; Secure" } else { "" }
}
