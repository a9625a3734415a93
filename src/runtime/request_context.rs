//! Who sent the request being served: its id and the client's address. The HTTP layer makes one
//! per request (`http::observe`) and hands it to the use cases that record it (the audit trail, a
//! session's row, the per-client limits) as an argument: nothing here is ambient.

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;

use crate::error::Error;

/// The request being served.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    /// Echoed in `X-Request-Id` and stored with audit events; empty outside a request.
    pub request_id: Arc<str>,
    /// The client's address, as resolved through AUTHIFY_TRUSTED_PROXIES.
    pub client_ip: Option<IpAddr>,
}

impl RequestMeta {
    pub fn new(request_id: impl Into<Arc<str>>, client_ip: Option<IpAddr>) -> Self {
        Self { request_id: request_id.into(), client_ip }
    }

    /// The client's address as text, for rows that record it.
    pub fn client_ip_text(&self) -> Option<String> {
        self.client_ip.map(|ip| ip.to_string())
    }

    /// The request id, when there is a request.
    pub fn request_id(&self) -> Option<&str> {
        (!self.request_id.is_empty()).then_some(&*self.request_id)
    }
}

/// Runs `work` in a task of its own and waits for it: dropping the caller (a client that went
/// away) does not stop it, so whatever `work` reserves it also settles, and audits. The way to
/// run a use case that must not stop half-way (a lockout reservation, a password and the sessions
/// it ends).
pub async fn run_to_completion<T: Send + 'static>(
    work: impl Future<Output = Result<T, Error>> + Send + 'static,
) -> Result<T, Error> {
    tokio::spawn(work).await.map_err(Error::internal)?
}
