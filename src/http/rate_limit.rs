//! The per-client-IP rate limit, as middleware around every route: requests to the paths in
//! AUTHIFY_RATE_LIMIT_PATHS count against the client's address, and over the limit answer 429 with
//! `Retry-After` before any handler (and so any password hashing) runs. Routes added later are
//! covered by naming them in the setting.
//!
//! The client's address is the socket's, or, when the socket peer is one of
//! AUTHIFY_TRUSTED_PROXIES, the right-most `X-Forwarded-For` hop that is not a trusted proxy. It is
//! left in the request as [`ClientIp`] for handlers (the per-account limit, the audit trail), with
//! [`LocalClient`]: whether that client is on this host (what `/metrics` asks).

use std::net::IpAddr;

use ipnet::IpNet;
use poem::http::{HeaderMap, Method};
use poem::{Endpoint, FromRequest, IntoResponse, Middleware, Request, RequestBody, Response};

use super::errors::too_many_requests;
use crate::runtime::rate_limit::Limit;
use crate::state::AppState;

/// The client's address as this service believes it (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

impl<'a> FromRequest<'a> for ClientIp {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        Ok(req.extensions().get::<ClientIp>().copied().unwrap_or_else(|| ClientIp(socket_ip(req))))
    }
}

/// Whether the client is on this host: its resolved address (see [`ClientIp`]) is a loopback one,
/// and, when trusted proxies forwarded the request, they named that address. A hop they forwarded
/// that does not parse (`unknown`, an address with a port) leaves only a proxy's own address,
/// which says nothing about the client behind it: not local.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalClient(pub bool);

impl<'a> FromRequest<'a> for LocalClient {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let fallback = || LocalClient(socket_ip(req).is_some_and(|ip| ip.is_loopback()));
        Ok(req.extensions().get::<LocalClient>().copied().unwrap_or_else(fallback))
    }
}

/// The middleware; see the module documentation.
pub struct RateLimit {
    state: AppState,
    paths: Vec<String>,
    proxies: Vec<IpNet>,
}

impl RateLimit {
    pub fn new(state: AppState) -> Self {
        let paths = state.settings.rate_limit_paths.paths().to_vec();
        let proxies = state.settings.trusted_proxies.nets().to_vec();
        Self { state, paths, proxies }
    }
}

impl<E: Endpoint> Middleware<E> for RateLimit {
    type Output = RateLimitEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        RateLimitEndpoint { inner, state: self.state.clone(), paths: self.paths.clone(), proxies: self.proxies.clone() }
    }
}

pub struct RateLimitEndpoint<E> {
    inner: E,
    state: AppState,
    paths: Vec<String>,
    proxies: Vec<IpNet>,
}

impl<E: Endpoint> Endpoint for RateLimitEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Self::Output> {
        let (ip, named) = resolve(socket_ip(&req), req.headers(), &self.proxies);
        req.extensions_mut().insert(ClientIp(ip));
        req.extensions_mut().insert(LocalClient(named && ip.is_some_and(|ip| ip.is_loopback())));
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

pub(super) fn socket_ip(req: &Request) -> Option<IpAddr> {
    req.remote_addr().as_socket_addr().map(|a| a.ip().to_canonical())
}

/// `/registration/*` matches `/registration/signup`; anything else matches exactly.
fn path_matches(pattern: &str, path: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => path.starts_with(prefix),
        None => path == pattern || path.strip_suffix('/') == Some(pattern),
    }
}

/// The socket peer, unless it is a trusted proxy: then the right-most `X-Forwarded-For` hop that
/// is not one (a hop that does not parse ends the walk at the last trusted address).
pub(super) fn client_ip(socket: Option<IpAddr>, headers: &HeaderMap, proxies: &[IpNet]) -> Option<IpAddr> {
    resolve(socket, headers, proxies).0
}

/// The client's address as [`ClientIp`] describes it, and whether it was named: false when the
/// walk ended at a trusted proxy's address because the hop before it did not parse.
fn resolve(socket: Option<IpAddr>, headers: &HeaderMap, proxies: &[IpNet]) -> (Option<IpAddr>, bool) {
    let trusted = |ip: &IpAddr| proxies.iter().any(|net| net.contains(ip));
    let Some(mut client) = socket else { return (None, true) };
    if !trusted(&client) {
        return (Some(client), true);
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else { return (Some(client), false) };
        client = ip.to_canonical();
        if !trusted(&client) {
            break;
        }
    }
    (Some(client), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", xff.parse().expect("header"));
        headers
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxies: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        let proxy: IpAddr = "10.1.2.3".parse().expect("ip");
        let stranger: IpAddr = "192.0.2.9".parse().expect("ip");
        let xff = headers("203.0.113.5, 198.51.100.7, 10.0.0.2");
        assert_eq!(client_ip(Some(proxy), &xff, &proxies), "198.51.100.7".parse().ok());
        assert_eq!(client_ip(Some(stranger), &xff, &proxies), Some(stranger));
        assert_eq!(client_ip(Some(proxy), &HeaderMap::new(), &proxies), Some(proxy));
        assert_eq!(client_ip(Some(proxy), &headers("junk, 10.0.0.2"), &proxies), "10.0.0.2".parse().ok());
    }

    #[test]
    fn only_an_address_the_proxies_name_is_a_named_client() {
        let proxies: Vec<IpNet> = vec!["127.0.0.1/32".parse().expect("net")];
        let local: IpAddr = "127.0.0.1".parse().expect("ip");
        assert_eq!(resolve(Some(local), &HeaderMap::new(), &proxies), (Some(local), true), "not forwarded");
        assert_eq!(resolve(Some(local), &headers("::1"), &proxies), ("::1".parse().ok(), true));
        for unreadable in ["203.0.113.9:4711", "unknown", "203.0.113.9, unknown"] {
            assert_eq!(resolve(Some(local), &headers(unreadable), &proxies), (Some(local), false), "{unreadable}");
        }
        let stranger: IpAddr = "192.0.2.9".parse().expect("ip");
        assert_eq!(resolve(Some(stranger), &headers("junk"), &proxies), (Some(stranger), true), "not believed");
    }

    #[test]
    fn star_patterns_match_prefixes() {
        assert!(path_matches("/registration/*", "/registration/signup"));
        assert!(path_matches("/jwt/token", "/jwt/token"));
        assert!(!path_matches("/jwt/token", "/jwt/tokens"));
    }
}
