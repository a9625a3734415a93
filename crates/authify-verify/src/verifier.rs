//! [`Verifier`]: where its keys come from, what it expects of claims, and `verify`.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::key_set::KeySet;
#[cfg(feature = "fetch")]
use crate::remote_keys::{FetchPolicy, RemoteKeys, Source};
use crate::token::Parts;
use crate::validation::Validation;
use crate::{Claims, Error};

/// Verifies Authify tokens. Cheap to clone (one `Arc`); share one per process, so every request
/// uses the same cached key set.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    keys: Keys,
    validation: Validation,
}

enum Keys {
    Fixed(Arc<KeySet>),
    #[cfg(feature = "fetch")]
    Remote(Box<RemoteKeys>),
}

/// Configures a [`Verifier`]; made by [`Verifier::discover`], [`Verifier::from_jwks_url`],
/// [`Verifier::from_pem`] or [`Verifier::from_jwks_json`], finished by [`VerifierBuilder::build`].
#[must_use]
pub struct VerifierBuilder {
    keys: BuilderKeys,
    validation: Validation,
    #[cfg(feature = "fetch")]
    policy: FetchPolicy,
    #[cfg(feature = "fetch")]
    timeout: Duration,
}

enum BuilderKeys {
    Fixed(KeySet),
    #[cfg(feature = "fetch")]
    Remote(Source),
}

impl Verifier {
    /// Keys from Authify's discovery document at `base_url/.well-known/openid-configuration`
    /// (its `jwks_uri`), fetched on first use. Unless [`VerifierBuilder::issuer`] says otherwise,
    /// tokens must carry the discovery document's `issuer` as `iss`.
    #[cfg(feature = "fetch")]
    pub fn discover(base_url: impl Into<String>) -> VerifierBuilder {
        VerifierBuilder::new(BuilderKeys::Remote(Source::Discovery(base_url.into())))
    }

    /// Keys from a JWK Set URL (`https://auth.example.com/.well-known/jwks.json`), fetched on first
    /// use. `iss` is checked only when [`VerifierBuilder::issuer`] is set.
    #[cfg(feature = "fetch")]
    pub fn from_jwks_url(url: impl Into<String>) -> VerifierBuilder {
        VerifierBuilder::new(BuilderKeys::Remote(Source::JwksUrl(url.into())))
    }

    /// One fixed key: the SPKI PEM that `GET /jwt/key` serves. Tokens naming another `kid` are
    /// refused; nothing is fetched, so a key rotation needs a new verifier.
    pub fn from_pem(pem: &str) -> Result<VerifierBuilder, Error> {
        Ok(VerifierBuilder::new(BuilderKeys::Fixed(KeySet::from_pem(pem)?)))
    }

    /// Fixed keys from a JWK Set document.
    pub fn from_jwks_json(json: &str) -> Result<VerifierBuilder, Error> {
        Ok(VerifierBuilder::new(BuilderKeys::Fixed(KeySet::from_jwks_json(json.as_bytes())?)))
    }

    /// Verifies `token` (a compact JWS, without `Bearer `): the signature with the key its `kid`
    /// names, pinned to that key's algorithm; then `exp`, `nbf`, `iat`, `iss` and `aud`.
    /// Fetches keys first when none are cached, when they are past their `max-age`, or once for an
    /// unknown `kid` (rate-limited).
    pub async fn verify(&self, token: &str) -> Result<Claims, Error> {
        let parts = Parts::split(token)?;
        let (keys, discovered_issuer): (Arc<KeySet>, Option<String>) = match &self.inner.keys {
            Keys::Fixed(keys) => (keys.clone(), None),
            #[cfg(feature = "fetch")]
            Keys::Remote(remote) => remote.keys_for(parts.header.kid.as_deref()).await?,
        };
        self.check(&parts, &keys, discovered_issuer.as_deref(), unix_now())
    }

    /// Like [`Verifier::verify`] with the keys already cached, never fetching; a remote verifier
    /// that has fetched nothing yet answers [`Error::KeysUnavailable`].
    pub fn verify_cached(&self, token: &str) -> Result<Claims, Error> {
        let parts = Parts::split(token)?;
        let (keys, discovered_issuer): (Arc<KeySet>, Option<String>) = match &self.inner.keys {
            Keys::Fixed(keys) => (keys.clone(), None),
            #[cfg(feature = "fetch")]
            Keys::Remote(remote) => match remote.cached() {
                (Some(keys), issuer) => (keys, issuer),
                (None, _) => return Err(Error::KeysUnavailable("not fetched yet".into())),
            },
        };
        self.check(&parts, &keys, discovered_issuer.as_deref(), unix_now())
    }

    /// Fetches the keys now (e.g. at start-up, to fail early), whatever the cache holds.
    /// Does nothing for fixed keys.
    pub async fn refresh(&self) -> Result<(), Error> {
        match &self.inner.keys {
            Keys::Fixed(_) => Ok(()),
            #[cfg(feature = "fetch")]
            Keys::Remote(remote) => remote.refresh().await,
        }
    }

    fn check(&self, parts: &Parts<'_>, keys: &KeySet, issuer: Option<&str>, now: i64) -> Result<Claims, Error> {
        let key = keys.find(parts.header.kid.as_deref()).ok_or_else(|| Error::UnknownKey(parts.header.kid.clone()))?;
        if parts.header.alg != key.algorithm().name() {
            return Err(Error::AlgorithmMismatch { expected: key.algorithm(), found: parts.header.alg.clone() });
        }
        key.verify_signature(parts.signing_input.as_bytes(), parts.signature())?;
        let claims = parts.claims()?;
        self.inner.validation.check(&claims, now, issuer)?;
        Ok(claims)
    }
}

impl VerifierBuilder {
    fn new(keys: BuilderKeys) -> Self {
        Self {
            keys,
            validation: Validation::default(),
            #[cfg(feature = "fetch")]
            policy: FetchPolicy::default(),
            #[cfg(feature = "fetch")]
            timeout: Duration::from_secs(5),
        }
    }

    /// The `iss` every token must carry (Authify's `AUTHIFY_JWT_ISSUER`).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.validation.issuer = Some(issuer.into());
        self
    }

    /// An accepted `aud`; may be given several times. Without one, tokens that carry an `aud`
    /// are refused (Authify's own tokens carry none).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.validation.audiences.push(audience.into());
        self
    }

    /// Clock skew tolerated on `exp`, `nbf` and `iat` (default 60 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.validation.leeway = i64::try_from(leeway.as_secs()).unwrap_or(i64::MAX);
        self
    }

    /// Whether a token without `exp` is refused (default: yes; Authify always signs one).
    pub fn require_exp(mut self, required: bool) -> Self {
        self.validation.require_exp = required;
        self
    }

    /// The least time between two fetches caused by unknown kids or failures (default 10 s).
    #[cfg(feature = "fetch")]
    pub fn refetch_interval(mut self, interval: Duration) -> Self {
        self.policy.refetch_interval = interval;
        self
    }

    /// How long a JWK Set answered without `Cache-Control: max-age` stays fresh (default 5 min).
    #[cfg(feature = "fetch")]
    pub fn default_max_age(mut self, max_age: Duration) -> Self {
        self.policy.default_max_age = max_age;
        self
    }

    /// The timeout of each fetch (default 5 s).
    #[cfg(feature = "fetch")]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The verifier. Makes the HTTP client but fetches nothing: the first `verify` (or
    /// [`Verifier::refresh`]) does.
    pub fn build(self) -> Result<Verifier, Error> {
        let keys = match self.keys {
            BuilderKeys::Fixed(keys) => Keys::Fixed(Arc::new(keys)),
            #[cfg(feature = "fetch")]
            BuilderKeys::Remote(source) => {
                let client = crate::fetch::HttpClient::new(self.timeout)?;
                Keys::Remote(Box::new(RemoteKeys::new(source, client, self.policy)))
            }
        };
        Ok(Verifier { inner: Arc::new(Inner { keys, validation: self.validation }) })
    }
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
