//! What a verified Authify token says, typed, with the claims this crate does not name available
//! through [`Claims::extra`] (the signed payload is kept, and read again only when asked: a
//! `#[serde(flatten)]` map would buffer every claim on every verification).
//!
//! Names and types are Authify's (`src/domain/claims.rs` of the server): `user` with `username`,
//! `uid` and `organizations`; `scopes` as a list; `sub`, `sid` and `akid` as strings (`sid` was a
//! number in older builds, and both are read). The RFC 9068 fields of OpenID-provider access
//! tokens (`client_id`, `scope` as a space-separated string, `aud`) are read too.

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// The claims of a verified token.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[non_exhaustive]
pub struct Claims {
    /// The issuer (Authify's `AUTHIFY_JWT_ISSUER`).
    #[serde(default)]
    pub iss: Option<String>,
    /// The subject: the user's id as a string.
    #[serde(default, deserialize_with = "string_or_number")]
    pub sub: Option<String>,
    /// The audiences (`aud` as a string or a list); empty when absent. Authify tokens have none.
    #[serde(default, deserialize_with = "one_or_many")]
    pub aud: Vec<String>,
    /// Expiry, Unix seconds.
    #[serde(default, deserialize_with = "numeric_date")]
    pub exp: Option<i64>,
    /// Not before, Unix seconds.
    #[serde(default, deserialize_with = "numeric_date")]
    pub nbf: Option<i64>,
    /// Issued at, Unix seconds.
    #[serde(default, deserialize_with = "numeric_date")]
    pub iat: Option<i64>,
    /// The token's unique id.
    #[serde(default)]
    pub jti: Option<String>,
    /// Authify's scopes (`user_access`, `admin_access`).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// RFC 9068 / OAuth 2.0: space-separated scopes of an OpenID-provider access token.
    #[serde(default)]
    pub scope: Option<String>,
    /// RFC 9068: the OAuth client the token was issued to.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Authify's description of the token's user.
    #[serde(default)]
    pub user: Option<User>,
    /// The `inject` object of the token request.
    #[serde(default)]
    pub custom: Option<Map<String, Value>>,
    /// Who obtained the token on the user's behalf (RFC 8693), e.g. `delegate:<name>`.
    #[serde(default)]
    pub act: Option<Actor>,
    /// The session the token continues (ending the session revokes the token at Authify).
    #[serde(default, deserialize_with = "string_or_number")]
    pub sid: Option<String>,
    /// The API key the token was minted with.
    #[serde(default, deserialize_with = "string_or_number")]
    pub akid: Option<String>,
    /// The payload as signed (JSON), for [`Claims::extra`] and [`Claims::get`].
    #[serde(skip)]
    pub(crate) payload: Vec<u8>,
}

/// `user`: who the token is for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct User {
    /// The user's email.
    pub username: String,
    /// The user's id.
    pub uid: i64,
    /// The organizations the user belongs to.
    #[serde(default)]
    pub organizations: Vec<Organization>,
}

/// An organization of the user, with the groups of it they are in.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Organization {
    /// The organization's name.
    pub name: String,
    /// The organization's id.
    pub oid: i64,
    /// Whether the user administers the organization.
    #[serde(default)]
    pub admin: bool,
    /// The groups of it the user is in.
    #[serde(default)]
    pub memberships: Vec<Group>,
}

/// A group the user is a member of.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Group {
    /// The group's name.
    pub name: String,
    /// The group's id.
    pub gid: i64,
}

/// `act`: the party acting for the user.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Actor {
    /// Who acts: `delegate:<name>` for an Authify trusted delegate.
    pub sub: String,
}

impl Claims {
    /// Parses a payload (JSON) and keeps it for [`Claims::extra`].
    pub(crate) fn from_payload(payload: Vec<u8>) -> Result<Self, serde_json::Error> {
        let claims: Claims = serde_json::from_slice(&payload)?;
        Ok(Claims { payload, ..claims })
    }

    /// Any claim of the token by name, as signed (named ones included).
    pub fn get(&self, name: &str) -> Option<Value> {
        let mut all: Map<String, Value> = serde_json::from_slice(&self.payload).ok()?;
        all.remove(name)
    }

    /// The claims this type does not name, as signed.
    pub fn extra(&self) -> Map<String, Value> {
        const NAMED: [&str; 15] = [
            "iss",
            "sub",
            "aud",
            "exp",
            "nbf",
            "iat",
            "jti",
            "scopes",
            "scope",
            "client_id",
            "user",
            "custom",
            "act",
            "sid",
            "akid",
        ];
        let mut all: Map<String, Value> = serde_json::from_slice(&self.payload).unwrap_or_default();
        all.retain(|name, _| !NAMED.contains(&name.as_str()));
        all
    }

    /// Whether the token grants `scope`, in Authify's `scopes` list or in an RFC 9068 `scope` string.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
            || self.scope.as_deref().is_some_and(|list| list.split(' ').any(|s| s == scope))
    }

    /// The user's id: `sub`, or `user.uid` for tokens without `sub`.
    pub fn subject(&self) -> Option<String> {
        self.sub.clone().or_else(|| self.user.as_ref().map(|user| user.uid.to_string()))
    }

    /// The trusted delegate a token was minted through (`act.sub = "delegate:<name>"`).
    pub fn delegate_name(&self) -> Option<&str> {
        self.act.as_ref()?.sub.strip_prefix("delegate:")
    }
}

/// A NumericDate: integer seconds, or fractional ones (truncated), as ruby-jwt accepts.
fn numeric_date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    match Option::<serde_json::Number>::deserialize(deserializer)? {
        None => Ok(None),
        Some(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom("not a NumericDate")),
    }
}

fn string_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Text(String),
        Number(i64),
    }
    Ok(Option::<Id>::deserialize(deserializer)?.map(|id| match id {
        Id::Text(text) => text,
        Id::Number(n) => n.to_string(),
    }))
}

fn one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Audience {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<Audience>::deserialize(deserializer)? {
        None => Vec::new(),
        Some(Audience::One(one)) => vec![one],
        Some(Audience::Many(many)) => many,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: Value) -> Result<Claims, serde_json::Error> {
        Claims::from_payload(value.to_string().into_bytes())
    }

    #[test]
    fn an_authify_token_reads_with_its_names_and_types() {
        let claims = parse(json!({
            "exp": 1900, "iat": 1000, "iss": "My Awesome Company Inc.", "scopes": ["user_access", "admin_access"],
            "user": {"username": "someuser@mycompany.com", "uid": 172, "organizations": [
                {"name": "acme", "oid": 4, "admin": true, "memberships": [{"name": "ops", "gid": 9}]}
            ]},
            "custom": {"foo": "bar"}, "sub": "172", "jti": "abc", "act": {"sub": "delegate:portal"},
            "sid": "31", "akid": "8", "tenant": "blue",
        }))
        .expect("claims");
        assert_eq!((claims.exp, claims.iat, claims.nbf), (Some(1900), Some(1000), None));
        assert_eq!(claims.iss.as_deref(), Some("My Awesome Company Inc."));
        assert!(claims.has_scope("admin_access") && !claims.has_scope("admin"));
        let user = claims.user.as_ref().expect("user");
        assert_eq!((user.uid, user.username.as_str()), (172, "someuser@mycompany.com"));
        assert_eq!(user.organizations[0].memberships[0], Group { name: "ops".into(), gid: 9 });
        assert!(user.organizations[0].admin);
        assert_eq!(claims.custom.as_ref().and_then(|c| c.get("foo")), Some(&json!("bar")));
        assert_eq!(claims.delegate_name(), Some("portal"));
        assert_eq!((claims.sid.as_deref(), claims.akid.as_deref()), (Some("31"), Some("8")));
        assert_eq!(claims.subject().as_deref(), Some("172"));
        assert_eq!(claims.extra().get("tenant"), Some(&json!("blue")), "unnamed claims are kept");
        assert!(claims.extra().get("sub").is_none(), "named claims are not repeated in extra");
        assert_eq!(claims.get("sub"), Some(json!("172")));
    }

    #[test]
    fn older_and_rfc_9068_tokens_read() {
        let old = parse(json!({"exp": 1.5e3, "iss": "i", "sid": 12,
            "user": {"username": "a@b.c", "uid": 5, "organizations": []}}))
        .expect("older token");
        assert_eq!((old.exp, old.sid.as_deref(), old.subject().as_deref()), (Some(1500), Some("12"), Some("5")));
        let access = parse(json!({"aud": "api", "scope": "read write", "client_id": "portal", "sub": "9"}))
            .expect("RFC 9068 token");
        assert_eq!(access.aud, ["api"]);
        assert!(access.has_scope("write") && !access.has_scope("read write"));
        assert_eq!(access.client_id.as_deref(), Some("portal"));
        let many = parse(json!({"aud": ["a", "b"]})).expect("aud list");
        assert_eq!(many.aud, ["a", "b"]);
        assert_eq!(parse(json!({})).expect("empty").exp, None);
    }

    #[test]
    fn a_claim_of_the_wrong_type_does_not_parse() {
        for bad in [
            json!({"exp": "soon"}),
            json!({"scopes": "user_access"}),
            json!({"user": {"uid": "x", "username": "a"}}),
            json!({"aud": 3}),
            json!({"sid": true}),
        ] {
            assert!(parse(bad.clone()).is_err(), "{bad}");
        }
    }
}
