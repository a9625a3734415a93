//! One integration-test binary (one link step) driving the real service over HTTP and the real
//! `authify` binary.

mod api_key_login;
mod audit;
mod audit_cli;
mod authify_readme;
mod cli;
mod cli_delegates;
mod credentials;
mod delegate_on_behalf_of;
mod delegates;
mod discovery;
mod health;
mod helpers;
mod http_errors;
mod identity_login;
mod jsonapi_client;
mod jsonapi_conformance;
mod jwt;
mod legacy_digest;
mod lockout;
mod matrix;
mod monitoring;
mod openapi;
mod rate_limit;
mod registration;
mod registration_delivery;
mod registration_email_change;
mod registration_reset;
mod registration_templates;
mod shutdown;
mod smtp_sink;
mod totp;
mod totp_support;
mod verify;
