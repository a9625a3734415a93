//! The OpenID Provider (docs/openid-provider.md): authorization requests and codes, client
//! authentication, the token endpoint's grants, the tokens themselves (RFC 9068 access tokens and
//! ID tokens), userinfo, introspection, revocation and logout. Clients are registered by
//! [`crate::service::directory::clients`].

pub mod authorize;
pub mod client_auth;
pub mod consents;
pub mod error;
pub mod grants;
pub mod introspect;
pub mod logout;
pub mod scope;
pub mod tokens;
pub mod userinfo;
