//! Typed settings: defaults < optional TOML file < `AUTHIFY_*` environment variables.
//!
//! Every setting keeps Authify's environment name; the TOML file uses the same names in lower case
//! without the prefix (`jwt_issuer = "..."`). Bad values stop start-up with one line naming the
//! setting (see [`ConfigError`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::crypto::Algorithm;

mod external_login;
mod keys;
mod lists;
mod load;
mod passkeys;
mod sessions;

pub use external_login::{ExternalLoginSettings, OidcProvider};
pub use keys::KeyStore;
pub use lists::{CorsOrigins, LockoutIntervals, OriginList, PathList, TrustedProxies};
pub use load::ConfigError;
pub use passkeys::PasskeySettings;
pub use sessions::SessionSettings;

/// The effective settings of one Authify process.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    /// AUTHIFY_DB_URL: `sqlite://…`, `postgres://…` or `mysql://…` (Authify's `sqlite3://` and
    /// `mysql2://` spellings are accepted).
    pub db_url: String,
    /// AUTHIFY_LISTEN: address and port to serve on.
    pub listen: SocketAddr,
    /// AUTHIFY_HTTP_HEADER_TIMEOUT_SECONDS: a request head must arrive within this; also how long
    /// an idle keep-alive connection stays open (default 10).
    pub http_header_timeout_seconds: u64,
    /// AUTHIFY_HTTP_BODY_TIMEOUT_SECONDS: a request body must arrive within this, or 408 (default 10).
    pub http_body_timeout_seconds: u64,
    /// AUTHIFY_HTTP_MAX_CONNECTIONS: open connections at most; past it new ones are closed at once
    /// (default 16384).
    pub http_max_connections: usize,
    /// AUTHIFY_HTTP_MAX_HEADER_BYTES: the largest request head (request line and headers); larger
    /// ones are refused with 431 (default 32768, at least 8192).
    pub http_max_header_bytes: usize,
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
    #[serde(deserialize_with = "load::only_false_disables")]
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
    /// AUTHIFY_KEY_ROTATION_DELAY: seconds between `authify keys rotate` (or a scheduled rotation)
    /// and the new key's first signature (it is published from the start). With shared keys it
    /// must be at least AUTHIFY_JWKS_MAX_AGE + 60.
    pub key_rotation_delay: u32,
    /// AUTHIFY_KEY_STORE: `files` (default) or `database` (shared by every instance; the files are
    /// imported at first start). AUTHIFY_KEY_ROTATION_DAYS above 0 implies `database`.
    pub key_store: KeyStore,
    /// AUTHIFY_KEY_ROTATION_DAYS: a new signing key every this many days, published
    /// AUTHIFY_KEY_ROTATION_DELAY seconds before it signs (default 0: no scheduled rotation).
    pub key_rotation_days: u32,
    /// AUTHIFY_KEY_POLL_MS: how often each instance reads the key store and performs the steps that
    /// are due (milliseconds; default 10000). An emergency rotation reaches every instance within it.
    pub key_poll_ms: u64,
    /// AUTHIFY_KEY_ENCRYPTION_KEY_PATH: the 256-bit key (base64, mode 0600) that seals the private
    /// keys in the key store; generated at first start when missing; the same file on every
    /// instance. Default: the TOTP key file (AUTHIFY_TOTP_KEY_PATH).
    pub key_encryption_key_path: Option<PathBuf>,
    /// AUTHIFY_KEY_ENCRYPTION_KEY: the same key given as base64 in the environment (for secret
    /// stores that inject variables); when set, AUTHIFY_KEY_ENCRYPTION_KEY_PATH is not read.
    pub key_encryption_key: Option<SecretString>,
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
    /// AUTHIFY_DB_TIMEOUT_SECONDS: how long a request waits for a database connection (opening one
    /// included) before it answers 503; so the bound on a request while the database is down.
    pub db_timeout_seconds: u64,
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
    /// prefix (default: docs/settings.md).
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
    /// AUTHIFY_MAIL_CA_FILE: PEM certificates trusted for the SMTP server besides the Mozilla
    /// roots (a private CA, or a relay's self-signed certificate); needs `starttls` or `tls`.
    pub mail_ca_file: Option<PathBuf>,
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
    /// AUTHIFY_MAIL_LEASE_SECONDS: how long a sender holds a mail it is sending; mail held by an
    /// instance that died is sent by another (or the restarted one) after this (at least 5).
    pub mail_lease_seconds: u32,
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
    /// Sign-in through external OpenID Connect providers (see [`ExternalLoginSettings`]).
    #[serde(flatten)]
    pub external_login: ExternalLoginSettings,
    /// Passkeys: the WebAuthn relying party (see [`PasskeySettings`]).
    #[serde(flatten)]
    pub passkeys: PasskeySettings,
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
            http_header_timeout_seconds: 10,
            http_body_timeout_seconds: 10,
            http_max_connections: 16384,
            http_max_header_bytes: 32768,
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
            key_store: KeyStore::Files,
            key_rotation_days: 0,
            key_poll_ms: 10_000,
            key_encryption_key_path: None,
            key_encryption_key: None,
            password_hash_concurrency: 0,
            password_hash_queue: 0,
            password_hash_wait_ms: 150,
            db_max_connections: 10,
            db_timeout_seconds: 3,
            sqlite_fsync: false,
            credential_cache_seconds: 5,
            mail_tls: MailTls::None,
            mail_ca_file: None,
            mail_username: None,
            mail_password: None,
            mail_dir: "mail".into(),
            mail_poll_ms: 5000,
            mail_retry_seconds: 30,
            mail_lease_seconds: 300,
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
            passkeys: PasskeySettings::default(),
            external_login: ExternalLoginSettings::default(),
        }
    }
}

impl Settings {
    /// Where the TOTP encryption key lives.
    pub fn totp_key_file(&self) -> PathBuf {
        match &self.totp_key_path {
            Some(path) => path.clone(),
            None => self.privkey_path.parent().unwrap_or(Path::new(".")).join("totp.key"),
        }
    }

    /// Where the key that seals the shared signing keys lives.
    pub fn key_encryption_key_file(&self) -> PathBuf {
        self.key_encryption_key_path.clone().unwrap_or_else(|| self.totp_key_file())
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
