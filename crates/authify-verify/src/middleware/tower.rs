//! tower (axum): [`AuthifyLayer`] puts a request's verified [`Claims`] in its extensions (or
//! answers 401), [`RequireScopeLayer`] answers 403 unless they grant a scope. In axum, read them
//! with `Extension<Claims>`.
//!
//! ```no_run
//! use authify_verify::tower::{AuthifyLayer, RequireScopeLayer};
//! use authify_verify::{Claims, Verifier};
//! use axum::{Extension, Router, routing::get};
//!
//! async fn me(Extension(claims): Extension<Claims>) -> String {
//!     claims.subject().unwrap_or_default()
//! }
//!
//! # fn app() -> Result<(), authify_verify::Error> {
//! let verifier = Verifier::discover("https://auth.example.com").build()?;
//! let app: Router = Router::new()
//!     .route("/admin", get(me).layer(RequireScopeLayer::new("admin_access")))
//!     .route("/me", get(me))
//!     .layer(AuthifyLayer::new(verifier));
//! # Ok(()) }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::header::WWW_AUTHENTICATE;
use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use super::{Rejection, TokenSource, authenticate, require};
use crate::{Claims, Verifier};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A layer that verifies each request's token and inserts its [`Claims`] into the request's
/// extensions; a request without a valid token is answered 401 (503 while no keys can be fetched)
/// with an empty body.
#[derive(Clone)]
pub struct AuthifyLayer {
    verifier: Verifier,
    source: TokenSource,
}

impl AuthifyLayer {
    /// Reads `Authorization: Bearer`; see [`AuthifyLayer::token_source`] for a cookie.
    pub fn new(verifier: Verifier) -> Self {
        Self { verifier, source: TokenSource::default() }
    }

    /// Where to read the token from.
    pub fn token_source(mut self, source: TokenSource) -> Self {
        self.source = source;
        self
    }
}

impl<S> Layer<S> for AuthifyLayer {
    type Service = AuthifyService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthifyService { inner, verifier: self.verifier.clone(), source: self.source.clone() }
    }
}

/// The service [`AuthifyLayer`] wraps.
#[derive(Clone)]
pub struct AuthifyService<S> {
    inner: S,
    verifier: Verifier,
    source: TokenSource,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for AuthifyService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    ReqBody: Send + 'static,
    ResBody: Default,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        // The clone that was polled ready serves this request (tower's usual swap).
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        let (verifier, source) = (self.verifier.clone(), self.source.clone());
        Box::pin(async move {
            match authenticate(&verifier, &source, req.headers()).await {
                Ok(claims) => {
                    req.extensions_mut().insert(claims);
                    inner.call(req).await
                }
                Err(rejection) => Ok(refusal(&rejection)),
            }
        })
    }
}

/// A layer that answers 403 `insufficient_scope` unless the claims [`AuthifyLayer`] inserted grant
/// a scope (401 when there are none: put it inside `AuthifyLayer`).
#[derive(Debug, Clone)]
pub struct RequireScopeLayer {
    scope: String,
}

impl RequireScopeLayer {
    /// Requires `scope`, e.g. `RequireScopeLayer::new("admin_access")`.
    pub fn new(scope: impl Into<String>) -> Self {
        Self { scope: scope.into() }
    }
}

impl<S> Layer<S> for RequireScopeLayer {
    type Service = RequireScopeService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireScopeService { inner, scope: self.scope.clone() }
    }
}

/// The service [`RequireScopeLayer`] wraps.
#[derive(Debug, Clone)]
pub struct RequireScopeService<S> {
    inner: S,
    scope: String,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RequireScopeService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: Default + Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        match require(req.extensions().get::<Claims>(), &self.scope) {
            Ok(()) => Box::pin(self.inner.call(req)),
            Err(rejection) => {
                let response = refusal(&rejection);
                Box::pin(async move { Ok(response) })
            }
        }
    }
}

fn refusal<B: Default>(rejection: &Rejection) -> Response<B> {
    let mut response = Response::new(B::default());
    *response.status_mut() = rejection.status();
    if let Some(challenge) = rejection.challenge() {
        response.headers_mut().insert(WWW_AUTHENTICATE, challenge);
    }
    response
}
