//! Passkey (WebAuthn) settings. Part of [`super::Settings`] (flattened: the names are top-level
//! `AUTHIFY_*` variables like the rest). Everything defaults from AUTHIFY_PUBLIC_URL.

use serde::{Deserialize, Serialize};

use super::lists::{OriginList, origin_of};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PasskeySettings {
    /// AUTHIFY_PASSKEY_RP_ID: the WebAuthn relying-party id, a domain passkeys are bound to
    /// (default: the host of AUTHIFY_PUBLIC_URL). Changing it orphans every registered passkey.
    pub passkey_rp_id: Option<String>,
    /// AUTHIFY_PASSKEY_RP_NAME: the name authenticators show beside the account (default `Authify`).
    pub passkey_rp_name: Option<String>,
    /// AUTHIFY_PASSKEY_ORIGINS: comma-separated origins of the pages that run passkey ceremonies
    /// (default: the origin of AUTHIFY_PUBLIC_URL); each must be the relying-party id or under it.
    pub passkey_origins: Option<OriginList>,
}

impl PasskeySettings {
    /// The relying-party id: the setting, or the host of `public_url`.
    pub fn rp_id(&self, public_url: &str) -> String {
        match &self.passkey_rp_id {
            Some(id) => id.clone(),
            None => url::Url::parse(public_url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default(),
        }
    }

    pub fn rp_name(&self) -> &str {
        self.passkey_rp_name.as_deref().unwrap_or("Authify")
    }

    /// The origins allowed in a ceremony's client data.
    pub fn origins(&self, public_url: &str) -> Vec<String> {
        match &self.passkey_origins {
            Some(list) => list.origins().to_vec(),
            None => vec![origin_of(public_url).to_owned()],
        }
    }

    /// Why passkeys cannot be offered with these settings, if they cannot: WebAuthn binds
    /// credentials to a domain name, never an IP address (the default AUTHIFY_PUBLIC_URL's host).
    pub fn unusable_because(&self, public_url: &str) -> Option<&'static str> {
        let rp_id = self.rp_id(public_url);
        let is_ip = rp_id.parse::<std::net::IpAddr>().is_ok() || rp_id.starts_with('[');
        (rp_id.is_empty() || is_ip)
            .then_some("passkeys need a domain name: set AUTHIFY_PASSKEY_RP_ID, or a host name in AUTHIFY_PUBLIC_URL")
    }
}
