//! Sign-in through an external OpenID Provider (SPEC §5, docs/external-login.md):
//! [`start`] sends the browser to the provider with PKCE (S256), `state` and `nonce`; [`callback`]
//! claims the login once, exchanges the code, checks the ID token and finds, links or creates the
//! account ([`accounts`]); the browser then goes back to a `login_redirect_uris` entry with a
//! one-time login code, which [`redeem`] exchanges at `POST /jwt/token` for the answer of a
//! password login. The database keeps only hashes: the PKCE verifier rides in a cookie bound to
//! the browser that started the login, so a callback opened in another browser is refused.

mod accounts;
mod code_exchange;
mod id_token;
pub mod upstream;

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::crypto::secret;
use crate::error::Error;
use crate::runtime::audit::{self, Actor, AuditEvent};
use crate::runtime::rate_limit::Limit;
use crate::runtime::request_context::{self, RequestMeta};
use crate::service::account::lockout;
use crate::service::auth::Auth;
use crate::service::auth::browser_session;
use crate::service::auth::refresh::{TokenPair, start_session};
use crate::store::external_logins::NewExternalLogin;
pub use upstream::Upstreams;

/// The `identities.provider` of an identity proven by a configured provider: `oidc:<name>`.
/// Delegates cannot link identities under this prefix.
pub const PROVIDER_PREFIX: &str = "oidc:";
/// Seconds a started login waits for its callback.
const LOGIN_SECONDS: i64 = 600;
/// Seconds a login code stays redeemable.
const CODE_SECONDS: i64 = 60;
/// Where a hosted-page login returns: the authorization request it interrupted.
pub const AUTHORIZATION_PATH: &str = "/oauth2/authorize?";
/// The longest `state` a caller may pass through.
const MAX_CLIENT_STATE: usize = 512;

/// The sign-in use cases, and the providers they reach.
#[derive(Clone)]
pub struct ExternalLogin {
    pub auth: Auth,
    pub upstreams: Arc<Upstreams>,
}

/// `GET /identities/oidc/{provider}/login` as it arrived.
#[derive(Debug, Clone)]
pub struct LoginStart {
    pub provider: String,
    /// An API login: where the login code goes.
    pub redirect_uri: Option<String>,
    /// A hosted-page login: the authorization request (`/oauth2/authorize?…`) to continue with a
    /// browser session; instead of `redirect_uri`.
    pub return_to: Option<String>,
    pub client_state: Option<String>,
    pub meta: RequestMeta,
}

/// Where to send the browser, and the cookie that binds the login to it.
#[derive(Debug, Clone)]
pub struct Departure {
    pub location: String,
    pub cookie_name: String,
    pub cookie_value: String,
    pub cookie_seconds: i64,
}

/// The provider's redirect back, as it arrived.
#[derive(Debug, Clone, Default)]
pub struct CallbackRequest {
    pub provider: String,
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    /// The value of the cookie [`cookie_name`] names for this `state`.
    pub cookie: Option<String>,
    pub meta: RequestMeta,
}

/// Where a finished login sends the browser: the caller's redirect URI with the login code, or
/// (a hosted-page login) back to the authorization request with a new browser session.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub location: String,
    pub cookie_name: String,
    /// The browser session's cookie secret, for a hosted-page login.
    pub session_secret: Option<String>,
}

/// The URL the provider redirects back to.
pub fn callback_url(auth: &Auth, provider: &str) -> String {
    format!("{}/identities/oidc/{provider}/callback", auth.settings.public_url)
}

/// The cookie that carries a login's PKCE verifier, named after its `state`.
pub fn cookie_name(state: &str) -> String {
    format!("authify_oidc_{}", &secret::hash_secret(state)[..16])
}

/// Stores the login and answers where the browser goes (the provider's authorization endpoint).
pub async fn start(external: &ExternalLogin, request: LoginStart) -> Result<Departure, Error> {
    let upstream = external.upstreams.get(&request.provider)?;
    check_destination(&external.auth, request.redirect_uri.as_deref(), request.return_to.as_deref())?;
    if request.client_state.as_ref().is_some_and(|s| s.len() > MAX_CLIENT_STATE) {
        return Err(Error::bad_parameter("state", format!("must be at most {MAX_CLIENT_STATE} bytes")));
    }
    let discovered = external.upstreams.discovered(upstream).await?;
    let (state, nonce) = (secret::random_hex(32), secret::random_hex(32));
    let (challenge, verifier) = openidconnect::PkceCodeChallenge::new_random_sha256();
    let now = external.auth.now();
    let new = NewExternalLogin {
        state_hash: secret::hash_secret(&state),
        provider: upstream.name.clone(),
        nonce_hash: secret::hash_secret(&nonce),
        redirect_uri: request.redirect_uri,
        client_state: request.client_state,
        return_to: request.return_to,
        now,
        expires_at: now + LOGIN_SECONDS,
    };
    external.auth.store().start_external_login(new).await?;
    let mut location = url::Url::parse(discovered.metadata.authorization_endpoint().as_str())
        .map_err(|e| Error::ProviderUnavailable(format!("{}: {e}", upstream.name)))?;
    location
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &upstream.settings.client_id)
        .append_pair("redirect_uri", &callback_url(&external.auth, &upstream.name))
        .append_pair("scope", &upstream.settings.scopes.join(" "))
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", challenge.as_str())
        .append_pair("code_challenge_method", "S256");
    Ok(Departure {
        location: location.into(),
        cookie_name: cookie_name(&state),
        cookie_value: format!("{state}.{}", verifier.secret()),
        cookie_seconds: LOGIN_SECONDS,
    })
}

/// Where a finished login may go: a `redirect_uri` from `login_redirect_uris` (exact match), or
/// (from the hosted sign-in page) an authorization request of this service.
fn check_destination(auth: &Auth, redirect_uri: Option<&str>, return_to: Option<&str>) -> Result<(), Error> {
    let allowed = &auth.settings.external_login.login_redirect_uris;
    match (redirect_uri, return_to) {
        (Some(uri), None) if allowed.iter().any(|a| a == uri) => Ok(()),
        (Some(_), None) => {
            Err(Error::bad_parameter("redirect_uri", "is not one of the login redirect URIs (login_redirect_uris)"))
        }
        (None, Some(path)) if path.starts_with(AUTHORIZATION_PATH) && !path.contains(['\r', '\n']) => Ok(()),
        (None, Some(_)) => Err(Error::bad_parameter("return_to", "must be an authorization request of this service")),
        _ => Err(Error::bad_parameter("redirect_uri", "is required (or return_to, from the sign-in page)")),
    }
}

/// Finishes a login at its callback (see the module documentation); audited either way
/// (`login.oidc`). Runs to completion even when the browser goes away.
pub async fn callback(external: &ExternalLogin, request: CallbackRequest) -> Result<Arrival, Error> {
    let external = external.clone();
    request_context::run_to_completion(async move {
        let result = finish(&external, &request).await;
        let (actor, target) = match &result {
            Ok((_, user_id)) => (Actor::User(*user_id), Some(format!("users:{user_id}"))),
            Err(_) => (Actor::Anonymous, None),
        };
        let mut event = AuditEvent::during(&request.meta, actor, "login.oidc");
        if let Some(target) = target {
            event = event.target(target);
        }
        let mut detail = audit::outcome(&result);
        detail["provider"] = request.provider.chars().take(64).collect::<String>().into();
        external.auth.audit().record(event.detail(detail)).await;
        result.map(|(arrival, _)| arrival)
    })
    .await
}

async fn finish(external: &ExternalLogin, request: &CallbackRequest) -> Result<(Arrival, i64), Error> {
    let failed = |problem: &str| Error::ExternalLoginFailed(problem.to_owned());
    let upstream = external.upstreams.get(&request.provider)?;
    let state = request.state.as_deref().ok_or_else(|| failed("the callback carries no state"))?;
    let now = external.auth.now();
    let login = external.auth.store().claim_external_login(&secret::hash_secret(state), now).await?;
    let login = login
        .filter(|login| login.provider == upstream.name)
        .ok_or_else(|| failed("this sign-in is unknown, expired or already finished; start again"))?;
    if let Some(error) = &request.error {
        let description = request.error_description.as_deref().unwrap_or_default();
        let said: String = format!("{error} {description}").chars().take(200).collect();
        return Err(failed(&format!("the provider answered: {}", said.trim())));
    }
    let verifier = request
        .cookie
        .as_deref()
        .and_then(|cookie| cookie.split_once('.'))
        .filter(|(cookie_state, _)| secret::secret_matches(cookie_state, &login.state_hash))
        .map(|(_, verifier)| verifier.to_owned())
        .ok_or_else(|| failed("this sign-in was started in another browser"))?;
    let code = request.code.as_deref().ok_or_else(|| failed("the callback carries no code"))?;
    let discovered = external.upstreams.discovered(upstream).await?;
    let callback = callback_url(&external.auth, &upstream.name);
    let id_token =
        code_exchange::exchange(&external.upstreams, upstream, &discovered, code, &verifier, &callback).await?;
    let identity =
        id_token::check(&external.upstreams, upstream, discovered, &id_token, &login.nonce_hash, now).await?;
    let user = accounts::user_for(&external.auth, upstream, &identity, &request.meta).await?;
    if user.disabled {
        return Err(Error::AccountDisabled);
    }
    lockout::ensure_not_locked(&external.auth, &lockout::account_key(&user.email)).await?;
    if let Some(return_to) = login.return_to {
        let signed_in = browser_session::open(&external.auth, user, &request.meta).await?;
        let arrival =
            Arrival { location: return_to, cookie_name: cookie_name(state), session_secret: Some(signed_in.secret) };
        return Ok((arrival, signed_in.user.id));
    }
    let login_code = format!("authify_lc_{}", secret::random_hex(32));
    let store = external.auth.store();
    store.finish_external_login(login.id, user.id, &secret::hash_secret(&login_code), now + CODE_SECONDS).await?;
    let mut location = url::Url::parse(login.redirect_uri.as_deref().unwrap_or_default()).map_err(Error::internal)?;
    location.query_pairs_mut().append_pair("code", &login_code);
    if let Some(client_state) = &login.client_state {
        location.query_pairs_mut().append_pair("state", client_state);
    }
    Ok((Arrival { location: location.into(), cookie_name: cookie_name(state), session_secret: None }, user.id))
}

/// `POST /jwt/token {"login_code"}`: the answer of a password login for the user the code was
/// issued to, once. A wrong code counts towards the client's rate limit like a wrong password.
pub async fn redeem(
    auth: &Auth,
    code: &str,
    inject: Option<Map<String, Value>>,
    meta: &RequestMeta,
) -> Result<TokenPair, Error> {
    let (auth, code, meta) = (auth.clone(), code.to_owned(), meta.clone());
    // A code is spent when claimed: the session it pays for is opened even if the client goes away.
    request_context::run_to_completion(async move { redeem_now(&auth, &code, inject, &meta).await }).await
}

async fn redeem_now(
    auth: &Auth,
    code: &str,
    inject: Option<Map<String, Value>>,
    meta: &RequestMeta,
) -> Result<TokenPair, Error> {
    let now = auth.now();
    let redeemed = auth.store().redeem_login_code(&secret::hash_secret(code.trim()), now).await?;
    let user = match redeemed.and_then(|login| login.user_id) {
        Some(user_id) => auth.store().user_by_id(user_id).await?,
        None => None,
    };
    let Some(user) = user.filter(|user| !user.disabled) else {
        let client = meta.client_ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        let limit = Limit { limit: auth.settings.rate_limit_per_account, window: auth.settings.rate_limit_window };
        auth.limiter.hit(&format!("login-code:{client}"), limit, now).await?;
        let event = AuditEvent::during(meta, Actor::Anonymous, "login.code");
        auth.audit().record(event.detail(json!({"outcome": "failure"}))).await;
        return Err(Error::InvalidCredentials);
    };
    let event = AuditEvent::during(meta, Actor::User(user.id), "login.code").target(format!("users:{}", user.id));
    auth.audit().record(event.detail(json!({"outcome": "success"}))).await;
    start_session(auth, &user, None, None, inject, meta).await
}
