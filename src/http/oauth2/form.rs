//! The request side of the OAuth endpoints: form bodies (RFC 6749 §3.2: form-encoded, each
//! parameter at most once, bounded) and `Authorization: Basic` client credentials (§2.3.1).

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use poem::http::HeaderMap;
use poem::{Body, Request};

use crate::http::server::read_limited;
use crate::service::oauth::error::OauthError;

/// The largest form body read.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

/// A parsed form: each name once.
#[derive(Debug, Default)]
pub struct Form(HashMap<String, String>);

impl Form {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|value| !value.is_empty())
    }

    /// Parses `application/x-www-form-urlencoded` bytes; a repeated name is `invalid_request`.
    pub fn parse(bytes: &[u8]) -> Result<Self, OauthError> {
        let mut fields = HashMap::new();
        for (name, value) in form_urlencoded::parse(bytes) {
            if fields.insert(name.to_string(), value.into_owned()).is_some() {
                return Err(OauthError::invalid_request(format!("parameter {name} is repeated")));
            }
        }
        Ok(Self(fields))
    }
}

/// Reads a form body: the right media type, at most [`MAX_FORM_BYTES`].
pub async fn read_form(req: &Request, body: Body) -> Result<Form, OauthError> {
    let media_type = req.header("content-type").unwrap_or_default();
    let essence = media_type.split(';').next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(OauthError::invalid_request("the body must be application/x-www-form-urlencoded"));
    }
    let too_large = || OauthError::invalid_request(format!("the body must be at most {MAX_FORM_BYTES} bytes"));
    let bytes = read_limited(body, MAX_FORM_BYTES).await.map_err(|_| too_large())?;
    Form::parse(&bytes)
}

/// The client id and secret of an `Authorization: Basic` header (each form-urlencoded, RFC 6749
/// §2.3.1); `Ok(None)` without one, `invalid_client` for a malformed one.
pub fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OauthError> {
    let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else { return Ok(None) };
    let Some(encoded) = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic ")) else {
        return Ok(None);
    };
    let malformed = || OauthError::invalid_client("malformed Basic credentials");
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
    Ok(Some((form_decode(id), form_decode(secret))))
}

fn form_decode(part: &str) -> String {
    if !part.contains(['%', '+']) {
        return part.to_owned();
    }
    form_urlencoded::parse(format!("v={part}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_parameters_are_refused() {
        assert_eq!(Form::parse(b"a=1&a=2").unwrap_err().code, "invalid_request");
        assert_eq!(Form::parse(b"a=1&b=x%20y").expect("form").get("b"), Some("x y"));
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let mut headers = HeaderMap::new();
        let value = format!("Basic {}", STANDARD.encode("my%3Aclient:s%2Bcret"));
        headers.insert("authorization", value.parse().expect("header"));
        assert_eq!(basic_credentials(&headers).expect("ok"), Some(("my:client".into(), "s+cret".into())));
    }
}
