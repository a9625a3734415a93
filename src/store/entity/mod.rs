//! sea-orm entities for the tables created by the `directory` migration. Times are Unix seconds;
//! `scopes` columns hold space-separated scope names; `secret_hash` columns hold the hex SHA-256 of
//! a high-entropy secret (see `crypto::secret`).

pub mod api_key;
pub mod audit_event;
pub mod email_token;
pub mod external_login;
pub mod group;
pub mod group_membership;
pub mod identity;
pub mod login_lockout;
pub mod oauth_client;
pub mod oauth_code;
pub mod oauth_consent;
pub mod organization;
pub mod organization_membership;
pub mod outbox_mail;
pub mod passkey;
pub mod passkey_challenge;
pub mod recovery_code;
pub mod refresh_token;
pub mod revocation;
pub mod session;
pub mod signing_key;
pub mod totp_factor;
pub mod trusted_delegate;
