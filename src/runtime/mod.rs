//! The long-lived machinery a running service keeps beside its use cases: the audit trail's
//! writer, the revocation list and its poller, the shared keys' poller, the credential cache, request counters for rate
//! limits, the monitor's counters, the request being served, warnings logged at most once a minute, and answers held to
//! a typical time so that their time tells nothing. Nothing here knows a use case.

pub mod audit;
pub mod audit_repeats;
pub mod client_cache;
pub mod credential_cache;
pub mod equal_time;
pub mod monitoring;
pub mod rate_limit;
pub mod request_context;
pub mod revocation_list;
pub mod shared_keys;
pub mod throttled_log;
