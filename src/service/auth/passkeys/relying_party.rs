//! The WebAuthn relying party this instance is, from AUTHIFY_PASSKEY_* and AUTHIFY_PUBLIC_URL.

use std::time::Duration;

use url::Url;
use webauthn_rs::{Webauthn, WebauthnBuilder};

use crate::config::Settings;
use crate::error::Error;

/// How long a ceremony may take, from its start to its finish (seconds).
pub const CEREMONY_SECONDS: i64 = 300;

/// The relying party, or why there is none (an IP address for a host: passkeys are off).
pub struct RelyingParty {
    webauthn: Result<Webauthn, String>,
}

impl RelyingParty {
    pub fn new(settings: &Settings) -> Self {
        Self { webauthn: build(settings) }
    }

    /// The relying party; [`Error::PasskeysOff`] when the settings give none.
    pub fn get(&self) -> Result<&Webauthn, Error> {
        self.webauthn.as_ref().map_err(|reason| Error::PasskeysOff(reason.clone()))
    }

    /// `on` or `off`, as the hosted pages' templates take it.
    pub fn page_flag(&self) -> &'static str {
        if self.webauthn.is_ok() { "on" } else { "off" }
    }

    /// Why passkeys are off, if they are (logged once at start-up).
    pub fn off_because(&self) -> Option<&str> {
        self.webauthn.as_ref().err().map(String::as_str)
    }
}

fn build(settings: &Settings) -> Result<Webauthn, String> {
    let passkeys = &settings.passkeys;
    if let Some(reason) = passkeys.unusable_because(&settings.public_url) {
        return Err(reason.to_owned());
    }
    let rp_id = passkeys.rp_id(&settings.public_url);
    let origins = passkeys.origins(&settings.public_url);
    let parse = |origin: &String| Url::parse(origin).map_err(|e| format!("AUTHIFY_PASSKEY_ORIGINS: {origin}: {e}"));
    let first = origins.first().ok_or("AUTHIFY_PASSKEY_ORIGINS is empty")?;
    let first = parse(first)?;
    let mut builder = WebauthnBuilder::new(&rp_id, &first)
        .map_err(|e| format!("AUTHIFY_PASSKEY_RP_ID {rp_id} does not fit the origin {first}: {e}"))?
        .rp_name(passkeys.rp_name())
        .timeout(Duration::from_secs(CEREMONY_SECONDS as u64));
    for origin in &origins[1..] {
        builder = builder.append_allowed_origin(&parse(origin)?);
    }
    builder.build().map_err(|e| format!("passkey settings refused: {e}"))
}
