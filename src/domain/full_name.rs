use super::InvalidValue;

/// A person's name as stored on a user: trimmed, at most 255 characters, no control characters
/// (no line breaks to forge lines in a mail that quotes it). One rule wherever a name is written:
/// signup, a profile update, an admin creating a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullName(String);

impl FullName {
    pub const MAX_CHARS: usize = 255;

    /// `None` for a blank name; `field` names the attribute in the error.
    pub fn parse(raw: &str, field: &'static str) -> Result<Option<Self>, InvalidValue> {
        let name = raw.trim();
        if name.is_empty() {
            return Ok(None);
        }
        if name.chars().count() > Self::MAX_CHARS || name.chars().any(char::is_control) {
            return Err(InvalidValue::new(field, format!("must be at most {} printable characters", Self::MAX_CHARS)));
        }
        Ok(Some(Self(name.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(
            FullName::parse("  Ada Lovelace ", "name").map(|n| n.map(FullName::into_inner)),
            Ok(Some("Ada Lovelace".into()))
        );
        assert_eq!(FullName::parse("   ", "name"), Ok(None));
        assert!(FullName::parse(&"é".repeat(255), "name").is_ok());
        assert_eq!(FullName::parse(&"x".repeat(256), "full-name").map_err(|e| e.field), Err("full-name"));
        assert!(FullName::parse("Ada\nClick https://evil.example", "name").is_err());
        assert!(FullName::parse("Ada\u{7}", "name").is_err());
    }
}
