//! The external OpenID Providers as this instance knows them: each one's discovery document and
//! JWKS, fetched at first use and kept as long as their `Cache-Control: max-age` says (one minute
//! to one day; an hour when unsaid). A provider that cannot be reached answers
//! [`Error::ProviderUnavailable`] for itself only, and a copy that went stale is used while its
//! provider is down (asked again once a minute). A token signed with a key not in the copy (a
//! rotation at the provider) fetches the JWKS once more, at most once per [`KEY_REFETCH_COOLDOWN`]
//! seconds.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use openidconnect::core::{CoreJsonWebKeySet, CoreProviderMetadata};
use reqwest::header::{CACHE_CONTROL, HeaderMap};
use tokio::sync::Mutex;

use crate::clock::Clock;
use crate::config::OidcProvider;
use crate::error::Error;

/// Seconds between two JWKS fetches caused by an unknown key.
pub const KEY_REFETCH_COOLDOWN: i64 = 30;
/// Seconds a stale copy is used before its provider is asked again.
const STALE_RETRY_SECONDS: i64 = 60;
/// The largest discovery document or JWKS read (bytes).
const MAX_DOCUMENT: usize = 512 * 1024;
/// The placeholder in Microsoft Entra's multi-tenant issuer.
const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// What a provider published, as fetched.
#[derive(Clone)]
pub struct Discovered {
    pub metadata: Arc<CoreProviderMetadata>,
    pub keys: Arc<CoreJsonWebKeySet>,
    fresh_until: i64,
    keys_fetched_at: i64,
}

impl Discovered {
    /// Entra's `https://login.microsoftonline.com/{tenantid}/v2.0`: the issuer of each token is
    /// this with the token's own `tid`.
    pub fn issuer_template(&self) -> Option<&str> {
        let issuer = self.metadata.issuer().as_str();
        issuer.contains(TENANT_PLACEHOLDER).then_some(issuer)
    }

    /// The issuer a token from tenant `tid` must name.
    pub fn issuer_for_tenant(&self, tid: &str) -> Option<String> {
        self.issuer_template().map(|template| template.replace(TENANT_PLACEHOLDER, tid))
    }
}

/// One configured provider and its cached documents.
pub struct Upstream {
    pub name: String,
    pub settings: OidcProvider,
    cache: Mutex<Option<Discovered>>,
}

impl Upstream {
    pub fn display_name(&self) -> &str {
        self.settings.display_name.as_deref().unwrap_or(&self.name)
    }
}

/// Every configured provider, and the HTTP client that reaches them.
pub struct Upstreams {
    /// Built at first use, so that a machine without providers never sets up TLS for them.
    client: std::sync::OnceLock<reqwest::Client>,
    clock: Arc<dyn Clock>,
    providers: BTreeMap<String, Upstream>,
}

impl Upstreams {
    pub fn new(providers: &BTreeMap<String, OidcProvider>, clock: Arc<dyn Clock>) -> Self {
        // reqwest is built without a default TLS provider; ring is the one the rest of the process
        // uses. Installed once for the process (an error means it already is).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let providers = providers
            .iter()
            .map(|(name, settings)| {
                let upstream = Upstream { name: name.clone(), settings: settings.clone(), cache: Mutex::new(None) };
                (name.clone(), upstream)
            })
            .collect();
        Self { client: std::sync::OnceLock::new(), clock, providers }
    }

    /// The HTTP client for the providers: 5 s to connect, 10 s a request, no redirects.
    pub fn client(&self) -> Result<&reqwest::Client, Error> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("authify/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::ProviderUnavailable(format!("cannot set up the HTTP client: {}", describe(&e))))?;
        Ok(self.client.get_or_init(|| client))
    }

    /// The provider named `name`; `NotFound` when none is configured.
    pub fn get(&self, name: &str) -> Result<&Upstream, Error> {
        self.providers.get(name).ok_or(Error::NotFound)
    }

    pub fn all(&self) -> impl Iterator<Item = &Upstream> {
        self.providers.values()
    }

    /// The provider's documents: the cached copy while fresh, else fetched anew (a stale copy is
    /// used when the provider cannot be reached).
    pub async fn discovered(&self, upstream: &Upstream) -> Result<Discovered, Error> {
        let mut cache = upstream.cache.lock().await;
        let now = self.clock.now();
        if let Some(cached) = cache.as_ref().filter(|c| c.fresh_until > now) {
            return Ok(cached.clone());
        }
        match self.fetch(upstream, now).await {
            Ok(fetched) => Ok(cache.insert(fetched).clone()),
            Err(err) => match cache.as_mut() {
                Some(stale) => {
                    tracing::warn!(provider = %upstream.name, error = %err, "using the provider's documents past their lifetime");
                    // Asked again in a minute, not by every sign-in while the provider is down.
                    stale.fresh_until = now + STALE_RETRY_SECONDS;
                    Ok(stale.clone())
                }
                None => Err(err),
            },
        }
    }

    /// The JWKS fetched again after a token named a key the copy lacks; `None` when the last
    /// fetch was under [`KEY_REFETCH_COOLDOWN`] seconds ago or the fetch failed.
    pub async fn refetch_keys(&self, upstream: &Upstream) -> Option<Discovered> {
        let mut cache = upstream.cache.lock().await;
        let now = self.clock.now();
        let current = cache.as_mut()?;
        if now - current.keys_fetched_at < KEY_REFETCH_COOLDOWN {
            return None;
        }
        current.keys_fetched_at = now;
        let (keys, _) = self.fetch_json::<CoreJsonWebKeySet>(current.metadata.jwks_uri().as_str()).await.ok()?;
        tracing::info!(provider = %upstream.name, "fetched the provider's keys again for an unknown key id");
        current.keys = Arc::new(keys);
        Some(current.clone())
    }

    async fn fetch(&self, upstream: &Upstream, now: i64) -> Result<Discovered, Error> {
        let issuer = &upstream.settings.issuer;
        let url = format!("{issuer}/.well-known/openid-configuration");
        let (metadata, metadata_age) = self.fetch_json::<CoreProviderMetadata>(&url).await?;
        let published = metadata.issuer().as_str().trim_end_matches('/');
        let matches = published == issuer || (published.contains(TENANT_PLACEHOLDER) && issuer_is_entra_alias(issuer));
        if !matches {
            return Err(Error::ProviderUnavailable(format!(
                "{}: the discovery document names the issuer {published}, not {issuer}",
                upstream.name
            )));
        }
        let (keys, keys_age) = self.fetch_json::<CoreJsonWebKeySet>(metadata.jwks_uri().as_str()).await?;
        Ok(Discovered {
            metadata: Arc::new(metadata),
            keys: Arc::new(keys),
            fresh_until: now + metadata_age.min(keys_age),
            keys_fetched_at: now,
        })
    }

    /// A JSON document and how long it may be kept (seconds).
    async fn fetch_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<(T, i64), Error> {
        let unavailable = |problem: String| Error::ProviderUnavailable(format!("{url}: {problem}"));
        let mut response = self.client()?.get(url).send().await.map_err(|e| unavailable(describe(&e)))?;
        if !response.status().is_success() {
            return Err(unavailable(format!("answered {}", response.status())));
        }
        let age = max_age(response.headers());
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| unavailable(describe(&e)))? {
            if body.len() + chunk.len() > MAX_DOCUMENT {
                return Err(unavailable(format!("the document is larger than {MAX_DOCUMENT} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        let document = serde_json::from_slice(&body).map_err(|e| unavailable(format!("not a valid document: {e}")))?;
        Ok((document, age))
    }
}

/// An HTTP failure with its causes (`error sending request: … invalid peer certificate: UnknownIssuer`),
/// for the operator who reads the log or the error.
pub fn describe(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Entra's multi-tenant endpoints (`common`, `organizations`, `consumers`) publish the templated issuer.
fn issuer_is_entra_alias(issuer: &str) -> bool {
    ["/common/", "/organizations/", "/consumers/"].iter().any(|alias| format!("{issuer}/").contains(alias))
}

/// `Cache-Control: max-age`, held to one minute … one day; an hour when unsaid.
fn max_age(headers: &HeaderMap) -> i64 {
    let said = headers
        .get_all(CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|directive| directive.trim().strip_prefix("max-age=")?.parse::<i64>().ok());
    said.unwrap_or(3600).clamp(60, 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_lifetimes_follow_max_age_within_bounds() {
        let mut headers = HeaderMap::new();
        assert_eq!(max_age(&headers), 3600);
        headers.insert(CACHE_CONTROL, "public, max-age=7200".parse().expect("header"));
        assert_eq!(max_age(&headers), 7200);
        headers.insert(CACHE_CONTROL, "max-age=1".parse().expect("header"));
        assert_eq!(max_age(&headers), 60);
    }

    #[test]
    fn entra_aliases_are_recognised() {
        assert!(issuer_is_entra_alias("https://login.microsoftonline.com/organizations/v2.0"));
        assert!(issuer_is_entra_alias("http://127.0.0.1:5/common"));
        assert!(!issuer_is_entra_alias("https://accounts.google.com"));
    }
}
