//! External login settings (SPEC §5, docs/external-login.md): the OpenID Connect providers people
//! may sign in with, one TOML table each (`[oidc_providers.entra]`, or
//! `AUTHIFY_OIDC_PROVIDERS__ENTRA__ISSUER` in the environment), and where a finished login may
//! send the browser back to (`login_redirect_uris`, matched exactly).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{ConfigError, SecretString};

/// One upstream OpenID Provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcProvider {
    /// The issuer URL; its `/.well-known/openid-configuration` is read at first use. Microsoft
    /// Entra's multi-tenant `…/common/v2.0` and `…/organizations/v2.0` work: their tokens' issuer
    /// is checked against the token's own `tid`.
    pub issuer: String,
    pub client_id: String,
    /// Sent with HTTP Basic authentication to the token endpoint; none for a public client.
    #[serde(default)]
    pub client_secret: Option<SecretString>,
    /// The name on buttons and pages (default: the table's name).
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// Email domains whose people may sign in (lower case, without `@`); empty: any.
    #[serde(default)]
    pub allowed_email_domains: Vec<String>,
    /// Entra only: the tenant ids (`tid`) whose people may sign in; empty: any.
    #[serde(default)]
    pub allowed_tenants: Vec<String>,
    /// May an email the provider says is verified link the identity to the account with that email.
    #[serde(default)]
    pub link_by_email: bool,
    /// May people without an account get one.
    #[serde(default = "yes")]
    pub create_users: bool,
}

fn default_scopes() -> Vec<String> {
    ["openid", "email", "profile"].map(String::from).to_vec()
}

fn yes() -> bool {
    true
}

/// The providers by name, and the URLs a finished login may return to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExternalLoginSettings {
    /// AUTHIFY_OIDC_PROVIDERS (a table per provider).
    #[serde(default)]
    pub oidc_providers: BTreeMap<String, OidcProvider>,
    /// AUTHIFY_LOGIN_REDIRECT_URIS: where a finished external login may send the browser, with
    /// `?code=…&state=…` (exact match; a comma-separated list in the environment).
    #[serde(default, deserialize_with = "super::lists::comma_separated")]
    pub login_redirect_uris: Vec<String>,
}

impl ExternalLoginSettings {
    pub(super) fn validate(&mut self) -> Result<(), ConfigError> {
        for (name, provider) in &mut self.oidc_providers {
            let setting = format!("AUTHIFY_OIDC_PROVIDERS__{}", name.to_ascii_uppercase());
            let name_ok = !name.is_empty()
                && name.len() <= 40
                && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
            if !name_ok {
                return Err(ConfigError::new(
                    &setting,
                    "a provider's name is 1 to 40 characters of a-z, 0-9, '-', '_'",
                ));
            }
            if !is_http_url(&provider.issuer) {
                return Err(ConfigError::new(&format!("{setting}__ISSUER"), "must be an http:// or https:// URL"));
            }
            provider.issuer = provider.issuer.trim_end_matches('/').to_owned();
            if provider.client_id.trim().is_empty() {
                return Err(ConfigError::new(&format!("{setting}__CLIENT_ID"), "must not be empty"));
            }
            if !provider.scopes.iter().any(|s| s == "openid") {
                provider.scopes.insert(0, "openid".into());
            }
            for domain in &mut provider.allowed_email_domains {
                *domain = domain.trim().trim_start_matches('@').to_ascii_lowercase();
            }
        }
        if let Some(bad) = self.login_redirect_uris.iter().find(|uri| !is_http_url(uri) || uri.contains('#')) {
            return Err(ConfigError::new(
                "AUTHIFY_LOGIN_REDIRECT_URIS",
                format!("`{bad}` is not an absolute http(s) URL without a fragment"),
            ));
        }
        Ok(())
    }
}

fn is_http_url(text: &str) -> bool {
    url::Url::parse(text).is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
}
