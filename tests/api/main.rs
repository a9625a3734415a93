//! One integration-test binary (one link step) driving the real service over HTTP and the real
//! `authify` binary. What the tests share is under `support/`: the harness (`support/harness.rs`,
//! libtest-mimic), the service per test and the registration macros (`support/app.rs`), and one
//! helper module per thing a test drives.

mod api_key_login;
mod api_key_revocation;
mod audit;
mod audit_cli;
mod authify_readme;
mod browser_session_cookie;
mod browser_session_ends;
mod browser_sessions;
mod cli;
mod cli_delegates;
mod delegate_on_behalf_of;
mod delegates;
mod discovery;
mod external_login;
mod health;
mod http_errors;
mod identities_under_users;
mod identity_login;
mod import;
mod import_cli;
mod import_source;
mod jsonapi_bounds;
mod jsonapi_conformance;
mod jwt;
mod legacy_digest;
mod lockout;
mod mail_transport_security;
mod matrix;
mod me_password;
mod monitoring;
mod oauth_clients;
mod oidc_browser;
mod oidc_flow;
mod oidc_refusals;
mod oidc_signin;
mod openapi;
mod passkeys;
mod passkeys_browser;
mod passkeys_second_factor;
mod rate_limit;
mod registration;
mod registration_delivery;
mod registration_email_change;
mod registration_reset;
mod registration_template_bounds;
mod registration_templates;
mod security_delegates;
mod security_lockout;
mod security_profile;
mod security_recovery;
mod security_second_factor;
mod security_verify;
mod sessions_grace;
mod sessions_instances;
mod sessions_refresh;
mod sessions_revoke;
mod shared_keys;
mod shutdown;
mod sqlite_file;
mod support;
mod totp;
mod verify;
mod verify_crate;

fn main() {
    // reqwest is built without a default TLS provider (the service installs ring at start-up);
    // clients made before any service starts need it too.
    let _ = rustls::crypto::ring::default_provider().install_default();
    support::harness::main()
}
