//! Operations counters: Authify's `/monitoring/info` numbers and the Prometheus `/metrics` text.
//!
//! Everything on the request path is an atomic add: routes live in a table fixed at start-up
//! (one slot per route template, so `/users/17` and `/users/18` share `/users/:id`, and paths no
//! route matches share one slot), and each slot's Prometheus histograms are registered once, on
//! first use. The counters are per process: each instance is scraped on its own.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use metrics::{Counter, Histogram, Key, Label, Metadata, Recorder};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusRecorder};
use poem::http::Method;
use serde_json::{Map, Value, json};

/// The label of requests that matched no route.
pub const UNMATCHED: &str = "unmatched";
const LATENCY: &str = "authify_http_request_duration_seconds";
const REQUESTS: &str = "authify_requests_total";
const TOKENS: &str = "authify_jwt_tokens_provided_total";
const RESETS: &str = "authify_registration_password_resets_total";
const AUDIT_DROPPED: &str = "authify_audit_events_dropped_total";
const OAUTH_TOKENS: &str = "authify_oauth_tokens_total";
/// The grants of `/oauth2/token`, each with a counter of its own.
const GRANTS: [&str; 3] = ["authorization_code", "refresh_token", "client_credentials"];
const BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
const METHODS: &[Method] =
    &[Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE, Method::HEAD, Method::OPTIONS];
/// Status codes with a label of their own; any other is labelled `other`.
const STATUSES: &[u16] =
    &[200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 429, 500, 503];
const METADATA: Metadata<'static> = Metadata::new("authify", metrics::Level::INFO, None);

/// Counts and time of one method on one route.
struct MethodStats {
    count: AtomicU64,
    micros: AtomicU64,
    /// One per entry of `STATUSES`, then `other`.
    latency: Vec<OnceLock<Histogram>>,
}

struct RouteSlot {
    template: String,
    /// One per entry of `METHODS`, then `other`.
    methods: Vec<MethodStats>,
}

/// The counters of one process.
pub struct Monitor {
    requests: AtomicU64,
    tokens_provided: AtomicU64,
    password_resets: AtomicU64,
    /// Sorted by template; the last slot is [`UNMATCHED`].
    routes: Vec<RouteSlot>,
    recorder: PrometheusRecorder,
    exported: [Counter; 4],
    /// Tokens answered by `/oauth2/token`, one per entry of `GRANTS`.
    oauth_grants: [Counter; 3],
}

impl Monitor {
    /// A monitor for these route templates (poem's `/users/:id` or OpenAPI's `/users/{id}`).
    pub fn new(templates: impl IntoIterator<Item = String>) -> Arc<Self> {
        let mut names: Vec<String> = templates.into_iter().map(|t| canonical(&t)).collect();
        names.sort();
        names.dedup();
        names.push(UNMATCHED.to_owned());
        let routes = names.into_iter().map(|template| RouteSlot { template, methods: method_stats() }).collect();
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(LATENCY.to_owned()), BUCKETS)
            .map(PrometheusBuilder::build_recorder)
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        recorder.describe_histogram(
            LATENCY.into(),
            Some(metrics::Unit::Seconds),
            "Request latency by route template, method and status".into(),
        );
        let counter = |name: &'static str| recorder.register_counter(&Key::from_static_name(name), &METADATA);
        let exported = [counter(REQUESTS), counter(TOKENS), counter(RESETS), counter(AUDIT_DROPPED)];
        let oauth_grants = GRANTS.map(|grant| {
            let key = Key::from_parts(OAUTH_TOKENS, vec![Label::new("grant_type", grant)]);
            recorder.register_counter(&key, &METADATA)
        });
        let monitor = Arc::new(Self {
            requests: AtomicU64::new(0),
            tokens_provided: AtomicU64::new(0),
            password_resets: AtomicU64::new(0),
            routes,
            recorder,
            exported,
            oauth_grants,
        });
        spawn_upkeep(Arc::downgrade(&monitor));
        monitor
    }

    /// Counts one answered request. `template` is the matched route's pattern, `None` when no
    /// route matched.
    pub fn observe(&self, template: Option<&str>, method: &Method, status: u16, elapsed: Duration) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let slot_index = template
            .and_then(|t| self.routes.binary_search_by(|slot| slot.template.as_str().cmp(t)).ok())
            .unwrap_or(self.routes.len() - 1);
        let slot = &self.routes[slot_index];
        let method_index = METHODS.iter().position(|m| m == method).unwrap_or(METHODS.len());
        let stats = &slot.methods[method_index];
        stats.count.fetch_add(1, Ordering::Relaxed);
        stats.micros.fetch_add(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
        let status_index = STATUSES.iter().position(|s| *s == status).unwrap_or(STATUSES.len());
        let histogram = stats.latency[status_index].get_or_init(|| {
            let status = STATUSES.get(status_index).map_or_else(|| "other".to_owned(), u16::to_string);
            let method = METHODS.get(method_index).map_or("other", Method::as_str);
            let labels = vec![
                Label::new("route", slot.template.clone()),
                Label::new("method", method),
                Label::new("status", status),
            ];
            self.recorder.register_histogram(&Key::from_parts(LATENCY, labels), &METADATA)
        });
        histogram.record(elapsed.as_secs_f64());
    }

    /// A token was signed and handed out (`jwt.tokens.provided`).
    pub fn token_provided(&self) {
        self.tokens_provided.fetch_add(1, Ordering::Relaxed);
    }

    /// `/oauth2/token` answered tokens for this grant (`authify_oauth_tokens_total{grant_type}`).
    pub fn oauth_grant(&self, grant: &str) {
        if let Some(index) = GRANTS.iter().position(|known| *known == grant) {
            self.oauth_grants[index].increment(1);
        }
    }

    /// A password was reset through the registration flow (`registration.password.resets`).
    pub fn password_reset(&self) {
        self.password_resets.fetch_add(1, Ordering::Relaxed);
    }

    /// Authify's `/monitoring/info` document.
    pub fn info(&self, audit_dropped: u64) -> Value {
        let mut routes = Map::new();
        for slot in &self.routes {
            for (index, stats) in slot.methods.iter().enumerate() {
                let count = stats.count.load(Ordering::Relaxed);
                if count == 0 {
                    continue;
                }
                let total_ms = stats.micros.load(Ordering::Relaxed) as f64 / 1000.0;
                let method = METHODS.get(index).map_or("OTHER", Method::as_str);
                routes.insert(
                    format!("{method} {}", slot.template),
                    json!({"count": count, "time_ms": total_ms, "mean_ms": total_ms / count as f64}),
                );
            }
        }
        json!({
            "rack.request.count": self.requests.load(Ordering::Relaxed),
            "jwt.tokens.provided": self.tokens_provided.load(Ordering::Relaxed),
            "registration.password.resets": self.password_resets.load(Ordering::Relaxed),
            "audit.events.dropped": audit_dropped,
            "routes": routes,
        })
    }

    /// The Prometheus text exposition of every counter and histogram.
    pub fn prometheus(&self, audit_dropped: u64) -> String {
        let values = [
            self.requests.load(Ordering::Relaxed),
            self.tokens_provided.load(Ordering::Relaxed),
            self.password_resets.load(Ordering::Relaxed),
            audit_dropped,
        ];
        for (counter, value) in self.exported.iter().zip(values) {
            counter.absolute(value);
        }
        self.recorder.handle().render()
    }
}

/// Adds the signing key's kid and the seconds to the next key-lifecycle step to the
/// `/monitoring/info` document.
pub fn add_key_status(info: &mut Value, (kid, next_step_in): (String, Option<i64>)) {
    info["keys.signing.kid"] = json!(kid);
    info["keys.next_step.seconds"] = json!(next_step_in);
}

/// The same as Prometheus gauges: `authify_signing_key_info{kid}` (always 1) and
/// `authify_key_next_step_seconds` (-1 when no step is scheduled).
pub fn key_status_prometheus((kid, next_step_in): (String, Option<i64>)) -> String {
    format!(
        "# HELP authify_signing_key_info The key that signs now, by kid.\n\
         # TYPE authify_signing_key_info gauge\n\
         authify_signing_key_info{{kid=\"{kid}\"}} 1\n\
         # HELP authify_key_next_step_seconds Seconds until the next key lifecycle step (-1: none scheduled).\n\
         # TYPE authify_key_next_step_seconds gauge\n\
         authify_key_next_step_seconds {}\n",
        next_step_in.unwrap_or(-1)
    )
}

fn method_stats() -> Vec<MethodStats> {
    (0..=METHODS.len())
        .map(|_| MethodStats {
            count: AtomicU64::new(0),
            micros: AtomicU64::new(0),
            latency: (0..=STATUSES.len()).map(|_| OnceLock::new()).collect(),
        })
        .collect()
}

/// `/users/{id}` → `/users/:id`, without a doubled or trailing slash.
pub fn canonical(template: &str) -> String {
    let segments: Vec<String> = template
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => format!(":{name}"),
            None => s.to_owned(),
        })
        .collect();
    format!("/{}", segments.join("/"))
}

/// Folds recorded latencies into the histograms every second, so memory stays bounded between
/// scrapes: each request's sample waits in a buffer until then, and at 50,000 requests/s a 5 s
/// period held 2-3 MB of them; stops when the monitor is gone.
fn spawn_upkeep(monitor: Weak<Monitor>) {
    const UPKEEP_PERIOD: Duration = Duration::from_secs(1);
    if tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(UPKEEP_PERIOD);
        loop {
            tick.tick().await;
            let Some(monitor) = monitor.upgrade() else { return };
            monitor.recorder.handle().run_upkeep();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_canonical() {
        assert_eq!(canonical("/users/{id}/relationships/{rel}"), "/users/:id/relationships/:rel");
        assert_eq!(canonical("//jwt/token/"), "/jwt/token");
        assert_eq!(canonical(""), "/");
    }

    #[test]
    fn counters_and_unknown_routes_show_in_info() {
        let monitor = Monitor::new(["/users/{id}".to_owned()]);
        monitor.password_reset();
        monitor.token_provided();
        monitor.observe(Some("/users/:id"), &Method::GET, 200, Duration::from_millis(2));
        monitor.observe(Some("/not/a/template"), &Method::GET, 404, Duration::from_millis(1));
        monitor.observe(None, &Method::from_bytes(b"PURGE").expect("method"), 405, Duration::from_millis(1));
        let info = monitor.info(7);
        assert_eq!(info["registration.password.resets"], 1);
        assert_eq!(info["jwt.tokens.provided"], 1);
        assert_eq!(info["rack.request.count"], 3);
        assert_eq!(info["audit.events.dropped"], 7);
        assert_eq!(info["routes"]["GET /users/:id"]["count"], 1);
        assert_eq!(info["routes"]["GET unmatched"]["count"], 1);
        assert_eq!(info["routes"]["OTHER unmatched"]["count"], 1);
        let text = monitor.prometheus(7);
        assert!(text.contains("authify_registration_password_resets_total 1"), "{text}");
        assert!(text.contains(r#"method="other",status="405""#), "{text}");
    }
}
