//! Serving connections: hyper's HTTP/1.1 and HTTP/2 under the limits a slow or hostile client
//! meets (AUTHIFY_HTTP_* settings, docs/limits.md). A request head must arrive within the header
//! timeout, which also closes a keep-alive connection left idle that long; a body within the body
//! timeout (408); a head larger than the header limit is refused with 431; past the connection
//! limit a new connection is closed at once. On shutdown, listening stops and the connections
//! still open get the grace period to finish what they are doing.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use poem::endpoint::BoxEndpoint;
use poem::error::ReadBodyError;
use poem::http::StatusCode;
use poem::http::uri::Scheme;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Addr, Endpoint, EndpointExt, IntoResponse, Response};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::errors::json_error;
use crate::runtime::throttled_log::ThrottledLog;

/// No route takes a body larger than this (the JSON and {json:api} routes stop at 64 KiB with their
/// own error); a larger one is refused here, before it is read into memory.
pub const MAX_REQUEST_BODY_BYTES: usize = 1024 * 1024;

/// The limits each connection is held to.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub max_connections: usize,
    pub max_header_bytes: usize,
}

/// Serves `endpoint` on `listener` until `shutdown` completes, then lets open connections finish
/// for at most `grace`.
pub async fn serve(
    listener: TcpListener,
    endpoint: BoxEndpoint<'static, Response>,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> std::io::Result<()> {
    let endpoint: Arc<BoxEndpoint<'static, Response>> = Arc::new(with_body_deadline(endpoint, limits.body_timeout));
    let local = listener.local_addr()?;
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192));
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (accept_failures, over_limit) = (ThrottledLog::new(), ThrottledLog::new());
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    accept_failures.warn(&format!("cannot accept a connection: {err}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            over_limit.warn("connection limit reached (AUTHIFY_HTTP_MAX_CONNECTIONS): closing new connections");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let endpoint = endpoint.clone();
        let service = hyper::service::service_fn(move |request| {
            let endpoint = endpoint.clone();
            async move {
                let addresses =
                    (LocalAddr(Addr::SocketAddr(local)), RemoteAddr(Addr::SocketAddr(remote)), Scheme::HTTP);
                let request = poem::Request::from((request, addresses.0, addresses.1, addresses.2));
                let response = endpoint.get_response(request).await;
                Ok::<_, Infallible>(hyper::Response::from(response))
            }
        });
        let builder = builder.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            // hyper's header timeout starts once the first bytes are in (the version sniffing of
            // the auto builder waits for them without a deadline): an idle new connection gets
            // the same deadline here.
            let mut first = [0u8; 1];
            if matches!(tokio::time::timeout(limits.header_timeout, stream.peek(&mut first)).await, Ok(Ok(1..))) {
                let _ = watcher.watch(builder.serve_connection(TokioIo::new(stream), service).into_owned()).await;
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(grace, graceful.shutdown()).await.is_err() {
        tracing::warn!("connections still open after the shutdown grace period were closed");
    }
    Ok(())
}

/// Reads each request body before the route runs, within `timeout` and [`MAX_REQUEST_BODY_BYTES`]:
/// a client that dribbles its body gets 408 and its connection closed instead of holding a task.
fn with_body_deadline(endpoint: BoxEndpoint<'static, Response>, timeout: Duration) -> BoxEndpoint<'static, Response> {
    endpoint
        .around(move |endpoint, mut request| async move {
            let body = request.take_body();
            match tokio::time::timeout(timeout, read_limited(body, MAX_REQUEST_BODY_BYTES)).await {
                Ok(Ok(bytes)) => {
                    request.set_body(bytes);
                    Ok(endpoint.call(request).await?.into_response())
                }
                Ok(Err(ReadBodyError::PayloadTooLarge)) => Ok(json_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("Request body must be at most {MAX_REQUEST_BODY_BYTES} bytes"),
                )),
                Ok(Err(err)) => Ok(json_error(StatusCode::BAD_REQUEST, format!("Cannot read the request body: {err}"))),
                Err(_) => {
                    let mut response =
                        json_error(StatusCode::REQUEST_TIMEOUT, "The request body did not arrive in time");
                    response.headers_mut().insert("connection", poem::http::HeaderValue::from_static("close"));
                    Ok(response)
                }
            }
        })
        .boxed()
}

/// The whole body, at most `limit` bytes: its frames are collected as they are (a body that came
/// in one frame is not copied), where poem's `into_bytes_limit` copies through a zeroed buffer.
pub async fn read_limited(body: poem::Body, limit: usize) -> Result<bytes::Bytes, ReadBodyError> {
    use http_body_util::{BodyExt, LengthLimitError, Limited};
    let body: http_body_util::combinators::BoxBody<bytes::Bytes, std::io::Error> = body.into();
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<LengthLimitError>() => Err(ReadBodyError::PayloadTooLarge),
        Err(err) => Err(ReadBodyError::Io(std::io::Error::other(err))),
    }
}
