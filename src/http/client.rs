//! Who the client is: the socket's address, or, when the socket peer is one of
//! AUTHIFY_TRUSTED_PROXIES, the right-most `X-Forwarded-For` hop that is not a trusted proxy.
//! `http::observe` resolves it once per request and leaves it in the request as [`RequestMeta`]
//! (with the request id) for the rate limit and the handlers, and as [`LocalClient`]: whether that
//! client is on this host (what `/metrics` asks).

use std::net::IpAddr;

use ipnet::IpNet;
use poem::http::HeaderMap;
use poem::{FromRequest, Request, RequestBody};

use crate::runtime::request_context::RequestMeta;

/// The request's id and client address, as `http::observe` left them in the request.
pub fn request_meta(req: &Request) -> RequestMeta {
    req.extensions().get::<RequestMeta>().cloned().unwrap_or_else(|| RequestMeta::new("", socket_ip(req)))
}

/// The request's id and client address (see the module documentation), for handlers to pass to
/// the use cases that record them.
impl<'a> FromRequest<'a> for RequestMeta {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        Ok(request_meta(req))
    }
}

/// Whether the client is on this host: its resolved address (see [`RequestMeta`]) is a loopback one,
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

pub fn socket_ip(req: &Request) -> Option<IpAddr> {
    req.remote_addr().as_socket_addr().map(|a| a.ip().to_canonical())
}

/// The socket peer, unless it is a trusted proxy: then the right-most `X-Forwarded-For` hop that
/// is not one (a hop that does not parse ends the walk at the last trusted address).
/// The value of the cookie `name`, when the request carries one.
pub fn cookie_value<'r>(req: &'r Request, name: &str) -> Option<&'r str> {
    req.headers()
        .get_all("cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(candidate, _)| *candidate == name)
        .map(|(_, value)| value)
}

#[cfg(test)]
fn client_ip(socket: Option<IpAddr>, headers: &HeaderMap, proxies: &[IpNet]) -> Option<IpAddr> {
    resolve(socket, headers, proxies).0
}

/// The client's address as [`RequestMeta`] describes it, and whether it was named: false when the
/// walk ended at a trusted proxy's address because the hop before it did not parse.
pub fn resolve(socket: Option<IpAddr>, headers: &HeaderMap, proxies: &[IpNet]) -> (Option<IpAddr>, bool) {
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
}
