//! Who sent the request being served: its id and the client's address. The HTTP layer sets them
//! for the whole handling of a request (a tokio task-local), so services deep down (the audit
//! trail) read them without every signature carrying them. Work spawned onto other tasks does not
//! inherit them, except through [`run_to_completion`]: the way to run a use case that must not stop
//! half-way when its client goes away (a lockout reservation, a password and the sessions it ends).

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;

use crate::error::Error;

/// The request being served.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// Echoed in `X-Request-Id` and stored with audit events.
    pub request_id: Arc<str>,
    pub client_ip: Option<IpAddr>,
}

tokio::task_local! {
    static CURRENT: RequestContext;
}

/// Runs `future` with `context` as the current request. A plain function, not an `async fn`: an
/// `async fn` would keep the argument `future` beside the task-local future it is moved into, and
/// every request's boxed future would carry the endpoint chain's future twice.
pub fn scope<F: Future>(context: RequestContext, future: F) -> impl Future<Output = F::Output> {
    CURRENT.scope(context, future)
}

/// The current request's client address as text, for rows that record it.
pub fn client_ip_text() -> Option<String> {
    current().and_then(|c| c.client_ip).map(|ip| ip.to_string())
}

/// The current request, when called while serving one.
pub fn current() -> Option<RequestContext> {
    CURRENT.try_with(Clone::clone).ok()
}

/// Runs `work` in a task of its own, in the current request's context, and waits for it:
/// dropping the caller (a client that went away) does not stop it, so whatever `work` reserves it
/// also settles, and audits.
pub async fn run_to_completion<T: Send + 'static>(
    work: impl Future<Output = Result<T, Error>> + Send + 'static,
) -> Result<T, Error> {
    let task = match current() {
        Some(context) => tokio::spawn(scope(context, work)),
        None => tokio::spawn(work),
    };
    task.await.map_err(Error::internal)?
}
