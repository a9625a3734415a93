use std::fmt;

use super::InvalidValue;

/// An email address, trimmed and lower-cased so that lookups and the unique index agree.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let email = raw.trim().to_lowercase();
        let invalid = || InvalidValue::new("email", format!("`{}` is not an email address", raw.trim()));
        if email.len() > Self::MAX_LEN || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
        let domain_ok = !domain.is_empty()
            && !domain.contains('@')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..");
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return Err(invalid());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the `@`.
    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Any text is refused or becomes an address that meets the rules and parses to itself.
        #[test]
        fn any_text_is_refused_or_normalised(raw in "\\PC{0,300}") {
            if let Ok(email) = Email::parse(&raw) {
                let text = email.as_str();
                prop_assert!(text.len() <= Email::MAX_LEN);
                prop_assert_eq!(text.matches('@').count(), 1);
                prop_assert!(!text.chars().any(|c| c.is_whitespace() || c.is_control()));
                prop_assert_eq!(text, text.to_lowercase());
                prop_assert_eq!(Email::parse(text).ok(), Some(email.clone()));
            }
        }

        #[test]
        fn ordinary_addresses_are_accepted(local in "[a-z0-9._%+-]{1,64}", domain in "[a-z0-9-]{1,20}(\\.[a-z0-9-]{1,20}){1,3}") {
            let raw = format!(" {}@{} ", local.to_uppercase(), domain);
            prop_assume!(raw.trim().len() <= Email::MAX_LEN);
            prop_assert_eq!(Email::parse(&raw).map(|e| e.0).ok(), Some(raw.trim().to_lowercase()));
        }
    }

    #[test]
    fn addresses_are_normalised_and_nonsense_refused() {
        assert_eq!(
            Email::parse("  Some.User@MyCompany.com ").map(|e| e.0).ok().as_deref(),
            Some("some.user@mycompany.com")
        );
        for bad in ["", "no-at-sign", "@example.com", "a@", "a@@b", "a b@c.d", "a@.com", "a@b..c", "a@b.c."] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
    }
}
