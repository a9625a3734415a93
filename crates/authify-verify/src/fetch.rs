//! Fetching the discovery document and the JWK Set over HTTP(S): reqwest with rustls on ring, the
//! system's trust store, and `Cache-Control: max-age` read from the answer.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::Error;
use crate::key_set::KeySet;

/// The part of `/.well-known/openid-configuration` a verifier needs.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Discovery {
    pub jwks_uri: String,
    /// Authify's `iss` claim (not a URL today: `AUTHIFY_JWT_ISSUER`).
    #[serde(default)]
    pub issuer: Option<String>,
}

/// A fetched key set and how long Authify says it may be cached.
pub(crate) struct Fetched {
    pub keys: KeySet,
    pub max_age: Option<Duration>,
}

/// The default HTTP client: rustls with the ring provider (no OpenSSL, no aws-lc), certificates
/// checked against the platform's trust store, a 5 s timeout.
pub(crate) fn default_client(timeout: Duration) -> Result<reqwest::Client, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone())
        .map_err(|e| Error::KeysUnavailable(format!("no TLS trust store: {e}")))?;
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::KeysUnavailable(format!("TLS set-up: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(timeout)
        .user_agent(concat!("authify-verify/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::KeysUnavailable(format!("HTTP client: {e}")))
}

/// `base/.well-known/openid-configuration`.
pub(crate) async fn discover(client: &reqwest::Client, base_url: &str) -> Result<Discovery, String> {
    let url = format!("{}/.well-known/openid-configuration", base_url.trim_end_matches('/'));
    let (body, _) = get(client, &url).await?;
    serde_json::from_slice(&body).map_err(|e| format!("{url}: not a discovery document: {e}"))
}

pub(crate) async fn jwks(client: &reqwest::Client, url: &str) -> Result<Fetched, String> {
    let (body, max_age) = get(client, url).await?;
    let keys = KeySet::from_jwks_json(&body).map_err(|e| format!("{url}: {e}"))?;
    Ok(Fetched { keys, max_age })
}

/// The bounded body of a successful GET, with its `max-age`.
async fn get(client: &reqwest::Client, url: &str) -> Result<(Vec<u8>, Option<Duration>), String> {
    /// A JWK Set or discovery document is a few KiB; refuse anything much larger.
    const MAX_BODY: usize = 256 * 1024;
    let mut response = client.get(url).send().await.map_err(|e| format!("{url}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let max_age =
        response.headers().get(reqwest::header::CACHE_CONTROL).and_then(|value| value.to_str().ok()).and_then(max_age);
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| format!("{url}: {e}"))? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(format!("{url}: the answer is larger than {MAX_BODY} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, max_age))
}

/// `max-age` of a `Cache-Control` value; `no-cache` and `no-store` count as zero.
pub(crate) fn max_age(cache_control: &str) -> Option<Duration> {
    let mut found = None;
    for directive in cache_control.split(',').map(str::trim) {
        let (name, value) = directive.split_once('=').unwrap_or((directive, ""));
        match name.trim().to_ascii_lowercase().as_str() {
            "no-cache" | "no-store" => return Some(Duration::ZERO),
            "max-age" => found = value.trim().trim_matches('"').parse().ok().map(Duration::from_secs),
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_read_from_cache_control() {
        assert_eq!(max_age("public, max-age=300"), Some(Duration::from_secs(300)));
        assert_eq!(max_age("Max-Age=\"60\""), Some(Duration::from_secs(60)));
        assert_eq!(max_age("max-age=300, no-store"), Some(Duration::ZERO));
        assert_eq!(max_age("public"), None);
        assert_eq!(max_age("max-age=soon"), None);
    }
}
