//! Verify Authify's JWTs in a relying service.
//!
//! Authify signs short-lived ES256, ES384 or ES512 tokens and publishes its public keys as a JWK
//! Set. A [`Verifier`] fetches and caches that set, checks a token's signature with the key its
//! `kid` names (pinned to the algorithm of the key's curve: never `none`, never HMAC), then its
//! `exp`, `nbf`, `iat`, `iss` and `aud`, and hands back typed [`Claims`].
//!
//! ```no_run
//! # async fn example() -> Result<(), authify_verify::Error> {
//! use authify_verify::Verifier;
//!
//! // Once per process: reads /.well-known/openid-configuration, then its jwks_uri, on first use.
//! let verifier = Verifier::discover("https://auth.example.com").build()?;
//!
//! let claims = verifier.verify("eyJhbGciOiJFUzUxMiIs…").await?;
//! if claims.has_scope("admin_access") {
//!     println!("admin {}", claims.user.as_ref().map_or("?", |user| user.username.as_str()));
//! }
//! # Ok(()) }
//! ```
//!
//! Without network access, from the PEM that `GET /jwt/key` serves:
//!
//! ```
//! # fn example(pem: &str) -> Result<(), authify_verify::Error> {
//! use std::time::Duration;
//! use authify_verify::Verifier;
//!
//! let verifier = Verifier::from_pem(pem)?
//!     .issuer("My Awesome Company Inc.")
//!     .leeway(Duration::from_secs(30))
//!     .build()?;
//! # Ok(()) }
//! ```
//!
//! # Key cache
//!
//! The key set stays fresh for the `max-age` of the JWKS answer (Authify sends
//! `Cache-Control: public, max-age=300` by default). A token naming an unknown `kid` makes the
//! verifier fetch once more, at most once per [`VerifierBuilder::refetch_interval`] (10 s), so a
//! flood of forged tokens cannot make it hammer Authify. When Authify is unreachable, the last
//! good key set goes on verifying. Authify publishes a rotated key before it signs with it, so a
//! rotation fails no verification.
//!
//! # Revocation
//!
//! Verification is local: a token stays valid until its `exp` even after the user logs out or an
//! administrator revokes it, because only Authify knows its revocation list. Keep token lifetimes
//! short (Authify's `AUTHIFY_JWT_EXPIRATION`, minutes), and ask Authify (`POST /jwt/verify`) where
//! a revoked token must be refused at once.
//!
//! # Features
//!
//! - `fetch` (default): [`Verifier::discover`] and [`Verifier::from_jwks_url`], with hyper and
//!   rustls on ring (no OpenSSL).
//! - `poem`: [`poem::AuthifyAuth`] middleware, a [`Claims`] extractor and [`poem::RequireScope`].
//! - `tower`: [`tower::AuthifyLayer`] for axum and any tower stack, and [`tower::RequireScopeLayer`].
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]
#![warn(missing_docs)]

mod claims;
mod error;
#[cfg(feature = "fetch")]
mod fetch;
mod key;
mod key_set;
#[cfg(any(feature = "poem", feature = "tower"))]
mod middleware;
#[cfg(feature = "fetch")]
mod remote_keys;
#[cfg(test)]
mod tests;
mod token;
mod validation;
mod verifier;

pub use claims::{Actor, Claims, Group, Organization, User};
pub use error::Error;
pub use key::{Algorithm, PublicKey};
pub use key_set::KeySet;
#[cfg(any(feature = "poem", feature = "tower"))]
pub use middleware::TokenSource;
#[cfg(feature = "poem")]
pub use middleware::poem;
#[cfg(feature = "tower")]
pub use middleware::tower;
pub use token::MAX_TOKEN_LEN;
pub use verifier::{Verifier, VerifierBuilder};
