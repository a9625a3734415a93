//! Typed settings: defaults < optional TOML file < `AUTHIFY_*` environment variables.
//!
//! Every setting keeps Authify's environment name; the TOML file uses the same names in lower case
//! without the prefix (`jwt_issuer = "..."`). Bad values stop start-up with one line naming the
//! setting (see [`ConfigError`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Deserializer, Serialize};

use crate::crypto::Algorithm;

/// The effective settings of one Authify process.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    /// AUTHIFY_DB_URL: `sqlite://…`, `postgres://…` or `mysql://…` (Authify's `sqlite3://` and
    /// `mysql2://` spellings are accepted).
    pub db_url: String,
    /// AUTHIFY_LISTEN: address and port to serve on.
    pub listen: SocketAddr,
    /// AUTHIFY_PRIVKEY_PATH: PEM private key (PKCS#8 or SEC1).
    pub privkey_path: PathBuf,
    /// AUTHIFY_PUBKEY_PATH: PEM public key (SPKI).
    pub pubkey_path: PathBuf,
    /// AUTHIFY_JWT_ALGORITHM: ES256, ES384 or ES512.
    pub jwt_algorithm: Algorithm,
    /// AUTHIFY_JWT_ISSUER: the `iss` claim.
    pub jwt_issuer: String,
    /// AUTHIFY_JWT_EXPIRATION: token lifetime in minutes.
    pub jwt_expiration: u32,
    /// AUTHIFY_JWT_LEEWAY: seconds of clock skew tolerated when checking exp, nbf and iat.
    pub jwt_leeway: u32,
    /// AUTHIFY_VERIFICATIONS_REQUIRED: only `false` turns email verification off.
    #[serde(deserialize_with = "only_false_disables")]
    pub verifications_required: bool,
    /// AUTHIFY_MAIL_ADDRESS: SMTP relay host; none means the file transport under `mail/`.
    pub mail_address: Option<String>,
    /// AUTHIFY_MAIL_PORT
    pub mail_port: u16,
    /// AUTHIFY_MAIL_FROM
    pub mail_from: String,
    /// AUTHIFY_PUBLIC_URL: base of the links in discovery documents.
    pub public_url: String,
    /// AUTHIFY_CORS_ORIGINS: comma-separated allowed origins for the plain-JSON routes, or `*`.
    pub cors_origins: String,
    /// AUTHIFY_JWKS_MAX_AGE: seconds relying services may cache the JWKS.
    pub jwks_max_age: u32,
    /// AUTHIFY_PASSWORD_HASH_CONCURRENCY: argon2 hashes run at once (0 = one per core).
    pub password_hash_concurrency: usize,
    /// AUTHIFY_PASSWORD_HASH_QUEUE: password checks allowed to wait for a free slot (0 = 32 per slot);
    /// beyond it a login answers 503 with Retry-After at once.
    pub password_hash_queue: usize,
    /// AUTHIFY_DB_MAX_CONNECTIONS: size of the database pool.
    pub db_max_connections: u32,
    /// AUTHIFY_CREDENTIAL_CACHE_SECONDS: how long an API key checked against the database may be
    /// reused from memory (0 = always ask the database). Changes made through this instance apply
    /// at once; changes made by other instances sharing the database within this many seconds.
    pub credential_cache_seconds: u32,
    /// AUTHIFY_METRICS_TOKEN: a bearer secret Prometheus scrapers send to read `/metrics`; unset
    /// (the default), `/metrics` is open to loopback clients only (and to admins' tokens always).
    pub metrics_token: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            db_url: "sqlite://authify.db?mode=rwc".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 9292)),
            privkey_path: "keys/private.pem".into(),
            pubkey_path: "keys/public.pem".into(),
            jwt_algorithm: Algorithm::Es512,
            jwt_issuer: "My Awesome Company Inc.".into(),
            jwt_expiration: 15,
            jwt_leeway: 0,
            verifications_required: true,
            mail_address: None,
            mail_port: 25,
            mail_from: "noreply@localhost".into(),
            public_url: "http://127.0.0.1:9292".into(),
            cors_origins: "*".into(),
            jwks_max_age: 300,
            password_hash_concurrency: 0,
            password_hash_queue: 0,
            db_max_connections: 10,
            credential_cache_seconds: 5,
            metrics_token: None,
        }
    }
}

/// A setting that cannot be used; the message names it by its environment variable.
#[derive(Debug, thiserror::Error)]
#[error("{setting}: {problem}")]
pub struct ConfigError {
    pub setting: String,
    pub problem: String,
}

impl ConfigError {
    pub fn new(setting: &str, problem: impl Into<String>) -> Self {
        Self { setting: setting.to_string(), problem: problem.into() }
    }
}

impl Settings {
    /// Loads defaults, then the TOML file (if any), then `AUTHIFY_*` variables, and validates.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::new("AUTHIFY_CONFIG", format!("{} is not a readable file", path.display())));
            }
            figment = figment.merge(Toml::file(path));
        }
        figment = figment.merge(
            Env::prefixed("AUTHIFY_")
                .ignore(&["CONFIG"])
                .filter(|k| !k.as_str().to_ascii_lowercase().starts_with("test_")),
        );
        let settings: Settings = figment.extract().map_err(from_figment)?;
        settings.validated()
    }

    fn validated(mut self) -> Result<Self, ConfigError> {
        self.db_url = normalize_db_url(&self.db_url)?;
        if self.jwt_expiration == 0 {
            return Err(ConfigError::new("AUTHIFY_JWT_EXPIRATION", "must be at least 1 minute"));
        }
        if self.jwt_issuer.trim().is_empty() {
            return Err(ConfigError::new("AUTHIFY_JWT_ISSUER", "must not be empty"));
        }
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            return Err(ConfigError::new("AUTHIFY_PUBLIC_URL", "must start with http:// or https://"));
        }
        self.public_url = self.public_url.trim_end_matches('/').to_string();
        if self.db_max_connections == 0 {
            return Err(ConfigError::new("AUTHIFY_DB_MAX_CONNECTIONS", "must be at least 1"));
        }
        self.metrics_token = self.metrics_token.take().filter(|t| !t.trim().is_empty());
        if self.metrics_token.as_ref().is_some_and(|t| t.len() < 16) {
            return Err(ConfigError::new("AUTHIFY_METRICS_TOKEN", "must be at least 16 characters"));
        }
        Ok(self)
    }

    /// Number of argon2 computations allowed at once.
    pub fn hash_concurrency(&self) -> usize {
        match self.password_hash_concurrency {
            0 => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            n => n,
        }
    }

    /// Number of argon2 computations allowed to wait.
    pub fn hash_queue(&self) -> usize {
        match self.password_hash_queue {
            0 => 32 * self.hash_concurrency(),
            n => n,
        }
    }

    /// The allowed CORS origins; `None` means any origin.
    pub fn cors_allow_list(&self) -> Option<Vec<String>> {
        let origins: Vec<String> =
            self.cors_origins.split(',').map(|o| o.trim().to_string()).filter(|o| !o.is_empty()).collect();
        if origins.is_empty() || origins.iter().any(|o| o == "*") { None } else { Some(origins) }
    }
}

/// Accepts Authify's `mysql2://` and `sqlite3://` spellings and makes SQLite create its file.
fn normalize_db_url(url: &str) -> Result<String, ConfigError> {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://").ok_or_else(|| {
        ConfigError::new(
            "AUTHIFY_DB_URL",
            format!("`{url}` is not a URL (expected sqlite://, postgres:// or mysql://)"),
        )
    })?;
    let scheme = match scheme {
        "sqlite" | "sqlite3" => "sqlite",
        "postgres" | "postgresql" => "postgres",
        "mysql" | "mysql2" | "mariadb" => "mysql",
        other => {
            return Err(ConfigError::new(
                "AUTHIFY_DB_URL",
                format!("unsupported scheme `{other}` (expected sqlite://, postgres:// or mysql://)"),
            ));
        }
    };
    let mut normalized = format!("{scheme}://{rest}");
    if scheme == "sqlite" && !rest.contains("mode=") && !rest.starts_with(":memory:") {
        normalized.push_str(if rest.contains('?') { "&mode=rwc" } else { "?mode=rwc" });
    }
    Ok(normalized)
}

fn from_figment(err: figment::Error) -> ConfigError {
    let setting = match err.path.is_empty() {
        true => "AUTHIFY_CONFIG".to_string(),
        false => format!("AUTHIFY_{}", err.path.join("_").to_uppercase()),
    };
    ConfigError { setting, problem: err.kind.to_string() }
}

fn only_false_disables<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Flag::deserialize(deserializer)? {
        Flag::Bool(b) => b,
        Flag::Text(s) => !s.trim().eq_ignore_ascii_case("false"),
        Flag::Other(_) => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authify_spellings_of_database_urls_are_accepted() {
        assert_eq!(
            normalize_db_url("mysql2://root@localhost:3306/authifydb").ok().as_deref(),
            Some("mysql://root@localhost:3306/authifydb")
        );
        assert_eq!(normalize_db_url("sqlite3://x.db").ok().as_deref(), Some("sqlite://x.db?mode=rwc"));
        assert_eq!(normalize_db_url("sqlite://x.db?mode=ro").ok().as_deref(), Some("sqlite://x.db?mode=ro"));
        assert!(normalize_db_url("redis://x").is_err());
        assert!(normalize_db_url("nonsense").is_err());
    }

    #[test]
    fn cors_star_means_any_origin() {
        let mut s = Settings::default();
        assert_eq!(s.cors_allow_list(), None);
        s.cors_origins = "https://a.example, https://b.example".into();
        assert_eq!(s.cors_allow_list(), Some(vec!["https://a.example".into(), "https://b.example".into()]));
    }
}
