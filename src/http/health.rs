//! Liveness and readiness for load balancers and orchestrators.

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use crate::runtime::throttled_log::ThrottledLog;
use crate::state::AppState;

/// A load balancer asks every few seconds: one line a minute while the database is down.
static READINESS_FAILURES: ThrottledLog = ThrottledLog::new();

#[derive(Tags)]
enum HealthTags {
    /// Probes for load balancers and orchestrators.
    Health,
}

#[derive(Object)]
struct HealthStatus {
    /// `ok`, or `unavailable` when a dependency does not answer.
    status: String,
    /// Readiness only: `ok`, or why the database is not usable.
    #[oai(skip_serializing_if_is_none)]
    database: Option<String>,
}

#[derive(ApiResponse)]
enum ReadinessResponse {
    /// Ready to serve: the database answers.
    #[oai(status = 200)]
    Ready(Json<HealthStatus>),
    /// Not ready: the database does not answer.
    #[oai(status = 503)]
    Unavailable(Json<HealthStatus>),
}

#[derive(Default)]
pub struct HealthApi;

#[OpenApi(tag = "HealthTags::Health")]
impl HealthApi {
    /// Liveness: the process serves requests (touches nothing else).
    #[oai(path = "/health", method = "get")]
    async fn live(&self) -> Json<HealthStatus> {
        Json(HealthStatus { status: "ok".into(), database: None })
    }

    /// Readiness: the database answers a ping.
    #[oai(path = "/health/ready", method = "get")]
    async fn ready(&self, state: Data<&AppState>) -> ReadinessResponse {
        match state.store.ping().await {
            Ok(()) => ReadinessResponse::Ready(Json(HealthStatus { status: "ok".into(), database: Some("ok".into()) })),
            Err(err) => {
                READINESS_FAILURES.warn(&format!("readiness check failed: {err}"));
                ReadinessResponse::Unavailable(Json(HealthStatus {
                    status: "unavailable".into(),
                    database: Some("the database does not answer".into()),
                }))
            }
        }
    }
}
