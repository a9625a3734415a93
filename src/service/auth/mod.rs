//! Proving who is calling, and the tokens and sessions that follow.

pub mod access;
pub mod browser_session;
pub mod delegate_auth;
pub mod identity_login;
pub mod issue_token;
pub mod login;
pub mod refresh;
pub mod revoke;
pub mod verify_token;
