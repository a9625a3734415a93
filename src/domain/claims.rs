//! What an Authify token says, one type to sign and to read: Authify's claims (`exp`, `iat`,
//! `iss`, `scopes`, `user`, `custom` when injected) plus `sub` and `jti`, and when they apply
//! `act`, `sid` and `akid`.
//!
//! Reading is as loose as the tokens that exist: ruby-jwt lets `exp` and `iat` be absent, tokens
//! signed by Authify itself have no `sub` or `jti` (`user.uid` names the user), and older builds
//! wrote `sid` as a number. Claims of the wrong type do not parse; claims not named here are
//! ignored (the verified payload keeps them).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ids::{ApiKeyId, SessionId, UserId, user_id_as_string};

/// How `act.sub` names a trusted delegate: `delegate:<name>`.
pub const DELEGATE_ACTOR_PREFIX: &str = "delegate:";

/// One scope a token grants (`user_access`, `admin_access`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Scope(String);

impl Scope {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl From<&str> for Scope {
    fn from(scope: &str) -> Self {
        Self(scope.to_owned())
    }
}

/// One organization the user belongs to, with the groups of it they are in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationClaim {
    pub name: String,
    pub oid: i64,
    pub admin: bool,
    pub memberships: Vec<GroupClaim>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupClaim {
    pub name: String,
    pub gid: i64,
}

/// `user`: Authify's description of the token's user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserClaim {
    /// The email.
    pub username: String,
    pub uid: UserId,
    pub organizations: Vec<OrganizationClaim>,
}

/// `act`: who obtained the token on the user's behalf (RFC 8693).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActClaim {
    /// `delegate:<name>` for a trusted delegate.
    pub sub: String,
}

/// The claims of an Authify token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// Unix seconds; always signed, absent only in tokens from elsewhere that ruby-jwt accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Unix seconds; always signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default)]
    pub iss: String,
    #[serde(default)]
    pub scopes: Vec<Scope>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserClaim>,
    /// The `inject` object of the token request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<Map<String, Value>>,
    /// The user's id, as a string.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "user_id_as_string")]
    pub sub: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// The trusted delegate a token was minted through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<ActClaim>,
    /// The session the token continues: ending the session revokes the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<SessionId>,
    /// The API key the token was minted with: deleting the key revokes the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub akid: Option<ApiKeyId>,
    /// How the user signed in (RFC 8176), when not with a password: `["hwk", "user"]` for a passkey.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
}

impl Claims {
    /// `sub`, or Authify's `user.uid` for tokens without one.
    pub fn subject(&self) -> Option<UserId> {
        self.sub.or_else(|| self.user.as_ref().map(|user| user.uid))
    }

    /// `act.sub`: who obtained the token on the user's behalf (`delegate:<name>`), if anyone.
    pub fn actor(&self) -> Option<&str> {
        self.act.as_ref().map(|act| act.sub.as_str())
    }

    /// The delegate a token was minted through (`act.sub = "delegate:<name>"`), if any.
    pub fn delegate_name(&self) -> Option<&str> {
        self.actor()?.strip_prefix(DELEGATE_ACTOR_PREFIX)
    }

    /// Whether `scopes` holds `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s.as_str() == scope)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn signed() -> Claims {
        Claims {
            exp: Some(1900),
            iat: Some(1000),
            iss: "My Awesome Company Inc.".into(),
            scopes: vec![Scope::from("user_access")],
            user: Some(UserClaim {
                username: "someuser@mycompany.com".into(),
                uid: UserId(172),
                organizations: vec![OrganizationClaim {
                    name: "acme".into(),
                    oid: 4,
                    admin: true,
                    memberships: vec![GroupClaim { name: "ops".into(), gid: 9 }],
                }],
            }),
            custom: json!({"foo": "bar"}).as_object().cloned(),
            sub: Some(UserId(172)),
            jti: Some("abc".into()),
            act: Some(ActClaim { sub: "delegate:portal".into() }),
            sid: Some(SessionId(31)),
            akid: Some(ApiKeyId(8)),
            amr: None,
        }
    }

    #[test]
    fn claims_are_written_with_authifys_names_and_types() {
        let expected = json!({
            "exp": 1900, "iat": 1000, "iss": "My Awesome Company Inc.", "scopes": ["user_access"],
            "user": {"username": "someuser@mycompany.com", "uid": 172, "organizations": [
                {"name": "acme", "oid": 4, "admin": true, "memberships": [{"name": "ops", "gid": 9}]}
            ]},
            "custom": {"foo": "bar"}, "sub": "172", "jti": "abc", "act": {"sub": "delegate:portal"},
            "sid": "31", "akid": "8",
        });
        assert_eq!(serde_json::to_value(signed()).expect("json"), expected);
        assert_eq!(serde_json::from_value::<Claims>(expected).expect("claims"), signed());
    }

    #[test]
    fn optional_claims_are_left_out() {
        let claims = Claims { custom: None, act: None, sid: None, akid: None, ..signed() };
        let written = serde_json::to_value(claims).expect("json");
        for name in ["custom", "act", "sid", "akid"] {
            assert!(written.get(name).is_none(), "{name}");
        }
    }

    #[test]
    fn older_tokens_still_read() {
        let authify = json!({"exp": 1, "iat": 0, "iss": "i", "scopes": ["user_access"],
            "user": {"username": "a@b.c", "uid": 5, "organizations": []}, "sid": 12, "extra": [1]});
        let claims: Claims = serde_json::from_value(authify).expect("claims");
        assert_eq!(claims.subject(), Some(UserId(5)));
        assert_eq!(claims.sid, Some(SessionId(12)));
        assert_eq!(claims.jti, None);
        let bare: Claims = serde_json::from_value(json!({"iss": "i"})).expect("bare");
        assert_eq!((bare.subject(), bare.exp, bare.scopes.len()), (None, None, 0));
    }

    #[test]
    fn the_delegate_is_named_by_act() {
        assert_eq!(signed().delegate_name(), Some("portal"));
        let other = Claims { act: Some(ActClaim { sub: "client:x".into() }), ..signed() };
        assert_eq!((other.actor(), other.delegate_name()), (Some("client:x"), None));
    }

    #[test]
    fn a_claim_of_the_wrong_type_does_not_parse() {
        for bad in [json!({"sub": 172}), json!({"sid": "x"}), json!({"akid": 8}), json!({"scopes": "user_access"})] {
            assert!(serde_json::from_value::<Claims>(bad.clone()).is_err(), "{bad}");
        }
    }
}
