//! The comma-separated settings, parsed once when the settings load (never on a request path).
//! Each reads from and writes back to the same text an operator writes
//! (`AUTHIFY_TRUSTED_PROXIES=10.0.0.0/8, 192.0.2.1`), so the TOML file, the environment and the
//! defaults keep their form; a bad item stops start-up with a message naming it.

use std::fmt;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

fn items(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// AUTHIFY_TRUSTED_PROXIES: reverse proxies whose `X-Forwarded-For` is believed (a bare IP is a
/// one-address network).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn nets(&self) -> &[IpNet] {
        &self.0
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    fn from_str(list: &str) -> Result<Self, String> {
        let parse = |item: &str| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| format!("`{item}` is not an IP address or CIDR"))
        };
        items(list).map(parse).collect::<Result<_, _>>().map(Self)
    }
}

/// AUTHIFY_LOCKOUT_MINUTES: the length of each successive lock, in seconds; the last repeats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LockoutIntervals(Vec<i64>);

impl Default for LockoutIntervals {
    /// 1, 5, 15 and 60 minutes.
    fn default() -> Self {
        Self(vec![60, 300, 900, 3600])
    }
}

impl LockoutIntervals {
    /// The length of the `n`-th lock (0-based) in seconds; the last configured length repeats.
    pub fn nth(&self, n: i32) -> i64 {
        let index = usize::try_from(n).unwrap_or(0).min(self.0.len().saturating_sub(1));
        self.0.get(index).copied().unwrap_or(60)
    }

    pub fn seconds(&self) -> &[i64] {
        &self.0
    }
}

impl FromStr for LockoutIntervals {
    type Err = String;

    fn from_str(list: &str) -> Result<Self, String> {
        let problem = || "must be comma-separated whole minutes, at least one".to_owned();
        let seconds: Vec<i64> = items(list)
            .map(|m| m.parse::<u32>().map(|m| i64::from(m) * 60).map_err(|_| problem()))
            .collect::<Result<_, _>>()?;
        if seconds.is_empty() { Err(problem()) } else { Ok(Self(seconds)) }
    }
}

/// A list given as an array (TOML) or as one comma-separated string (the environment).
pub(super) fn comma_separated<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Given {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Given::deserialize(deserializer)? {
        Given::One(list) => items(&list).map(str::to_owned).collect(),
        Given::Many(list) => list.into_iter().map(|item| item.trim().to_owned()).filter(|i| !i.is_empty()).collect(),
    })
}

/// AUTHIFY_RATE_LIMIT_PATHS: paths limited per client address; a trailing `*` matches a prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PathList(Vec<String>);

impl PathList {
    /// The paths limited by default: the ones that check a secret or send mail.
    pub fn default_paths() -> Self {
        [
            "/jwt/token",
            "/jwt/refresh",
            "/session",
            "/registration/*",
            "/me/password",
            "/oauth2/token",
            "/login",
            "/identities/oidc/*",
            "/passkeys/login/*",
        ]
        .map(str::to_owned)
        .into_iter()
        .collect::<Vec<_>>()
        .into()
    }

    pub fn paths(&self) -> &[String] {
        &self.0
    }
}

impl From<Vec<String>> for PathList {
    fn from(paths: Vec<String>) -> Self {
        Self(paths)
    }
}

impl FromStr for PathList {
    type Err = String;

    fn from_str(list: &str) -> Result<Self, String> {
        Ok(Self(items(list).map(str::to_owned).collect()))
    }
}

/// AUTHIFY_CORS_ORIGINS: the origins allowed on the plain-JSON routes; `*` (or nothing) means any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CorsOrigins(Option<Vec<String>>);

impl CorsOrigins {
    /// The allowed origins; `None` means any origin.
    pub fn allow_list(&self) -> Option<&[String]> {
        self.0.as_deref()
    }
}

impl FromStr for CorsOrigins {
    type Err = String;

    fn from_str(list: &str) -> Result<Self, String> {
        let origins: Vec<String> = items(list).map(str::to_owned).collect();
        Ok(Self((!origins.is_empty() && !origins.iter().any(|o| o == "*")).then_some(origins)))
    }
}

/// AUTHIFY_SESSION_ORIGINS: origins whose pages may send unsafe cookie-authenticated requests,
/// kept as browsers send `Origin` (no trailing slash, no default port).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OriginList(Vec<String>);

impl OriginList {
    pub fn origins(&self) -> &[String] {
        &self.0
    }
}

impl FromStr for OriginList {
    type Err = String;

    fn from_str(list: &str) -> Result<Self, String> {
        let http = |o: &str| {
            ["http://", "https://"].iter().any(|s| o.get(..s.len()).is_some_and(|p| p.eq_ignore_ascii_case(s)))
        };
        match items(list).find(|o| !http(o)) {
            // Named here: the setting sits in a flattened table, whose errors reach figment without a path.
            Some(bad) => Err(format!("AUTHIFY_SESSION_ORIGINS: {bad} is not an http(s) origin")),
            None => Ok(Self(items(list).map(|o| origin_of(o).to_owned()).collect())),
        }
    }
}

/// `scheme://host[:port]` of a URL, as a browser's `Origin` (RFC 6454): `https://a.example:443/x`
/// is `https://a.example`, else a configured default port would refuse every request.
pub fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..].find(['/', '?', '#']).map_or(url.len(), |i| after_scheme + i);
    let origin = &url[..end];
    for (scheme, port) in [("https://", ":443"), ("http://", ":80")] {
        let starts = origin.get(..scheme.len()).is_some_and(|s| s.eq_ignore_ascii_case(scheme));
        if starts && origin.ends_with(port) {
            return &origin[..origin.len() - port.len()];
        }
    }
    origin
}

macro_rules! text_forms {
    ($($list:ty => |$value:ident| $text:expr;)*) => {$(
        impl TryFrom<String> for $list {
            type Error = String;

            fn try_from(text: String) -> Result<Self, String> {
                text.parse()
            }
        }

        impl From<$list> for String {
            fn from($value: $list) -> String {
                $text
            }
        }

        impl fmt::Display for $list {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&String::from(self.clone()))
            }
        }
    )*};
}

text_forms! {
    TrustedProxies => |list| list.0.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
    LockoutIntervals => |list| list.0.iter().map(|s| (s / 60).to_string()).collect::<Vec<_>>().join(",");
    PathList => |list| list.0.join(",");
    CorsOrigins => |list| list.0.map_or_else(|| "*".to_owned(), |o| o.join(","));
    OriginList => |list| list.0.join(",");
}
