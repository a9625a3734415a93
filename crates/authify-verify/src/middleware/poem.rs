//! poem: [`AuthifyAuth`] puts a request's verified [`Claims`] in its extensions (or answers 401),
//! [`RequireScope`] answers 403 unless they grant a scope, and `Claims` is an extractor.
//!
//! ```no_run
//! use authify_verify::poem::{AuthifyAuth, require_scope};
//! use authify_verify::{Claims, Verifier};
//! use poem::{EndpointExt, Route, get, handler};
//!
//! #[handler]
//! fn me(claims: Claims) -> String {
//!     claims.subject().unwrap_or_default()
//! }
//!
//! # fn app() -> Result<(), authify_verify::Error> {
//! let verifier = Verifier::discover("https://auth.example.com").build()?;
//! let app = Route::new()
//!     .at("/me", get(me))
//!     .at("/admin", get(me).with(require_scope("admin_access")))
//!     .with(AuthifyAuth::new(verifier));
//! # Ok(()) }
//! ```

use poem::http::header::WWW_AUTHENTICATE;
use poem::{Endpoint, FromRequest, IntoResponse, Middleware, Request, RequestBody, Response, Result};

use super::{Rejection, TokenSource, authenticate, require};
use crate::{Claims, Verifier};

/// Middleware that verifies the request's token and inserts its [`Claims`] into the request's
/// extensions; a request without a valid token is answered 401 (503 while no keys can be fetched).
#[derive(Clone)]
pub struct AuthifyAuth {
    verifier: Verifier,
    source: TokenSource,
}

impl AuthifyAuth {
    /// Reads `Authorization: Bearer`; see [`AuthifyAuth::token_source`] for a cookie.
    pub fn new(verifier: Verifier) -> Self {
        Self { verifier, source: TokenSource::default() }
    }

    /// Where to read the token from.
    pub fn token_source(mut self, source: TokenSource) -> Self {
        self.source = source;
        self
    }
}

impl<E: Endpoint> Middleware<E> for AuthifyAuth {
    type Output = AuthifyAuthEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        AuthifyAuthEndpoint { inner, verifier: self.verifier.clone(), source: self.source.clone() }
    }
}

/// The endpoint [`AuthifyAuth`] wraps.
pub struct AuthifyAuthEndpoint<E> {
    inner: E,
    verifier: Verifier,
    source: TokenSource,
}

impl<E: Endpoint> Endpoint for AuthifyAuthEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        match authenticate(&self.verifier, &self.source, req.headers()).await {
            Ok(claims) => {
                req.extensions_mut().insert(claims);
                self.inner.call(req).await.map(IntoResponse::into_response)
            }
            Err(rejection) => Ok(refusal(&rejection)),
        }
    }
}

/// Middleware that answers 403 `insufficient_scope` unless the claims [`AuthifyAuth`] inserted
/// grant `scope` (401 when there are none: put it inside `AuthifyAuth`).
#[derive(Debug, Clone)]
pub struct RequireScope {
    scope: String,
}

/// [`RequireScope`] for `scope`, e.g. `require_scope("admin_access")`.
pub fn require_scope(scope: impl Into<String>) -> RequireScope {
    RequireScope { scope: scope.into() }
}

impl<E: Endpoint> Middleware<E> for RequireScope {
    type Output = RequireScopeEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        RequireScopeEndpoint { inner, scope: self.scope.clone() }
    }
}

/// The endpoint [`RequireScope`] wraps.
pub struct RequireScopeEndpoint<E> {
    inner: E,
    scope: String,
}

impl<E: Endpoint> Endpoint for RequireScopeEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        match require(req.extensions().get::<Claims>(), &self.scope) {
            Ok(()) => self.inner.call(req).await.map(IntoResponse::into_response),
            Err(rejection) => Ok(refusal(&rejection)),
        }
    }
}

/// The claims [`AuthifyAuth`] verified; 401 on a route it does not cover. Use
/// `poem::web::Data<&Claims>` to borrow them instead of cloning.
impl<'a> FromRequest<'a> for Claims {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> Result<Self> {
        match req.extensions().get::<Claims>() {
            Some(claims) => Ok(claims.clone()),
            None => Err(poem::Error::from_response(refusal(&Rejection::Missing))),
        }
    }
}

fn refusal(rejection: &Rejection) -> Response {
    let mut response = Response::builder().status(rejection.status()).finish();
    if let Some(challenge) = rejection.challenge() {
        response.headers_mut().insert(WWW_AUTHENTICATE, challenge);
    }
    response
}
