//! Fetching the discovery document and the JWK Set over HTTP(S): hyper with rustls on ring, the
//! platform's trust store, and `Cache-Control: max-age` read from the answer.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, USER_AGENT};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;

use crate::Error;
use crate::key_set::KeySet;

/// A JWK Set or discovery document is a few KiB; refuse anything much larger.
const MAX_BODY: usize = 256 * 1024;

/// The part of `/.well-known/openid-configuration` a verifier needs.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Discovery {
    pub jwks_uri: String,
    /// The OpenID Provider's issuer URL (the `iss` of its ID and OAuth access tokens).
    #[serde(default)]
    pub issuer: Option<String>,
    /// The `iss` of Authify's own tokens (`/jwt/token`, AUTHIFY_JWT_ISSUER), which this crate
    /// verifies; preferred over `issuer` when present.
    #[serde(default)]
    pub authify_jwt_issuer: Option<String>,
}

impl Discovery {
    /// The issuer Authify's own tokens carry.
    pub fn token_issuer(&self) -> Option<String> {
        self.authify_jwt_issuer.clone().or_else(|| self.issuer.clone())
    }
}

/// A fetched key set and how long Authify says it may be cached.
pub(crate) struct Fetched {
    pub keys: KeySet,
    pub max_age: Option<Duration>,
}

/// An HTTP(S) client with a timeout per request.
#[derive(Clone)]
pub(crate) struct HttpClient {
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    timeout: Duration,
}

impl HttpClient {
    /// rustls with the ring provider passed explicitly (no OpenSSL, no aws-lc, no process-wide
    /// provider needed), certificates checked against the platform's trust store.
    pub fn new(timeout: Duration) -> Result<Self, Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = rustls_platform_verifier::Verifier::new(provider.clone())
            .map_err(|e| Error::KeysUnavailable(format!("no TLS trust store: {e}")))?;
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::KeysUnavailable(format!("TLS set-up: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        let connector =
            hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http().enable_http1().build();
        Ok(Self { client: Client::builder(TokioExecutor::new()).build(connector), timeout })
    }

    /// The bounded body of a successful GET, with its `max-age`.
    async fn get(&self, url: &str) -> Result<(Bytes, Option<Duration>), String> {
        let uri: http::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
        let request = http::Request::get(uri)
            .header(USER_AGENT, concat!("authify-verify/", env!("CARGO_PKG_VERSION")))
            .body(Empty::new())
            .map_err(|e| format!("{url}: {e}"))?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| format!("{url}: {e}"))?;
            if !response.status().is_success() {
                return Err(format!("{url}: HTTP {}", response.status()));
            }
            let max_age = response.headers().get(CACHE_CONTROL).and_then(|v| v.to_str().ok()).and_then(max_age);
            let body = Limited::new(response.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(|e| format!("{url}: {e}"))?
                .to_bytes();
            Ok((body, max_age))
        };
        tokio::time::timeout(self.timeout, exchange).await.map_err(|_| format!("{url}: timed out"))?
    }

    /// `base/.well-known/openid-configuration`.
    pub async fn discover(&self, base_url: &str) -> Result<Discovery, String> {
        let url = format!("{}/.well-known/openid-configuration", base_url.trim_end_matches('/'));
        let (body, _) = self.get(&url).await?;
        serde_json::from_slice(&body).map_err(|e| format!("{url}: not a discovery document: {e}"))
    }

    pub async fn jwks(&self, url: &str) -> Result<Fetched, String> {
        let (body, max_age) = self.get(url).await?;
        let keys = KeySet::from_jwks_json(&body).map_err(|e| format!("{url}: {e}"))?;
        Ok(Fetched { keys, max_age })
    }
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
