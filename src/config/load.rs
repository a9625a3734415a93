//! Loading the settings: defaults, then the optional TOML file, then `AUTHIFY_*` variables, each
//! list parsed into its type, and one validation pass; a bad value stops start-up with one line
//! naming the setting.

use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Deserializer};

use super::Settings;

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
                .split("__")
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
        self.validate_http()?;
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
        self.external_login.validate()?;
        self.validate_keys()?;
        Ok(self)
    }

    /// Checks the connection limits and timeouts (docs/limits.md).
    fn validate_http(&self) -> Result<(), ConfigError> {
        for (setting, value) in [
            ("AUTHIFY_HTTP_HEADER_TIMEOUT_SECONDS", self.http_header_timeout_seconds as usize),
            ("AUTHIFY_HTTP_BODY_TIMEOUT_SECONDS", self.http_body_timeout_seconds as usize),
            ("AUTHIFY_HTTP_MAX_CONNECTIONS", self.http_max_connections),
            ("AUTHIFY_DB_TIMEOUT_SECONDS", self.db_timeout_seconds as usize),
        ] {
            if value == 0 {
                return Err(ConfigError::new(setting, "must be at least 1"));
            }
        }
        if self.http_max_header_bytes < 8192 {
            return Err(ConfigError::new("AUTHIFY_HTTP_MAX_HEADER_BYTES", "must be at least 8192"));
        }
        Ok(())
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
        if let Some(file) = &self.mail_ca_file {
            if self.mail_tls == super::MailTls::None {
                return Err(ConfigError::new("AUTHIFY_MAIL_CA_FILE", "needs AUTHIFY_MAIL_TLS=starttls or tls"));
            }
            if !file.is_file() {
                return Err(ConfigError::new(
                    "AUTHIFY_MAIL_CA_FILE",
                    format!("{} is not a readable file", file.display()),
                ));
            }
        }
        if self.mail_lease_seconds < 5 {
            return Err(ConfigError::new("AUTHIFY_MAIL_LEASE_SECONDS", "must be at least 5"));
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

pub(super) fn only_false_disables<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
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
    fn connection_limits_are_checked_at_start_up() {
        let number = |key: &str, value: u64| {
            Settings::extract(Figment::from(Serialized::defaults(Settings::default())).merge((key, value)))
        };
        assert_eq!(number("http_header_timeout_seconds", 3).expect("valid").http_header_timeout_seconds, 3);
        for setting in ["http_header_timeout_seconds", "http_body_timeout_seconds", "http_max_connections"] {
            let refused = number(setting, 0);
            assert!(refused.is_err_and(|e| e.setting == format!("AUTHIFY_{}", setting.to_uppercase())), "{setting}");
        }
        assert!(number("http_max_header_bytes", 8192).is_ok());
        assert!(number("http_max_header_bytes", 8191).is_err_and(|e| e.setting == "AUTHIFY_HTTP_MAX_HEADER_BYTES"));
    }

    #[test]
    fn shared_keys_need_a_publish_delay_of_the_jwks_max_age_plus_a_minute() {
        let days = Figment::from(Serialized::defaults(Settings::default())).merge(("key_rotation_days", 30));
        let s = Settings::extract(days).expect("valid");
        assert!(s.shared_keys() && s.key_rotation_period() == Some(30 * 86_400));
        assert!(!Settings::default().shared_keys(), "files by default");
        let figment = |delay: u32| {
            Figment::from(Serialized::defaults(Settings::default()))
                .merge(("key_store", "database"))
                .merge(("key_rotation_delay", delay))
        };
        assert!(Settings::extract(figment(360)).is_ok());
        let refused = Settings::extract(figment(359));
        assert!(refused.is_err_and(|e| e.setting == "AUTHIFY_KEY_ROTATION_DELAY"));
        let files = Figment::from(Serialized::defaults(Settings::default())).merge(("key_rotation_delay", 5));
        assert!(Settings::extract(files).is_ok(), "key files keep the old rule");
        assert!(with("key_store", "redis").is_err_and(|e| e.setting == "AUTHIFY_KEY_STORE"));
        let never = Figment::from(Serialized::defaults(Settings::default())).merge(("key_poll_ms", 0));
        assert!(Settings::extract(never).is_err_and(|e| e.setting == "AUTHIFY_KEY_POLL_MS"));
    }

    proptest::proptest! {
        /// Any settings file, well-formed or not, is loaded or refused with an error naming a
        /// setting; never a panic.
        #[test]
        fn any_settings_file_is_loaded_or_refused_naming_a_setting(
            lines in proptest::collection::vec(
                (
                    proptest::prop_oneof![
                        proptest::strategy::Just("db_url".to_owned()),
                        proptest::strategy::Just("jwt_expiration".to_owned()),
                        proptest::strategy::Just("trusted_proxies".to_owned()),
                        proptest::strategy::Just("lockout_minutes".to_owned()),
                        proptest::strategy::Just("cors_origins".to_owned()),
                        proptest::strategy::Just("login_redirect_uris".to_owned()),
                        proptest::strategy::Just("oidc_providers.x.issuer".to_owned()),
                        proptest::strategy::Just("key_rotation_delay".to_owned()),
                        "[a-z_.]{1,20}",
                    ],
                    proptest::prop_oneof!["\"[^\"\\\\]{0,30}\"", "-?[0-9]{1,12}", "true|false", "\\[\\]", "\\PC{0,20}"],
                ),
                0..6,
            )
        ) {
            let toml: String = lines.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
            let figment = Figment::from(Serialized::defaults(Settings::default())).merge(Toml::string(&toml));
            if let Err(err) = Settings::extract(figment) {
                proptest::prop_assert!(!err.setting.is_empty(), "{}", err);
            }
        }
    }

    #[test]
    fn external_providers_come_from_toml_tables_or_nested_variables() {
        let toml = r#"
            login_redirect_uris = ["https://app.example.com/signed-in"]
            [oidc_providers.entra]
            issuer = "https://login.microsoftonline.com/organizations/v2.0/"
            client_id = "abc"
            client_secret = "s3cret"
            allowed_tenants = ["t1"]
        "#;
        let figment = Figment::from(Serialized::defaults(Settings::default())).merge(Toml::string(toml));
        let s = Settings::extract(figment).expect("valid");
        let entra = &s.external_login.oidc_providers["entra"];
        assert_eq!(entra.issuer, "https://login.microsoftonline.com/organizations/v2.0");
        assert_eq!(entra.scopes, ["openid", "email", "profile"]);
        assert!(entra.create_users && !entra.link_by_email);
        assert_eq!(format!("{:?}", entra.client_secret), "Some(\"***\")");
        assert_eq!(s.external_login.login_redirect_uris, ["https://app.example.com/signed-in"]);
        // AUTHIFY_OIDC_PROVIDERS__GOOGLE__ISSUER and friends split on `__` into the same table.
        let env = Figment::from(Serialized::defaults(Settings::default()))
            .merge(("oidc_providers.google.issuer", "https://accounts.google.com"))
            .merge(("oidc_providers.google.client_id", "id"))
            .merge(("login_redirect_uris", "https://a.example/cb, https://b.example/cb"));
        let s = Settings::extract(env).expect("valid");
        assert_eq!(s.external_login.oidc_providers["google"].client_id, "id");
        assert_eq!(s.external_login.login_redirect_uris.len(), 2);
        let bad = Figment::from(Serialized::defaults(Settings::default()))
            .merge(("oidc_providers.x.issuer", "accounts.google.com"))
            .merge(("oidc_providers.x.client_id", "id"));
        assert!(Settings::extract(bad).is_err_and(|e| e.setting == "AUTHIFY_OIDC_PROVIDERS__X__ISSUER"));
        assert!(with("login_redirect_uris", "/relative").is_err_and(|e| e.setting == "AUTHIFY_LOGIN_REDIRECT_URIS"));
    }

    #[test]
    fn cors_star_means_any_origin() {
        let s = Settings::default();
        assert_eq!(s.cors_origins.allow_list(), None);
        let s = with("cors_origins", "https://a.example, https://b.example").expect("valid");
        assert_eq!(s.cors_origins.allow_list(), Some(&["https://a.example".into(), "https://b.example".into()][..]));
    }
}
