use std::fmt;

use super::{Email, InvalidValue};

/// A user's handle: 1–64 characters of `a-z`, `0-9`, `.`, `-` and `_`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Handle(String);

impl Handle {
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let handle = raw.trim().to_lowercase();
        let valid_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_');
        let starts_well = handle.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
        if handle.len() > Self::MAX_LEN || !starts_well || !handle.chars().all(valid_char) {
            return Err(InvalidValue::new(
                "handle",
                "must be 1 to 64 characters of a-z, 0-9, '.', '-' and '_', starting with a letter or digit",
            ));
        }
        Ok(Self(handle))
    }

    /// Authify's derivation: the email's local part, lower-cased, without dots, dashes and
    /// underscores (and anything else a handle may not hold); `user` when nothing is left.
    pub fn derive_from(email: &Email) -> Self {
        let base: String = email
            .local_part()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .take(Self::MAX_LEN - 8)
            .collect();
        Self(if base.is_empty() { "user".into() } else { base })
    }

    /// This handle with a numeric suffix, for when it is taken.
    pub fn with_suffix(&self, n: u32) -> Self {
        Self(format!("{}{n}", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The strict form: after trimming and lower-casing, `[a-z0-9][a-z0-9._-]{0,63}`.
    fn strict(raw: &str) -> bool {
        let text = raw.trim().to_lowercase();
        let mut chars = text.chars();
        text.len() <= Handle::MAX_LEN
            && chars.next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
    }

    proptest! {
        /// Exactly what the strict form allows is accepted, whatever the text.
        #[test]
        fn a_handle_is_accepted_exactly_when_it_has_the_strict_form(raw in "\\PC{0,80}|[A-Za-z0-9._ -]{0,70}") {
            prop_assert_eq!(Handle::parse(&raw).is_ok(), strict(&raw), "{:?}", raw);
        }
    }

    #[test]
    fn derived_handles_drop_separators() {
        let email = Email::parse("Some.User-Name_x+tag@example.com").expect("email");
        assert_eq!(Handle::derive_from(&email).as_str(), "someusernamextag");
        let email = Email::parse("._-@example.com").expect("email");
        assert_eq!(Handle::derive_from(&email).as_str(), "user");
        assert_eq!(Handle::derive_from(&email).with_suffix(2).as_str(), "user2");
    }

    #[test]
    fn handles_with_invalid_characters_are_refused() {
        assert!(Handle::parse("good.handle-1").is_ok());
        for bad in ["", "-x", "has space", "ünï", &"x".repeat(65)] {
            assert!(Handle::parse(bad).is_err(), "{bad:?}");
        }
    }
}
