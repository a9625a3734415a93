//! The authorization code grant at the provider's token endpoint (RFC 6749 §4.1.3 with the PKCE
//! verifier, RFC 7636): the client authenticates with HTTP Basic when it has a secret, else names
//! itself in the form. Only the ID token of the answer is used.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use super::upstream::{Discovered, Upstream, Upstreams, describe};
use crate::error::Error;

#[derive(Deserialize)]
struct TokenAnswer {
    id_token: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The ID token the provider gives for `code`.
pub async fn exchange(
    upstreams: &Upstreams,
    upstream: &Upstream,
    discovered: &Discovered,
    code: &str,
    verifier: &str,
    callback: &str,
) -> Result<String, Error> {
    let endpoint = discovered
        .metadata
        .token_endpoint()
        .ok_or_else(|| Error::ProviderUnavailable(format!("{}: no token endpoint", upstream.name)))?;
    let settings = &upstream.settings;
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", callback),
        ("code_verifier", verifier),
    ];
    let mut request = upstreams.client()?.post(endpoint.as_str()).header("Accept", "application/json");
    match &settings.client_secret {
        Some(secret) => {
            let pair = format!("{}:{}", form_encode(&settings.client_id), form_encode(secret.expose()));
            request = request.header("Authorization", format!("Basic {}", STANDARD.encode(pair)));
        }
        None => form.push(("client_id", &settings.client_id)),
    }
    let unavailable = |problem: String| Error::ProviderUnavailable(format!("{}: {problem}", upstream.name));
    let response = request.form(&form).send().await.map_err(|e| unavailable(describe(&e)))?;
    let status = response.status();
    let answer: TokenAnswer = match response.json().await {
        Ok(answer) => answer,
        Err(_) if status.is_server_error() => return Err(unavailable(format!("the token endpoint answered {status}"))),
        Err(_) => return Err(unavailable("the token endpoint answered no JSON".into())),
    };
    if let Some(error) = answer.error {
        let said: String =
            format!("{error} {}", answer.error_description.unwrap_or_default()).chars().take(200).collect();
        return Err(Error::ExternalLoginFailed(format!("the provider refused the code: {}", said.trim())));
    }
    answer.id_token.ok_or_else(|| Error::ExternalLoginFailed("the provider answered no ID token".into()))
}

/// RFC 6749 §2.3.1: the client id and secret are form-encoded before Basic authentication.
fn form_encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
