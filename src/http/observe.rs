//! Every request: an id (a well-formed incoming `X-Request-Id`, else a new one) echoed in the
//! response, the client's address resolved once (`http::client`), both left in the request as a
//! [`RequestMeta`] that handlers pass to the use cases, and its count and latency by route template
//! (see `runtime::monitoring`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use ipnet::IpNet;
use poem::PathPattern;
use poem::http::HeaderValue;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use tracing::Instrument;

use super::client::{LocalClient, resolve, socket_ip};
use super::errors::poem_error_to_json;
use crate::crypto::secret::random_hex;
use crate::runtime::monitoring::Monitor;
use crate::runtime::request_context::RequestMeta;

pub const REQUEST_ID: &str = "x-request-id";
/// Longest incoming request id that is honoured.
pub const MAX_REQUEST_ID: usize = 64;

/// An incoming id is kept when it is 1 to 64 visible, unambiguous characters.
fn well_formed(id: &str) -> bool {
    (1..=MAX_REQUEST_ID).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Makes request ids: a random prefix per process and a counter, so ids are unique across
/// instances and cost no system call.
struct IdSource {
    prefix: String,
    next: AtomicU64,
}

impl IdSource {
    fn next(&self) -> String {
        format!("{}-{:x}", self.prefix, self.next.fetch_add(1, Ordering::Relaxed))
    }
}

#[derive(Clone)]
pub struct Observe {
    monitor: Arc<Monitor>,
    ids: Arc<IdSource>,
    /// AUTHIFY_TRUSTED_PROXIES, so the audit trail records the same client address the rate
    /// limiter counts.
    proxies: Arc<[IpNet]>,
}

impl Observe {
    pub fn new(monitor: Arc<Monitor>, proxies: Vec<IpNet>) -> Self {
        let ids = Arc::new(IdSource { prefix: random_hex(6), next: AtomicU64::new(1) });
        Self { monitor, ids, proxies: proxies.into() }
    }
}

impl<E: Endpoint> Middleware<E> for Observe {
    type Output = ObserveEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        ObserveEndpoint { inner, observe: self.clone() }
    }
}

pub struct ObserveEndpoint<E> {
    inner: E,
    observe: Observe,
}

impl<E: Endpoint> Endpoint for ObserveEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        let started = Instant::now();
        let request_id = match req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()) {
            Some(id) if well_formed(id) => id.to_owned(),
            _ => self.observe.ids.next(),
        };
        let method = req.method().clone();
        let (client_ip, named) = resolve(socket_ip(&req), req.headers(), &self.observe.proxies);
        req.extensions_mut().insert(RequestMeta::new(request_id.as_str(), client_ip));
        req.extensions_mut().insert(LocalClient(named && client_ip.is_some_and(|ip| ip.is_loopback())));
        let span = tracing::info_span!("request", request_id = %request_id, method = %method, path = %req.uri().path());
        let result = self.inner.call(req).instrument(span).await;
        let mut response = match result {
            Ok(output) => output.into_response(),
            Err(err) => err.into_response(),
        };
        let template = response.data::<PathPattern>().map(|p| p.0.clone());
        self.observe.monitor.observe(template.as_deref(), &method, response.status().as_u16(), started.elapsed());
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert(REQUEST_ID, value);
        }
        Ok(response)
    }
}

/// Turns poem's own errors into Authify's JSON responses right where the router answers, keeping
/// the matched route template on the response for [`Observe`].
pub struct KeepRoute<E>(pub E);

impl<E: Endpoint> Endpoint for KeepRoute<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        match self.0.call(req).await {
            Ok(output) => Ok(output.into_response()),
            Err(err) => {
                let pattern = err.data::<PathPattern>().cloned();
                let mut response = poem_error_to_json(err).await;
                if let Some(pattern) = pattern {
                    response.set_data(pattern);
                }
                Ok(response)
            }
        }
    }
}
