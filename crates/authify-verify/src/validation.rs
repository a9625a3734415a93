//! The claim checks after the signature: `exp`, `nbf`, `iat`, `iss`, `aud`, with leeway.

use crate::{Claims, Error};

/// What a verifier expects of a token's claims.
#[derive(Debug, Clone)]
pub(crate) struct Validation {
    /// The expected `iss`; `None` leaves `iss` unchecked.
    pub issuer: Option<String>,
    /// Accepted audiences; empty means the token must carry no `aud`.
    pub audiences: Vec<String>,
    /// Seconds of clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway: i64,
    pub require_exp: bool,
}

impl Default for Validation {
    fn default() -> Self {
        Self { issuer: None, audiences: Vec::new(), leeway: 60, require_exp: true }
    }
}

impl Validation {
    /// Checks `claims` at `now` (Unix seconds) against `issuer` (this validation's own, or the one
    /// discovery found).
    pub fn check(&self, claims: &Claims, now: i64, issuer: Option<&str>) -> Result<(), Error> {
        match claims.exp {
            Some(exp) if exp <= now - self.leeway => return Err(Error::Expired),
            None if self.require_exp => return Err(Error::MissingClaim("exp")),
            _ => {}
        }
        if claims.nbf.is_some_and(|nbf| nbf > now + self.leeway) {
            return Err(Error::NotYetValid);
        }
        if claims.iat.is_some_and(|iat| iat > now + self.leeway) {
            return Err(Error::IssuedInFuture);
        }
        if let Some(expected) = self.issuer.as_deref().or(issuer) {
            match claims.iss.as_deref() {
                None => return Err(Error::MissingClaim("iss")),
                Some(found) if found != expected => {
                    return Err(Error::WrongIssuer { expected: expected.to_owned(), found: found.to_owned() });
                }
                Some(_) => {}
            }
        }
        self.check_audience(claims)
    }

    fn check_audience(&self, claims: &Claims) -> Result<(), Error> {
        match (self.audiences.is_empty(), claims.aud.is_empty()) {
            (true, true) => Ok(()),
            // A token meant for named audiences is not for a verifier that names none (RFC 7519 §4.1.3).
            (true, false) => Err(Error::WrongAudience),
            (false, true) => Err(Error::MissingClaim("aud")),
            (false, false) if claims.aud.iter().any(|aud| self.audiences.contains(aud)) => Ok(()),
            (false, false) => Err(Error::WrongAudience),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000_000;

    fn claims() -> Claims {
        Claims { iss: Some("Authify".into()), exp: Some(NOW + 900), iat: Some(NOW), ..Claims::default() }
    }

    fn expect(issuer: Option<&str>) -> Validation {
        Validation { issuer: issuer.map(str::to_owned), ..Validation::default() }
    }

    #[test]
    fn a_fresh_token_passes() {
        assert_eq!(expect(Some("Authify")).check(&claims(), NOW, None), Ok(()));
        assert_eq!(expect(None).check(&claims(), NOW, Some("Authify")), Ok(()), "the discovered issuer");
        assert_eq!(expect(None).check(&claims(), NOW, None), Ok(()), "no issuer expected");
    }

    #[test]
    fn exp_is_required_and_checked_with_leeway() {
        let v = expect(None);
        let at = |exp| Claims { exp, ..claims() };
        assert_eq!(v.check(&at(Some(NOW - 59)), NOW, None), Ok(()), "within the 60 s leeway");
        assert_eq!(v.check(&at(Some(NOW - 60)), NOW, None), Err(Error::Expired));
        assert_eq!(v.check(&at(None), NOW, None), Err(Error::MissingClaim("exp")));
        let lax = Validation { require_exp: false, ..v };
        assert_eq!(lax.check(&at(None), NOW, None), Ok(()));
        let strict = Validation { leeway: 0, ..expect(None) };
        assert_eq!(strict.check(&at(Some(NOW)), NOW, None), Err(Error::Expired));
    }

    #[test]
    fn nbf_and_iat_may_not_be_in_the_future() {
        let v = expect(None);
        assert_eq!(v.check(&Claims { nbf: Some(NOW + 61), ..claims() }, NOW, None), Err(Error::NotYetValid));
        assert_eq!(v.check(&Claims { nbf: Some(NOW + 60), ..claims() }, NOW, None), Ok(()));
        assert_eq!(v.check(&Claims { iat: Some(NOW + 61), ..claims() }, NOW, None), Err(Error::IssuedInFuture));
    }

    #[test]
    fn the_issuer_must_match_when_expected() {
        let wrong = Claims { iss: Some("Evil".into()), ..claims() };
        assert_eq!(
            expect(Some("Authify")).check(&wrong, NOW, None),
            Err(Error::WrongIssuer { expected: "Authify".into(), found: "Evil".into() })
        );
        assert!(matches!(expect(None).check(&wrong, NOW, Some("Authify")), Err(Error::WrongIssuer { .. })));
        assert_eq!(
            expect(Some("Authify")).check(&wrong, NOW, Some("Evil")),
            Err(Error::WrongIssuer { expected: "Authify".into(), found: "Evil".into() }),
            "a configured issuer wins over the discovered one"
        );
        let none = Claims { iss: None, ..claims() };
        assert_eq!(expect(Some("Authify")).check(&none, NOW, None), Err(Error::MissingClaim("iss")));
    }

    #[test]
    fn the_audience_must_match_when_expected_and_be_absent_otherwise() {
        let for_api = Claims { aud: vec!["other".into(), "api".into()], ..claims() };
        let v = Validation { audiences: vec!["api".into()], ..expect(None) };
        assert_eq!(v.check(&for_api, NOW, None), Ok(()));
        assert_eq!(v.check(&claims(), NOW, None), Err(Error::MissingClaim("aud")));
        let elsewhere = Claims { aud: vec!["web".into()], ..claims() };
        assert_eq!(v.check(&elsewhere, NOW, None), Err(Error::WrongAudience));
        assert_eq!(expect(None).check(&for_api, NOW, None), Err(Error::WrongAudience));
    }
}
