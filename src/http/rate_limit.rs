//! The per-client-IP rate limit, as middleware around every route: requests to the paths in
//! AUTHIFY_RATE_LIMIT_PATHS count against the client's address, and over the limit answer 429 with
//! `Retry-After` before any handler (and so any password hashing) runs. Routes added later are
//! covered by naming them in the setting.
//!
//! The client's address is the one `http::client` resolved (through AUTHIFY_TRUSTED_PROXIES) and
//! left in the request's [`RequestMeta`].

use poem::http::Method;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

use super::errors::too_many_requests;
use crate::runtime::rate_limit::Limit;
use crate::runtime::request_context::RequestMeta;
use crate::state::AppState;

/// The middleware; see the module documentation.
pub struct RateLimit {
    state: AppState,
    paths: Vec<String>,
}

impl RateLimit {
    pub fn new(state: AppState) -> Self {
        let paths = state.settings.rate_limit_paths.paths().to_vec();
        Self { state, paths }
    }
}

impl<E: Endpoint> Middleware<E> for RateLimit {
    type Output = RateLimitEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        RateLimitEndpoint { inner, state: self.state.clone(), paths: self.paths.clone() }
    }
}

pub struct RateLimitEndpoint<E> {
    inner: E,
    state: AppState,
    paths: Vec<String>,
}

impl<E: Endpoint> Endpoint for RateLimitEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Self::Output> {
        let ip = req.extensions().get::<RequestMeta>().and_then(|meta| meta.client_ip);
        if req.method() != Method::OPTIONS && self.paths.iter().any(|p| path_matches(p, req.uri().path())) {
            let settings = &self.state.settings;
            let limit = Limit { limit: settings.rate_limit_per_ip, window: settings.rate_limit_window };
            let key = format!("ip:{}", ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string()));
            if let Err(err) = self.state.limiter.hit(&key, limit, self.state.now()).await {
                return Ok(too_many_requests(&err));
            }
        }
        Ok(self.inner.call(req).await?.into_response())
    }
}

/// `/registration/*` matches `/registration/signup`; anything else matches exactly.
fn path_matches(pattern: &str, path: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => path.starts_with(prefix),
        None => path == pattern || path.strip_suffix('/') == Some(pattern),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_patterns_match_prefixes() {
        assert!(path_matches("/registration/*", "/registration/signup"));
        assert!(path_matches("/jwt/token", "/jwt/token"));
        assert!(!path_matches("/jwt/token", "/jwt/tokens"));
    }
}
