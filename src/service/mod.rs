//! Use cases, in three rooms. Services take the handles they use (built once in `app.rs`, and by
//! the command line) and return domain types and [`crate::error::Error`]; they know nothing of HTTP.
//!
//! - [`auth`]: proving who is calling and the tokens and sessions that follow: password, API-key
//!   and identity login, access checks, token issuance, refresh, revocation, verification.
//! - [`account`]: what a person does to their own account: signup, email verification, password
//!   reset and change, email change, TOTP, and the lockout that guards every secret.
//! - [`directory`]: the people and machines Authify knows and the rules over them: users,
//!   organizations, groups, API keys, identities, trusted delegates.
//! - [`keys`]: the signing keys shared by every instance through the database, and their rotation.

pub mod account;
pub mod auth;
pub mod directory;
pub mod keys;
pub mod oauth;
