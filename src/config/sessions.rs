//! Session settings: refresh tokens, browser sessions and the revocation list (SPEC §5). Part of
//! [`super::Settings`] (flattened: the names are top-level `AUTHIFY_*` variables like the rest).

use serde::{Deserialize, Serialize};

use super::ConfigError;
use super::lists::{OriginList, origin_of};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionSettings {
    /// AUTHIFY_REFRESH_IDLE_SECONDS: a refresh token not exchanged within this many seconds stops
    /// working (default 7 days).
    pub refresh_idle_seconds: u32,
    /// AUTHIFY_REFRESH_ABSOLUTE_SECONDS: no session lasts longer than this after its login, however
    /// often it is refreshed (default 30 days). Browser sessions too.
    pub refresh_absolute_seconds: u32,
    /// AUTHIFY_REFRESH_GRACE_SECONDS: an already exchanged refresh token presented again within this
    /// many seconds gets the same new pair (a concurrent refresh); later it revokes the whole
    /// session as a stolen token would (default 5; 0 = no grace).
    pub refresh_grace_seconds: u32,
    /// AUTHIFY_SESSION_IDLE_SECONDS: a browser session not used for this many seconds ends
    /// (default 7 days).
    pub session_idle_seconds: u32,
    /// AUTHIFY_COOKIE_SECURE: mark the session cookie `Secure` and name it `__Host-identity`
    /// (default true); false names it `identity`, for local http only.
    pub cookie_secure: bool,
    /// AUTHIFY_SESSION_ORIGINS: comma-separated origins (`https://app.example.com`) whose pages may
    /// send unsafe cookie-authenticated requests (default: the origin of AUTHIFY_PUBLIC_URL). Other
    /// unsafe requests authenticated by the cookie need an `X-Requested-With` header.
    pub session_origins: Option<OriginList>,
    /// AUTHIFY_REVOCATION_POLL_MS: how often this instance reads revocations made by other instances
    /// sharing the database (milliseconds; default 1000).
    pub revocation_poll_ms: u64,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            refresh_idle_seconds: 7 * 24 * 3600,
            refresh_absolute_seconds: 30 * 24 * 3600,
            refresh_grace_seconds: 5,
            session_idle_seconds: 7 * 24 * 3600,
            cookie_secure: true,
            session_origins: None,
            revocation_poll_ms: 1000,
        }
    }
}

impl SessionSettings {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        for (name, value) in [
            ("AUTHIFY_REFRESH_IDLE_SECONDS", self.refresh_idle_seconds),
            ("AUTHIFY_REFRESH_ABSOLUTE_SECONDS", self.refresh_absolute_seconds),
            ("AUTHIFY_SESSION_IDLE_SECONDS", self.session_idle_seconds),
        ] {
            if value == 0 {
                return Err(ConfigError::new(name, "must be at least 1 second"));
            }
        }
        if self.revocation_poll_ms == 0 {
            return Err(ConfigError::new("AUTHIFY_REVOCATION_POLL_MS", "must be at least 1"));
        }
        Ok(())
    }

    /// The origins allowed to send unsafe cookie-authenticated requests, serialized as browsers
    /// send `Origin`: no trailing slash, no default port.
    pub fn allowed_origins<'a>(&'a self, public_url: &'a str) -> Vec<&'a str> {
        match &self.session_origins {
            Some(list) => list.origins().iter().map(String::as_str).collect(),
            None => vec![origin_of(public_url)],
        }
    }

    /// Whether a page of `origin` (as the `Origin` header says it) may send unsafe
    /// cookie-authenticated requests; nothing is allocated.
    pub fn allows_origin(&self, origin: &str, public_url: &str) -> bool {
        let origin = origin.trim_end_matches('/');
        match &self.session_origins {
            Some(list) => list.origins().iter().any(|a| a.eq_ignore_ascii_case(origin)),
            None => origin_of(public_url).eq_ignore_ascii_case(origin),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_url_gives_the_default_origin() {
        let settings = SessionSettings::default();
        assert_eq!(settings.allowed_origins("https://auth.example.com/base"), vec!["https://auth.example.com"]);
        let listed = SessionSettings {
            session_origins: Some("https://a.example, http://b:8080/".parse().expect("origins")),
            ..settings
        };
        assert_eq!(listed.allowed_origins("http://x"), vec!["https://a.example", "http://b:8080"]);
        assert!(listed.validate().is_ok());
        assert_eq!(settings.allowed_origins("https://auth.example.com:443?x=1"), vec!["https://auth.example.com"]);
        assert_eq!(settings.allowed_origins("http://[::1]:80/"), vec!["http://[::1]"]);
        assert_eq!(settings.allowed_origins("http://a.example:8080/"), vec!["http://a.example:8080"]);
        let default_ports = SessionSettings {
            session_origins: Some("HTTP://b.example:80/".parse().expect("origins")),
            ..listed.clone()
        };
        assert_eq!(default_ports.allowed_origins("http://x"), vec!["HTTP://b.example"]);
        let bad: Result<OriginList, _> = "a.example".parse();
        assert_eq!(bad, Err("AUTHIFY_SESSION_ORIGINS: a.example is not an http(s) origin".to_owned()));
    }
}
