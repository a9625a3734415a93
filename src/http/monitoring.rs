//! Operations: Authify's `/monitoring/info` counters (admins) and Prometheus `/metrics`.
//!
//! Who may read `/metrics`: scrapers do not log in, so with `AUTHIFY_METRICS_TOKEN` set a scraper
//! sends `Authorization: Bearer <that token>`; without it, clients on the loopback interface read
//! it freely. An admin's Bearer token is accepted either way.
//!
//! "On the loopback interface" is said of the client as resolved through AUTHIFY_TRUSTED_PROXIES
//! ([`LocalClient`]), not of the socket: behind a reverse proxy on the same host every request
//! comes from 127.0.0.1, and the socket alone would open the counters to anyone the proxy serves.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Header;
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{OpenApi, Tags};
use serde_json::Value;

use super::client::LocalClient;
use super::errors::PlainError;
use crate::crypto::secret;
use crate::error::Error;
use crate::runtime::monitoring;
use crate::service::auth::access::Caller;
use crate::state::AppState;

#[derive(Tags)]
enum MonitoringTags {
    /// Counters and latency histograms for operators.
    Monitoring,
}

#[derive(Default)]
pub struct MonitoringApi;

async fn admin(state: &AppState, req: &Request) -> Result<Caller, Error> {
    let caller = super::auth::caller(state, req).await?;
    if caller.is_admin() { Ok(caller) } else { Err(Error::forbidden("Only admins read the monitoring counters")) }
}

#[OpenApi(tag = "MonitoringTags::Monitoring")]
impl MonitoringApi {
    /// Authify's counters: `rack.request.count`, `jwt.tokens.provided`,
    /// `registration.password.resets`, `audit.events.dropped`, and per route (`GET /users/:id`)
    /// the count, total and mean time in milliseconds; `keys.signing.kid` and
    /// `keys.next_step.seconds` (null: none scheduled). Admins only; counters are per instance.
    #[oai(path = "/monitoring/info", method = "get")]
    async fn info(&self, state: Data<&AppState>, req: &Request) -> Result<Json<Value>, PlainError> {
        admin(&state, req).await?;
        let mut info = state.monitor.info(state.audit.dropped());
        monitoring::add_key_status(&mut info, state.tokens().keyring.status(state.now()));
        Ok(Json(info))
    }

    /// The same counters and per-route latency histograms (`authify_http_request_duration_seconds`
    /// by route template, method and status) in Prometheus text format. Readable with
    /// `Authorization: Bearer <AUTHIFY_METRICS_TOKEN>`, by a client on loopback when no token is set
    /// (the client's address as resolved through AUTHIFY_TRUSTED_PROXIES), or by an admin.
    #[oai(path = "/metrics", method = "get")]
    async fn metrics(
        &self,
        state: Data<&AppState>,
        local: LocalClient,
        req: &Request,
        #[oai(name = "Authorization")] authorization: Header<Option<String>>,
    ) -> Result<PlainText<String>, PlainError> {
        let presented = authorization.0.as_deref().and_then(super::auth::bearer_token);
        let allowed = match (&state.settings.metrics_token, presented) {
            (Some(token), Some(presented)) => secret::secret_matches(presented, &secret::hash_secret(token)),
            (None, _) => local.0,
            (Some(_), None) => false,
        };
        if !allowed {
            admin(&state, req).await?;
        }
        let mut text = state.monitor.prometheus(state.audit.dropped());
        text.push_str(&monitoring::key_status_prometheus(state.tokens().keyring.status(state.now())));
        Ok(PlainText(text))
    }
}
