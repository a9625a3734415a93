use std::fmt;

use super::InvalidValue;

/// A value as a client submitted it: parsed where it arrived (the handler, the command line), with
/// the text kept for the uses that need it as given (a login name counted by the lockout, an audit
/// line). The service decides when a parse failure is answered, so the order of checks (who may ask
/// before what they asked for) stays the service's. `Debug` never shows the text: it may be a password.
#[derive(Clone)]
pub struct Submitted<T> {
    text: String,
    parsed: Result<T, InvalidValue>,
}

impl<T> Submitted<T> {
    pub fn parse(text: impl Into<String>, parse: impl FnOnce(&str) -> Result<T, InvalidValue>) -> Self {
        let text = text.into();
        let parsed = parse(&text);
        Self { text, parsed }
    }

    /// The parsed value, or why the text is not one.
    pub fn value(&self) -> Result<&T, InvalidValue> {
        self.parsed.as_ref().map_err(Clone::clone)
    }

    pub fn into_value(self) -> Result<T, InvalidValue> {
        self.parsed
    }

    /// The text as submitted.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl<T> fmt::Debug for Submitted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.parsed {
            Ok(_) => "valid",
            Err(_) => "invalid",
        };
        write!(f, "Submitted({state}, {} bytes)", self.text.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Email, Password};

    #[test]
    fn keeps_the_text_and_the_parse_and_never_prints_the_text() {
        let email = Submitted::parse(" Some@Example.com", Email::parse);
        assert_eq!(email.text(), " Some@Example.com");
        assert_eq!(email.value().map(Email::as_str), Ok("some@example.com"));
        let short = Submitted::parse("secret", Password::parse);
        assert_eq!(short.value().map(|_| ()).map_err(|e| e.field), Err("password"));
        let long = Submitted::parse("a secret password", Password::parse);
        assert!(!format!("{long:?}{short:?}").contains("secret"), "{long:?} {short:?}");
    }
}
