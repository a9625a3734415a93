//! Scopes of the OpenID Provider: the OpenID Connect ones a user grants, and the ones a
//! confidential client may ask for itself (`client_credentials`).

use super::error::OauthError;

pub const OPENID: &str = "openid";
pub const PROFILE: &str = "profile";
pub const EMAIL: &str = "email";
pub const OFFLINE_ACCESS: &str = "offline_access";

/// The scopes a user can grant, in the order they are advertised.
pub const USER_SCOPES: [&str; 4] = [OPENID, PROFILE, EMAIL, OFFLINE_ACCESS];

/// The longest `scope` parameter accepted.
const MAX_SCOPE_LEN: usize = 1024;

/// A set of scope names, in request order, without duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(Vec<String>);

impl Scopes {
    /// Parses a space-separated `scope` parameter (RFC 6749 §3.3).
    pub fn parse(text: &str) -> Result<Self, OauthError> {
        if text.len() > MAX_SCOPE_LEN {
            return Err(OauthError::invalid_scope("scope is too long"));
        }
        let mut names: Vec<String> = Vec::new();
        for name in text.split(' ').filter(|name| !name.is_empty()) {
            if !name.bytes().all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b)) {
                return Err(OauthError::invalid_scope("scope names are printable ASCII without quotes or backslashes"));
            }
            if !names.iter().any(|known| known == name) {
                names.push(name.to_owned());
            }
        }
        Ok(Self(names))
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|known| known == name)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Refuses any name outside `allowed`.
    pub fn within(self, allowed: &[&str]) -> Result<Self, OauthError> {
        match self.0.iter().find(|name| !allowed.contains(&name.as_str())) {
            Some(name) => Err(OauthError::invalid_scope(format!("scope {name} is not available to this client"))),
            None => Ok(self),
        }
    }

    /// The space-separated form.
    pub fn to_text(&self) -> String {
        self.0.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_without_duplicates_and_refuse_odd_bytes() {
        let scopes = Scopes::parse("openid  email openid").expect("valid");
        assert_eq!(scopes.to_text(), "openid email");
        assert!(Scopes::parse("a\"b").is_err());
        assert!(Scopes::parse(&"a".repeat(2000)).is_err());
        assert!(Scopes::parse("openid email").expect("valid").within(&USER_SCOPES).is_ok());
        assert_eq!(Scopes::parse("admin").expect("valid").within(&USER_SCOPES).unwrap_err().code, "invalid_scope");
    }
}
