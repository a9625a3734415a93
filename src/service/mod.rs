//! Use cases, one file each. Services take the state they need and return domain types and
//! [`crate::error::Error`]; they know nothing of HTTP.

pub mod access;
pub mod api_keys;
pub mod audit;
pub mod browser_session;
pub mod change_password;
pub mod credential_cache;
pub mod delegate_auth;
pub mod delegates;
pub mod email_change;
pub mod email_tokens;
pub mod identity_login;
pub mod issue_token;
pub mod lockout;
pub mod login;
pub mod mail_sign_in;
pub mod monitoring;
pub mod rate_limit;
pub mod refresh;
pub mod request_context;
pub mod reset_password;
pub mod revocation_list;
pub mod revoke;
pub mod signup;
pub mod totp;
pub mod users;
pub mod verify_email;
pub mod verify_token;
