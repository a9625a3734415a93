//! Taking a compact JWS apart: header, payload and signature, each decoded once.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use crate::{Claims, Error};

/// Tokens longer than this are refused before any decoding (Authify's are well under 4 KiB).
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// The largest raw ECDSA signature (P-521: two 66-byte halves).
const MAX_SIGNATURE_LEN: usize = 132;

#[derive(Debug, Deserialize)]
pub(crate) struct Header {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
    /// Extensions the verifier must understand (RFC 7515 §4.1.11); this crate understands none.
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
}

/// A token split into its parts; the signature is checked by the caller with the header's key.
pub(crate) struct Parts<'a> {
    pub header: Header,
    /// `header.payload`, what the signature covers.
    pub signing_input: &'a str,
    payload: &'a str,
    signature: [u8; MAX_SIGNATURE_LEN],
    signature_len: usize,
}

impl<'a> Parts<'a> {
    pub fn split(token: &'a str) -> Result<Self, Error> {
        let token = token.trim();
        if token.is_empty() {
            return Err(Error::Malformed("empty token"));
        }
        if token.len() > MAX_TOKEN_LEN {
            return Err(Error::Malformed("token too long"));
        }
        let (signing_input, signature_b64) = token.rsplit_once('.').ok_or(Error::Malformed("not three segments"))?;
        let (header_b64, payload) = signing_input.split_once('.').ok_or(Error::Malformed("not three segments"))?;
        if payload.contains('.') {
            return Err(Error::Malformed("not three segments"));
        }
        let header_json =
            URL_SAFE_NO_PAD.decode(header_b64).map_err(|_| Error::Malformed("header is not base64url"))?;
        let header: Header =
            serde_json::from_slice(&header_json).map_err(|_| Error::Malformed("header is not a JWS header"))?;
        if header.crit.is_some() {
            return Err(Error::Malformed("unsupported critical header"));
        }
        let mut signature = [0u8; MAX_SIGNATURE_LEN];
        // A signature longer than the buffer is refused here as not base64url of a valid size.
        let signature_len = URL_SAFE_NO_PAD
            .decode_slice(signature_b64, &mut signature)
            .map_err(|_| Error::Malformed("signature is not base64url"))?;
        Ok(Self { header, signing_input, payload, signature, signature_len })
    }

    pub fn signature(&self) -> &[u8] {
        &self.signature[..self.signature_len]
    }

    /// The payload as typed claims; call only after the signature verified.
    pub fn claims(&self) -> Result<Claims, Error> {
        let json = URL_SAFE_NO_PAD.decode(self.payload).map_err(|_| Error::Malformed("payload is not base64url"))?;
        Claims::from_payload(json).map_err(|_| Error::Malformed("payload is not a claim set of known types"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(text: &str) -> String {
        URL_SAFE_NO_PAD.encode(text)
    }

    #[test]
    fn a_token_splits_into_header_payload_and_signature() {
        let token = format!("{}.{}.{}", b64(r#"{"alg":"ES256","kid":"k"}"#), b64(r#"{"sub":"1"}"#), b64("sig"));
        let parts = Parts::split(&token).expect("parts");
        assert_eq!((parts.header.alg.as_str(), parts.header.kid.as_deref()), ("ES256", Some("k")));
        assert_eq!(parts.signature(), b"sig");
        assert_eq!(parts.claims().expect("claims").sub.as_deref(), Some("1"));
        assert!(token.starts_with(parts.signing_input));
    }

    #[test]
    fn malformed_tokens_are_refused_before_any_key_is_used() {
        let header = b64(r#"{"alg":"ES256"}"#);
        let cases = [
            String::new(),
            "a.b".into(),
            format!("{header}.{header}.{header}.x"),
            format!("!!.{header}.x"),
            format!("{}.{header}.x", b64("[]")),
            format!("{}.{header}.x", b64(r#"{"alg":"ES256","crit":["exp"]}"#)),
            format!("{header}.{header}.{}", b64(&"s".repeat(200))),
            "x".repeat(MAX_TOKEN_LEN + 1),
        ];
        for token in cases {
            assert!(matches!(Parts::split(&token), Err(Error::Malformed(_))), "{token}");
        }
        let not_object = format!("{header}.{}.AAAA", b64("[1]"));
        assert!(matches!(Parts::split(&not_object).expect("splits").claims(), Err(Error::Malformed(_))));
    }
}
