//! What the browser-facing routes share: the signed-in user from the session cookie, the CSRF
//! token of the forms (a double-submit cookie), the authorization request carried through the
//! sign-in and consent forms, and the responses (redirects, pages).

use crate::http::client::cookie_value;
use liquid::Object;
use poem::http::StatusCode;
use poem::{Request, Response};

use super::form::Form;
use crate::crypto::{secret, tokens};
use crate::http::auth;
use crate::http::pages::vars;
use crate::service::auth::browser_session;
use crate::service::auth::external::AUTHORIZATION_PATH;
use crate::service::oauth::authorize::{self, AuthorizationRequest, AuthorizeParams, Next, Refusal, SignedInUser};
use crate::service::oauth::scope::{EMAIL, OFFLINE_ACCESS, OPENID, PROFILE};
use crate::state::AppState;

/// The CSRF cookie's name while it is `Secure` (no other host can set a `__Host-` cookie).
const SECURE_CSRF_COOKIE: &str = "__Host-authify_csrf";
const PLAIN_CSRF_COOKIE: &str = "authify_csrf";

/// The browser's user, from a live session cookie.
pub async fn signed_in(state: &AppState, req: &Request) -> Option<SignedInUser> {
    let secret = auth::session_cookie(state, req.headers()).ok()??;
    let (user, session) = browser_session::authenticate(&state.auth, secret).await.ok()?;
    Some(SignedInUser { user, auth_time: session.password_checked_at, amr: session.amr })
}

/// The parameters of an authorization request from its query string (each at most once).
pub fn authorize_params(query: &str) -> Result<AuthorizeParams, String> {
    let form = Form::parse(query.as_bytes()).map_err(|err| err.description)?;
    let get = |name: &str| form.get(name).map(str::to_owned);
    Ok(AuthorizeParams {
        response_type: get("response_type"),
        client_id: get("client_id"),
        redirect_uri: get("redirect_uri"),
        scope: get("scope"),
        state: get("state"),
        nonce: get("nonce"),
        code_challenge: get("code_challenge"),
        code_challenge_method: get("code_challenge_method"),
        prompt: get("prompt"),
        max_age: get("max_age"),
        login_hint: get("login_hint"),
    })
}

/// Checks the authorization request carried in `query`; a refusal is already a response.
pub async fn checked_request(state: &AppState, query: &str) -> Result<AuthorizationRequest, Response> {
    let params = authorize_params(query).map_err(|text| refused_page(state, &text))?;
    authorize::check(&state.auth, &params).await.map_err(|refusal| match refusal {
        Refusal::Page(text) => refused_page(state, &text),
        Refusal::Redirect(url) => redirect(&url),
    })
}

/// The page for a request that cannot go back to the client.
pub fn refused_page(state: &AppState, text: &str) -> Response {
    state.pages.message(StatusCode::BAD_REQUEST, "This sign-in request cannot be completed", text)
}

/// Shows what comes next for a checked request: sign in, consent, or back to the client.
pub async fn continue_authorization(
    state: &AppState,
    req: &Request,
    request: &AuthorizationRequest,
    query: &str,
    who: Option<&SignedInUser>,
    fresh: bool,
) -> Response {
    let meta = crate::http::client::request_meta(req);
    match authorize::next_step(&state.auth, request, who, fresh, &meta).await {
        Ok(Next::SignIn) => redirect(&format!("/login?{query}")),
        Ok(Next::Consent) => match who {
            Some(who) => consent_page(state, req, request, query, who),
            None => redirect(&format!("/login?{query}")),
        },
        Ok(Next::Redirect(url)) => redirect(&url),
        Err(err) => state.pages.message(
            StatusCode::from_u16(err.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "Something went wrong",
            &err.description,
        ),
    }
}

fn consent_page(
    state: &AppState,
    req: &Request,
    request: &AuthorizationRequest,
    query: &str,
    who: &SignedInUser,
) -> Response {
    let (csrf, cookie) = csrf_token(state, req);
    let mut page =
        vars(&[("client_name", &request.client.name), ("email", &who.user.email), ("csrf", &csrf), ("request", query)]);
    let scopes: Vec<liquid::model::Value> = request
        .scope
        .iter()
        .filter_map(describe_scope)
        .map(|text| liquid::model::Value::scalar(crate::email::templates::html_escape(text)))
        .collect();
    page.insert("scopes".into(), liquid::model::Value::Array(scopes));
    with_cookie(state.pages.consent(page), cookie)
}

fn describe_scope(scope: &str) -> Option<&'static str> {
    match scope {
        OPENID => Some("Know who you are"),
        PROFILE => Some("See your name and username"),
        EMAIL => Some("See your email address"),
        OFFLINE_ACCESS => Some("Stay signed in when you are away"),
        _ => None,
    }
}

/// A `302 Found` to `location` (browsers follow it with a GET, after a form too).
pub fn redirect(location: &str) -> Response {
    Response::builder()
        .status(StatusCode::FOUND)
        .header("Location", location)
        .header("Cache-Control", "no-store")
        .header("Referrer-Policy", "no-referrer")
        .finish()
}

/// `response` with a `Set-Cookie` header added.
pub fn with_cookie(mut response: Response, cookie: Option<String>) -> Response {
    if let Some(cookie) = cookie.and_then(|c| c.parse().ok()) {
        response.headers_mut().append("Set-Cookie", cookie);
    }
    response
}

fn csrf_cookie_name(state: &AppState) -> &'static str {
    if state.settings.sessions.cookie_secure { SECURE_CSRF_COOKIE } else { PLAIN_CSRF_COOKIE }
}

/// The form's CSRF token: the browser's, or a new one with the `Set-Cookie` that stores it.
pub fn csrf_token(state: &AppState, req: &Request) -> (String, Option<String>) {
    let name = csrf_cookie_name(state);
    if let Some(token) = cookie_value(req, name).filter(|t| t.len() == 22) {
        return (token.to_owned(), None);
    }
    let token = tokens::random_token(16);
    let secure = if state.settings.sessions.cookie_secure { "; Secure" } else { "" };
    let cookie = format!("{name}={token}; Path=/; HttpOnly; SameSite=Strict{secure}");
    (token, Some(cookie))
}

/// Whether the form's `csrf` field matches the browser's CSRF cookie (constant time).
pub fn csrf_ok(state: &AppState, req: &Request, form: &Form) -> bool {
    match (cookie_value(req, csrf_cookie_name(state)), form.get("csrf")) {
        (Some(cookie), Some(field)) if cookie.len() == 22 => {
            secret::secret_matches(field, &secret::hash_secret(cookie))
        }
        _ => false,
    }
}

/// Page variables shared by the sign-in steps.
/// "Sign in with …" links for the configured external providers; each returns to this
/// authorization request (`request`, its query) with a browser session. None without a request.
pub fn provider_links(state: &AppState, request: &str) -> Object {
    let mut links = Vec::new();
    if !request.is_empty() {
        for upstream in state.external.upstreams.all() {
            let return_to = format!("{AUTHORIZATION_PATH}{request}");
            let return_to: String = form_urlencoded::byte_serialize(return_to.as_bytes()).collect();
            let href = format!("/identities/oidc/{}/login?return_to={return_to}", upstream.name);
            links.push(liquid::model::Value::Object(vars(&[("href", &href), ("label", upstream.display_name())])));
        }
    }
    let mut object = Object::new();
    object.insert("providers".into(), liquid::model::Value::Array(links));
    object
}

pub fn login_vars(state: &AppState, client_name: &str, csrf: &str, request: &str, email: &str) -> Object {
    vars(&[
        ("passkeys", state.auth.passkeys.page_flag()),
        ("passkey_challenge_id", ""),
        ("passkey_options", ""),
        ("client_name", client_name),
        ("csrf", csrf),
        ("request", request),
        ("email", email),
        ("error", ""),
        ("email_error", ""),
        ("password_error", ""),
        ("code_error", ""),
        ("password", ""),
        ("step", "password"),
    ])
}
