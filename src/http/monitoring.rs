//! Operations: Authify's `/monitoring/info` counters (admins) and Prometheus `/metrics`.
//!
//! Who may read `/metrics`: scrapers do not log in, so with `AUTHIFY_METRICS_TOKEN` set a scraper
//! sends `Authorization: Bearer <that token>`; without it, clients on the loopback interface read
//! it freely. An admin's Bearer token is accepted either way.

use poem::web::{Data, RemoteAddr};
use poem_openapi::param::Header;
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{OpenApi, Tags};
use serde_json::Value;

use super::errors::PlainError;
use crate::crypto::secret;
use crate::error::Error;
use crate::service::access::{self, Caller, Credentials};
use crate::state::AppState;

#[derive(Tags)]
enum MonitoringTags {
    /// Counters and latency histograms for operators.
    Monitoring,
}

pub struct MonitoringApi;

fn bearer(authorization: &Option<String>) -> Option<&str> {
    authorization.as_deref().and_then(|v| v.strip_prefix("Bearer ")).map(str::trim)
}

async fn admin(state: &AppState, headers: &CredentialHeaders) -> Result<Caller, Error> {
    let credentials = Credentials {
        bearer: bearer(&headers.authorization),
        delegate_access: headers.access.as_deref(),
        delegate_secret: headers.secret.as_deref(),
        on_behalf_of: headers.on_behalf_of.as_deref(),
    };
    let caller = access::authenticate(state, &credentials).await?;
    if caller.is_admin() { Ok(caller) } else { Err(Error::forbidden("Only admins read the monitoring counters")) }
}

struct CredentialHeaders {
    authorization: Option<String>,
    access: Option<String>,
    secret: Option<String>,
    on_behalf_of: Option<String>,
}

#[OpenApi(tag = "MonitoringTags::Monitoring")]
impl MonitoringApi {
    /// Authify's counters: `rack.request.count`, `jwt.tokens.provided`,
    /// `registration.password.resets`, `audit.events.dropped`, and per route (`GET /users/:id`)
    /// the count, total and mean time in milliseconds. Admins only; counters are per instance.
    #[oai(path = "/monitoring/info", method = "get")]
    async fn info(
        &self,
        state: Data<&AppState>,
        #[oai(name = "Authorization")] authorization: Header<Option<String>>,
        #[oai(name = "X-Authify-Access")] access: Header<Option<String>>,
        #[oai(name = "X-Authify-Secret")] secret: Header<Option<String>>,
        #[oai(name = "X-Authify-On-Behalf-Of")] on_behalf_of: Header<Option<String>>,
    ) -> Result<Json<Value>, PlainError> {
        let headers = CredentialHeaders {
            authorization: authorization.0,
            access: access.0,
            secret: secret.0,
            on_behalf_of: on_behalf_of.0,
        };
        admin(&state, &headers).await?;
        Ok(Json(state.monitor.info(state.audit.dropped())))
    }

    /// The same counters and per-route latency histograms (`authify_http_request_duration_seconds`
    /// by route template, method and status) in Prometheus text format. Readable with
    /// `Authorization: Bearer <AUTHIFY_METRICS_TOKEN>`, from loopback when no token is set, or by
    /// an admin.
    #[oai(path = "/metrics", method = "get")]
    async fn metrics(
        &self,
        state: Data<&AppState>,
        remote_addr: &RemoteAddr,
        #[oai(name = "Authorization")] authorization: Header<Option<String>>,
    ) -> Result<PlainText<String>, PlainError> {
        let presented = bearer(&authorization.0);
        let allowed = match (&state.settings.metrics_token, presented) {
            (Some(token), Some(presented)) => secret::secret_matches(presented, &secret::hash_secret(token)),
            (None, _) => remote_addr.as_socket_addr().is_some_and(|a| a.ip().is_loopback()),
            (Some(_), None) => false,
        };
        if !allowed {
            let headers =
                CredentialHeaders { authorization: authorization.0, access: None, secret: None, on_behalf_of: None };
            admin(&state, &headers).await?;
        }
        Ok(PlainText(state.monitor.prometheus(state.audit.dropped())))
    }
}
