//! Typed settings: defaults < optional TOML file < `AUTHIFY_*` environment variables.
//!
//! Every setting keeps Authify's environment name; the TOML file uses the same names in lower case
//! without the prefix (`jwt_issuer = "..."`). Bad values stop start-up with one line naming the
//! setting (see [`ConfigError`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Deserializer, Serialize};

use crate::crypto::Algorithm;

mod lists;
mod sessions;

pub use lists::{CorsOrigins, LockoutIntervals, OriginList, PathList, TrustedProxies};
pub use sessions::SessionSettings;

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
    pub cors_origins: CorsOrigins,
    /// AUTHIFY_JWKS_MAX_AGE: seconds relying services may cache the JWKS.
    pub jwks_max_age: u32,
    /// AUTHIFY_KEY_ROTATION_DELAY: seconds between `authify keys rotate` and the new key's first
    /// signature (it is published from the start).
    pub key_rotation_delay: u32,
    /// AUTHIFY_PASSWORD_HASH_CONCURRENCY: argon2 hashes run at once (0 = one per core).
    pub password_hash_concurrency: usize,
    /// AUTHIFY_PASSWORD_HASH_QUEUE: password checks allowed to wait for a free slot (0 = 32 per slot);
    /// beyond it a login answers 503 with Retry-After.
    pub password_hash_queue: usize,
    /// AUTHIFY_PASSWORD_HASH_WAIT_MS: how long a password check waits for a free slot before it
    /// answers 503 with Retry-After (0 = as long as it takes).
    pub password_hash_wait_ms: u64,
    /// AUTHIFY_DB_MAX_CONNECTIONS: size of the database pool.
    pub db_max_connections: u32,
    /// AUTHIFY_SQLITE_FSYNC: sync every SQLite commit to disk (`synchronous = FULL`) instead of at
    /// checkpoints (`NORMAL`, the default: commits survive a process crash; a power loss may undo
    /// the last few, never corrupting the file). Ignored by PostgreSQL and MariaDB.
    pub sqlite_fsync: bool,
    /// AUTHIFY_CREDENTIAL_CACHE_SECONDS: how long an API key checked against the database may be
    /// reused from memory (0 = always ask the database). Changes made through this instance apply
    /// at once; changes made by other instances sharing the database within this many seconds.
    pub credential_cache_seconds: u32,
    /// AUTHIFY_METRICS_TOKEN: a bearer secret Prometheus scrapers send to read `/metrics`; unset
    /// (the default), `/metrics` is open to loopback clients only (and to admins' tokens always):
    /// the client as resolved through AUTHIFY_TRUSTED_PROXIES, not a local proxy's socket.
    pub metrics_token: Option<String>,
    /// AUTHIFY_TOTP_KEY_PATH: the 256-bit key (base64, mode 0600) that encrypts TOTP secrets at
    /// rest; generated at first start when missing. Default: `totp.key` beside AUTHIFY_PRIVKEY_PATH.
    pub totp_key_path: Option<PathBuf>,
    /// AUTHIFY_RATE_LIMIT_WINDOW: length in seconds of the rate-limit window (default 60).
    pub rate_limit_window: u32,
    /// AUTHIFY_RATE_LIMIT_PER_IP: requests one client IP may make to the rate-limited paths per
    /// window (default 120; 0 = no limit).
    pub rate_limit_per_ip: u32,
    /// AUTHIFY_RATE_LIMIT_PER_ACCOUNT: password logins per (client IP, account) per window
    /// (default 20; 0 = no limit).
    pub rate_limit_per_account: u32,
    /// AUTHIFY_RATE_LIMIT_PATHS: comma-separated paths limited per IP; a trailing `*` matches a
    /// prefix (default `/jwt/token,/jwt/refresh,/session,/registration/*,/me/password`).
    pub rate_limit_paths: PathList,
    /// AUTHIFY_TRUSTED_PROXIES: comma-separated IPs or CIDRs of reverse proxies whose
    /// `X-Forwarded-For` is believed (default none: the socket address is the client).
    pub trusted_proxies: TrustedProxies,
    /// AUTHIFY_REDIS_URL: `redis://…`; when set, rate-limit counters live there and are shared by
    /// every instance (default none: per-instance counters in memory).
    pub redis_url: Option<String>,
    /// AUTHIFY_REDIS_KEY_PREFIX: prefix of the rate-limit keys in Redis (default `authify`).
    pub redis_key_prefix: String,
    /// AUTHIFY_LOCKOUT_THRESHOLD: consecutive failed logins that lock an account (default 5;
    /// 0 = no lockout).
    pub lockout_threshold: u32,
    /// AUTHIFY_LOCKOUT_MINUTES: comma-separated lock durations in minutes, one per successive lock;
    /// the last repeats (default `1,5,15,60`).
    pub lockout_minutes: LockoutIntervals,
    /// AUTHIFY_MAIL_TLS: `none` (plain SMTP, for port-25 relays on the same host or network),
    /// `starttls` (upgrade on the port, usually 587) or `tls` (implicit TLS, usually 465).
    pub mail_tls: MailTls,
    /// AUTHIFY_MAIL_USERNAME: SMTP login; none means no AUTH.
    pub mail_username: Option<String>,
    /// AUTHIFY_MAIL_PASSWORD: SMTP password (never printed).
    pub mail_password: Option<SecretString>,
    /// AUTHIFY_MAIL_DIR: where the file transport writes one `.eml` per mail when no SMTP host is set.
    pub mail_dir: PathBuf,
    /// AUTHIFY_MAIL_POLL_MS: how often the outbox sender looks for due mail besides being woken
    /// after each commit (milliseconds).
    pub mail_poll_ms: u64,
    /// AUTHIFY_MAIL_RETRY_SECONDS: back-off after the first failed send; doubled after each further
    /// failure, at most one hour.
    pub mail_retry_seconds: u32,
    /// AUTHIFY_MAIL_MAX_ATTEMPTS: sends tried before a mail is given up (kept, marked failed, logged).
    pub mail_max_attempts: u32,
    /// AUTHIFY_MAIL_LIMIT_PER_RECIPIENT: mails queued per address per hour (0 = no limit).
    pub mail_limit_per_recipient: u32,
    /// AUTHIFY_MAIL_LIMIT_PER_IP: mails queued per client address per hour (0 = no limit).
    pub mail_limit_per_ip: u32,
    /// AUTHIFY_MAIL_LIMIT_PER_USER: mails queued per account per hour, whatever the address
    /// (reset, verification, email change); 0 = no limit.
    pub mail_limit_per_user: u32,
    /// AUTHIFY_EMAIL_TOKEN_MINUTES: how long a verification or reset token is valid.
    pub email_token_minutes: u32,
    /// AUTHIFY_EMAIL_TOKEN_ATTEMPTS: mailed-token attempts (verify, reset) per account and client
    /// address per 15 minutes; beyond it 429. Wrong tokens never wear out the live one.
    pub email_token_attempts: u32,
    /// AUTHIFY_TEMPLATES_DIR: a directory whose template files replace the built-in ones of the same
    /// name (docs/operations.md, "Mail templates"); none means the built-in templates.
    pub templates_dir: Option<PathBuf>,
    /// AUTHIFY_REQUEST_TEMPLATES_FOR_ALL: accept per-request `templates` from anyone, not only from
    /// trusted delegates (lets any caller choose what a mail says: off by default).
    pub request_templates_for_all: bool,
    /// Refresh tokens, browser sessions and revocation (see [`SessionSettings`]).
    #[serde(flatten)]
    pub sessions: SessionSettings,
}

/// How the SMTP connection is secured (AUTHIFY_MAIL_TLS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTls {
    None,
    Starttls,
    Tls,
}

/// A secret setting: `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"***\"")
    }
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
            cors_origins: CorsOrigins::default(),
            jwks_max_age: 300,
            key_rotation_delay: 900,
            password_hash_concurrency: 0,
            password_hash_queue: 0,
            password_hash_wait_ms: 150,
            db_max_connections: 10,
            sqlite_fsync: false,
            credential_cache_seconds: 5,
            mail_tls: MailTls::None,
            mail_username: None,
            mail_password: None,
            mail_dir: "mail".into(),
            mail_poll_ms: 5000,
            mail_retry_seconds: 30,
            mail_max_attempts: 10,
            mail_limit_per_recipient: 5,
            mail_limit_per_ip: 20,
            mail_limit_per_user: 5,
            email_token_minutes: 60,
            email_token_attempts: 5,
            templates_dir: None,
            request_templates_for_all: false,
            totp_key_path: None,
            rate_limit_window: 60,
            rate_limit_per_ip: 120,
            rate_limit_per_account: 20,
            rate_limit_paths: PathList::default_paths(),
            trusted_proxies: TrustedProxies::default(),
            redis_url: None,
            redis_key_prefix: "authify".into(),
            lockout_threshold: 5,
            lockout_minutes: LockoutIntervals::default(),
            metrics_token: None,
            sessions: SessionSettings::default(),
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
        Self::extract(figment)
    }

    /// Reads the merged sources into typed settings (every list parsed here) and validates them.
    fn extract(figment: Figment) -> Result<Self, ConfigError> {
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
        self.validate_mail()?;
        self.validate_protection()?;
        self.sessions.validate()?;
        Ok(self)
    }

    /// Checks the rate-limit, proxy, Redis and lockout settings.
    fn validate_protection(&self) -> Result<(), ConfigError> {
        if self.rate_limit_window == 0 {
            return Err(ConfigError::new("AUTHIFY_RATE_LIMIT_WINDOW", "must be at least 1 second"));
        }
        if let Some(url) = &self.redis_url
            && !(url.starts_with("redis://") || url.starts_with("rediss://") || url.starts_with("unix://"))
        {
            return Err(ConfigError::new("AUTHIFY_REDIS_URL", "must start with redis://, rediss:// or unix://"));
        }
        Ok(())
    }

    fn validate_mail(&mut self) -> Result<(), ConfigError> {
        self.mail_address = self.mail_address.take().map(|a| a.trim().to_owned()).filter(|a| !a.is_empty());
        if crate::domain::Email::parse(&self.mail_from).is_err() && !self.mail_from.contains('<') {
            return Err(ConfigError::new("AUTHIFY_MAIL_FROM", "must be an email address"));
        }
        if self.mail_password.is_some() && self.mail_username.is_none() {
            return Err(ConfigError::new("AUTHIFY_MAIL_PASSWORD", "needs AUTHIFY_MAIL_USERNAME"));
        }
        if self.mail_poll_ms == 0 {
            return Err(ConfigError::new("AUTHIFY_MAIL_POLL_MS", "must be at least 1"));
        }
        if self.mail_max_attempts == 0 {
            return Err(ConfigError::new("AUTHIFY_MAIL_MAX_ATTEMPTS", "must be at least 1"));
        }
        if self.email_token_minutes == 0 {
            return Err(ConfigError::new("AUTHIFY_EMAIL_TOKEN_MINUTES", "must be at least 1"));
        }
        if self.email_token_attempts == 0 {
            return Err(ConfigError::new("AUTHIFY_EMAIL_TOKEN_ATTEMPTS", "must be at least 1"));
        }
        if let Some(dir) = &self.templates_dir
            && !dir.is_dir()
        {
            return Err(ConfigError::new("AUTHIFY_TEMPLATES_DIR", format!("{} is not a directory", dir.display())));
        }
        Ok(())
    }

    /// Where the TOTP encryption key lives.
    pub fn totp_key_file(&self) -> PathBuf {
        match &self.totp_key_path {
            Some(path) => path.clone(),
            None => self.privkey_path.parent().unwrap_or(Path::new(".")).join("totp.key"),
        }
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

    /// How long a token may be checked after it was signed: its lifetime plus the leeway (seconds).
    pub fn token_lifetime(&self) -> i64 {
        i64::from(self.jwt_expiration) * 60 + i64::from(self.jwt_leeway)
    }

    /// How long a password check may wait for a hashing thread; `None` (0) waits as long as it takes.
    pub fn hash_wait_limit(&self) -> Option<Duration> {
        (self.password_hash_wait_ms > 0).then(|| Duration::from_millis(self.password_hash_wait_ms))
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

/// The setting figment's error is about: its path, or (for a flattened table's setting, which
/// figment reports without one) the `AUTHIFY_…: ` name the message starts with.
fn from_figment(err: figment::Error) -> ConfigError {
    let problem = err.kind.to_string();
    if !err.path.is_empty() {
        return ConfigError { setting: format!("AUTHIFY_{}", err.path.join("_").to_uppercase()), problem };
    }
    match problem.split_once(": ").filter(|(name, _)| name.starts_with("AUTHIFY_")) {
        Some((setting, rest)) => ConfigError::new(setting, rest),
        None => ConfigError { setting: "AUTHIFY_CONFIG".to_string(), problem },
    }
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

    /// The settings with `key = value` over the defaults, as the TOML file or the environment would give it.
    fn with(key: &str, value: &str) -> Result<Settings, ConfigError> {
        Settings::extract(Figment::from(Serialized::defaults(Settings::default())).merge((key, value)))
    }

    #[test]
    fn protection_settings_are_checked_at_start_up() {
        let s = with("trusted_proxies", "10.0.0.0/8, 192.0.2.1").expect("valid");
        assert_eq!(s.trusted_proxies.nets().len(), 2);
        assert_eq!(s.lockout_minutes.seconds(), [60, 300, 900, 3600]);
        assert!(with("trusted_proxies", "proxy.example").is_err_and(|e| e.setting == "AUTHIFY_TRUSTED_PROXIES"));
        assert!(with("lockout_minutes", "1,soon").is_err_and(|e| e.setting == "AUTHIFY_LOCKOUT_MINUTES"));
        assert!(with("redis_url", "http://redis").is_err_and(|e| e.setting == "AUTHIFY_REDIS_URL"));
        let origins = with("session_origins", "a.example");
        assert!(origins.as_ref().is_err_and(|e| e.setting == "AUTHIFY_SESSION_ORIGINS"), "{origins:?}");
    }

    #[test]
    fn cors_star_means_any_origin() {
        let s = Settings::default();
        assert_eq!(s.cors_origins.allow_list(), None);
        let s = with("cors_origins", "https://a.example, https://b.example").expect("valid");
        assert_eq!(s.cors_origins.allow_list(), Some(&["https://a.example".into(), "https://b.example".into()][..]));
    }
}
