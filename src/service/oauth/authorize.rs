//! `GET /oauth2/authorize` (OpenID Connect Core §3.1.2, RFC 6749 §4.1, RFC 7636, RFC 9207): the
//! checks of an authorization request, what happens next (sign in, consent, or a code), and the
//! code itself.
//!
//! A request whose client or redirect URI is wrong is refused on a page, never redirected (no open
//! redirect); every later error goes back to the redirect URI with `error`, `state` and `iss`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use sha2::{Digest, Sha256};
use url::Url;

use super::error::OauthError;
use super::scope::{Scopes, USER_SCOPES};
use super::tokens::issuer;
use crate::crypto::{secret, tokens};
use crate::runtime::audit::{Actor, AuditEvent};
use crate::runtime::request_context::RequestMeta;
use crate::service::auth::Auth;
use crate::service::directory::clients::redirect_uris;
use crate::store::oauth_clients::OauthClient;
use crate::store::oauth_codes::NewCode;
use crate::store::users::User;

/// How long a code lives (seconds).
pub const CODE_LIFETIME: i64 = 60;
const MAX_PARAMETER_LEN: usize = 1024;

/// The parameters of an authorization request as they arrived.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub login_hint: Option<String>,
}

/// A checked authorization request.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub client: OauthClient,
    pub redirect_uri: String,
    pub scope: Scopes,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
}

/// The `prompt` values (OpenID Connect Core §3.1.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

/// Why a request is refused: on a page (client or redirect URI unknown) or at the redirect URI.
#[derive(Debug, Clone)]
pub enum Refusal {
    Page(String),
    Redirect(String),
}

/// What the browser is shown next.
#[derive(Debug, Clone)]
pub enum Next {
    /// The hosted sign-in page.
    SignIn,
    /// The consent page for a third-party client.
    Consent,
    /// Back to the client: a redirect URL with a code, or with an error.
    Redirect(String),
}

/// Checks an authorization request (see the module documentation).
pub async fn check(auth: &Auth, params: &AuthorizeParams) -> Result<AuthorizationRequest, Refusal> {
    let page = |text: &str| Refusal::Page(text.to_owned());
    let client_id = params.client_id.as_deref().filter(|id| !id.is_empty() && id.len() <= 64);
    let client_id = client_id.ok_or_else(|| page("The request names no client (client_id)."))?;
    let client = match auth.store().client_by_client_id(client_id).await {
        Ok(Some(client)) => client,
        Ok(None) => return Err(page("The application that sent you here is not registered with this service.")),
        Err(err) => {
            tracing::error!(error = %err, "reading a client for an authorization request failed");
            return Err(page("The service could not read its registered applications; try again later."));
        }
    };
    let redirect_uri = params.redirect_uri.as_deref().unwrap_or_default();
    if !redirect_uris(&client).any(|registered| registered == redirect_uri) {
        return Err(page("The application asked to send you back to an address it has not registered."));
    }
    let back =
        |error: OauthError| Refusal::Redirect(error_redirect(auth, redirect_uri, params.state.as_deref(), &error));
    for (name, value) in [("state", &params.state), ("nonce", &params.nonce), ("login_hint", &params.login_hint)] {
        if value.as_deref().is_some_and(|v| v.len() > MAX_PARAMETER_LEN) {
            return Err(back(OauthError::invalid_request(format!("{name} is longer than {MAX_PARAMETER_LEN} bytes"))));
        }
    }
    match params.response_type.as_deref() {
        Some("code") => {}
        _ => {
            return Err(back(OauthError::redirect(
                "unsupported_response_type",
                "only response_type=code is supported",
            )));
        }
    }
    let scope = Scopes::parse(params.scope.as_deref().unwrap_or_default())
        .and_then(|scope| scope.within(&USER_SCOPES))
        .map_err(back)?;
    let code_challenge = check_challenge(&client, params).map_err(back)?;
    let prompt = parse_prompt(params.prompt.as_deref()).map_err(back)?;
    let max_age = match params.max_age.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            text.parse::<i64>()
                .ok()
                .filter(|age| *age >= 0)
                .ok_or_else(|| back(OauthError::invalid_request("max_age must be a whole number of seconds")))?,
        ),
    };
    Ok(AuthorizationRequest {
        redirect_uri: redirect_uri.to_owned(),
        client,
        scope,
        state: params.state.clone(),
        nonce: params.nonce.clone(),
        code_challenge,
        prompt,
        max_age,
        login_hint: params.login_hint.clone(),
    })
}

/// PKCE: S256 only; required for public clients.
fn check_challenge(client: &OauthClient, params: &AuthorizeParams) -> Result<Option<String>, OauthError> {
    let method = params.code_challenge_method.as_deref();
    match (params.code_challenge.as_deref(), method) {
        (None, None) if client.public => {
            Err(OauthError::invalid_request("public clients must use PKCE (code_challenge)"))
        }
        (None, None) => Ok(None),
        (None, Some(_)) => Err(OauthError::invalid_request("code_challenge_method without code_challenge")),
        (Some(_), Some("plain")) | (Some(_), None) => {
            Err(OauthError::invalid_request("only code_challenge_method=S256 is supported"))
        }
        (Some(challenge), Some("S256")) => {
            let well_formed =
                challenge.len() == 43 && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if well_formed {
                Ok(Some(challenge.to_owned()))
            } else {
                Err(OauthError::invalid_request("code_challenge is not an S256 challenge"))
            }
        }
        (Some(_), Some(_)) => Err(OauthError::invalid_request("only code_challenge_method=S256 is supported")),
    }
}

fn parse_prompt(text: Option<&str>) -> Result<Prompt, OauthError> {
    let mut prompt = Prompt::default();
    for value in text.unwrap_or_default().split(' ').filter(|v| !v.is_empty()) {
        match value {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            other => return Err(OauthError::invalid_request(format!("prompt={other} is not supported"))),
        }
    }
    if prompt.none && (prompt.login || prompt.consent) {
        return Err(OauthError::invalid_request("prompt=none cannot be combined with other values"));
    }
    Ok(prompt)
}

/// The signed-in user of the browser, with when they proved their password.
#[derive(Debug, Clone)]
pub struct SignedInUser {
    pub user: User,
    pub auth_time: i64,
    /// How they signed in, when not with a password (see `sessions.amr`).
    pub amr: Option<String>,
}

/// What comes next for a checked request: `signed_in` is the browser's user; `fresh` says they
/// signed in during this request (so `prompt=login` and `max_age` are met).
pub async fn next_step(
    auth: &Auth,
    request: &AuthorizationRequest,
    signed_in: Option<&SignedInUser>,
    fresh: bool,
    meta: &RequestMeta,
) -> Result<Next, OauthError> {
    let now = auth.now();
    let stale = |who: &SignedInUser| request.max_age.is_some_and(|age| now - who.auth_time > age);
    let who = match signed_in {
        Some(who) if fresh || (!request.prompt.login && !stale(who)) => who,
        _ if request.prompt.none => {
            return Ok(Next::Redirect(refuse(auth, request, "login_required", "the user is not signed in")));
        }
        _ => return Ok(Next::SignIn),
    };
    if needs_consent(auth, request, who.user.id).await? {
        if request.prompt.none {
            return Ok(Next::Redirect(refuse(auth, request, "consent_required", "the user has not consented")));
        }
        return Ok(Next::Consent);
    }
    Ok(Next::Redirect(issue_code(auth, request, who, meta).await?))
}

async fn needs_consent(auth: &Auth, request: &AuthorizationRequest, user_id: i64) -> Result<bool, OauthError> {
    if request.client.first_party {
        return Ok(false);
    }
    if request.prompt.consent {
        return Ok(true);
    }
    let given = auth.store().consent(user_id, &request.client.client_id).await?;
    let given = Scopes::parse(given.as_deref().unwrap_or_default())?;
    Ok(!request.scope.iter().all(|name| given.contains(name)))
}

/// The user allowed the client the requested scope: remembered, audited, and a code issued.
pub async fn consent(
    auth: &Auth,
    request: &AuthorizationRequest,
    who: &SignedInUser,
    meta: &RequestMeta,
) -> Result<String, OauthError> {
    let client_id = &request.client.client_id;
    let given = auth.store().consent(who.user.id, client_id).await?;
    let mut scope = Scopes::parse(given.as_deref().unwrap_or_default())?.to_text();
    for name in request.scope.iter() {
        if !scope.split(' ').any(|known| known == name) {
            scope = if scope.is_empty() { name.to_owned() } else { format!("{scope} {name}") };
        }
    }
    auth.store().save_consent(who.user.id, client_id, &scope, auth.now()).await?;
    let event = AuditEvent::during(meta, Actor::User(who.user.id), "oauth.consent")
        .target(format!("users:{}", who.user.id))
        .detail(json!({"client_id": client_id, "scope": scope}));
    auth.audit().record(event).await;
    issue_code(auth, request, who, meta).await
}

/// The user refused: back to the client with `access_denied`.
pub fn deny(auth: &Auth, request: &AuthorizationRequest) -> String {
    refuse(auth, request, "access_denied", "the user refused the request")
}

/// Stores a new single-use code and answers the redirect URL that carries it.
async fn issue_code(
    auth: &Auth,
    request: &AuthorizationRequest,
    who: &SignedInUser,
    meta: &RequestMeta,
) -> Result<String, OauthError> {
    let code = tokens::random_token(32);
    let now = auth.now();
    let new = NewCode {
        code_hash: secret::hash_secret(&code),
        client_id: request.client.client_id.clone(),
        user_id: who.user.id,
        redirect_uri: request.redirect_uri.clone(),
        scope: request.scope.to_text(),
        nonce: request.nonce.clone(),
        code_challenge: request.code_challenge.clone(),
        auth_time: who.auth_time,
        amr: who.amr.clone(),
        now,
        expires_at: now + CODE_LIFETIME,
    };
    auth.store().insert_code(new).await?;
    let event = AuditEvent::during(meta, Actor::User(who.user.id), "oauth.authorize")
        .target(format!("users:{}", who.user.id))
        .detail(json!({"client_id": request.client.client_id, "scope": request.scope.to_text()}));
    auth.audit().record(event).await;
    Ok(with_query(
        &request.redirect_uri,
        &[("code", Some(&code)), ("state", request.state.as_deref()), ("iss", Some(issuer(&auth.tokens)))],
    ))
}

fn refuse(auth: &Auth, request: &AuthorizationRequest, code: &'static str, description: &str) -> String {
    error_redirect(auth, &request.redirect_uri, request.state.as_deref(), &OauthError::redirect(code, description))
}

fn error_redirect(auth: &Auth, redirect_uri: &str, state: Option<&str>, error: &OauthError) -> String {
    let pairs = [
        ("error", Some(error.code)),
        ("error_description", Some(error.description.as_str())),
        ("state", state),
        ("iss", Some(issuer(&auth.tokens))),
    ];
    with_query(redirect_uri, &pairs)
}

/// `uri` with the pairs added to its query (a registered URI always parses).
pub fn with_query(uri: &str, pairs: &[(&str, Option<&str>)]) -> String {
    let Ok(mut url) = Url::parse(uri) else { return uri.to_owned() };
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in pairs {
            if let Some(value) = value {
                query.append_pair(name, value);
            }
        }
    }
    url.to_string()
}

/// The PKCE S256 transform: base64url(SHA-256(verifier)).
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}
