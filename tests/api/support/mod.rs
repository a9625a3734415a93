//! What the tests share: the service started per test ([`app`]), the harness that runs them
//! ([`harness`]), and one module of helpers per thing a test drives.

pub mod app;
pub mod chromium;
pub mod cookies;
pub mod credentials;
pub mod harness;
pub mod jsonapi;
pub mod oidc;
pub mod passkeys;
pub mod ports;
pub mod relay;
pub mod smtp_sink;
pub mod tls_cert;
pub mod tokens;
pub mod totp;
pub mod upstream_op;
