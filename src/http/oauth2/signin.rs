//! The browser routes of the OpenID Provider: `GET /oauth2/authorize`, the hosted sign-in page
//! (`GET|POST /login`: email and password, then the second factor when the account has one),
//! `POST /oauth2/consent` and `GET /oauth2/logout`. Sign-in goes through the same checks as
//! `POST /session` (rate limits, lockout, audit, equal timing) and opens the same browser session.

use poem::http::StatusCode;
use poem::web::Data;
use poem::{Body, Request, Response, handler};

use super::browser::{
    checked_request, continue_authorization, csrf_ok, csrf_token, login_vars, provider_links, redirect, refused_page,
    signed_in, with_cookie,
};
use super::form::{Form, MAX_FORM_BYTES};
use crate::domain::{Email, Submitted};
use crate::error::Error;
use crate::http::auth;
use crate::http::client::request_meta;
use crate::http::pages::vars;
use crate::service::auth::browser_session;
use crate::service::auth::login::PasswordAttempt;
use crate::service::auth::passkeys::second_factor::Assertion;
use crate::service::oauth::authorize::{self, SignedInUser};
use crate::service::oauth::logout::{self, AfterLogout, LogoutParams};
use crate::state::AppState;

#[handler]
pub async fn authorize_get(state: Data<&AppState>, req: &Request) -> Response {
    let query = req.uri().query().unwrap_or_default();
    let request = match checked_request(&state, query).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    let who = signed_in(&state, req).await;
    continue_authorization(&state, req, &request, query, who.as_ref(), false).await
}

/// The sign-in form; with an authorization request in the query, for that client.
#[handler]
pub async fn login_page(state: Data<&AppState>, req: &Request) -> Response {
    let query = req.uri().query().unwrap_or_default();
    let (client_name, hint) = if query.is_empty() {
        (String::new(), String::new())
    } else {
        match checked_request(&state, query).await {
            Ok(request) => (request.client.name.clone(), request.login_hint.clone().unwrap_or_default()),
            Err(response) => return response,
        }
    };
    let (csrf, cookie) = csrf_token(&state, req);
    let mut page = login_vars(&state, &client_name, &csrf, query, &hint);
    page.extend(provider_links(&state, query));
    with_cookie(state.pages.login(StatusCode::OK, page), cookie)
}

#[handler]
pub async fn login_submit(state: Data<&AppState>, req: &Request, body: Body) -> Response {
    let Ok(bytes) = body.into_bytes_limit(MAX_FORM_BYTES).await else {
        return refused_page(&state, "The form was too large.");
    };
    let Ok(form) = Form::parse(&bytes) else { return refused_page(&state, "The form repeats a field.") };
    let query = form.get("request").unwrap_or_default().to_owned();
    let request = if query.is_empty() {
        None
    } else {
        match checked_request(&state, &query).await {
            Ok(request) => Some(request),
            Err(response) => return response,
        }
    };
    let client_name = request.as_ref().map(|r| r.client.name.clone()).unwrap_or_default();
    let email = form.get("email").unwrap_or_default();
    let (csrf, cookie) = csrf_token(&state, req);
    let mut page = login_vars(&state, &client_name, &csrf, &query, email);
    page.extend(provider_links(&state, &query));
    if !csrf_ok(&state, req, &form) {
        page.extend(vars(&[("error", "This form expired. Please sign in again.")]));
        return with_cookie(state.pages.login(StatusCode::BAD_REQUEST, page), cookie);
    }
    let password = form.get("password").unwrap_or_default();
    let code = form.get("totp_code").map(str::trim);
    let is_recovery = code.is_some_and(|code| !code.bytes().all(|b| b.is_ascii_digit()));
    let meta = request_meta(req);
    let login_name = Submitted::parse(email, Email::parse);
    let passkey = passkey_answer(&form);
    let attempt = PasswordAttempt {
        email: &login_name,
        password,
        totp_code: code.filter(|_| !is_recovery),
        recovery_code: code.filter(|_| is_recovery),
        passkey: passkey.as_ref(),
        request: &meta,
    };
    let signed_in = match browser_session::sign_in(&state.auth, &attempt).await {
        Ok(signed_in) => signed_in,
        Err(err) => return with_cookie(failed_page(&state, page, &err, password), cookie),
    };
    let session_cookie = Some(auth::session_cookie_header(&state, &signed_in.secret));
    let Some(request) = request else {
        let page = state.pages.message(StatusCode::OK, "You are signed in", "You can close this page.");
        return with_cookie(page, session_cookie);
    };
    let session = signed_in.session;
    let who = SignedInUser { auth_time: session.password_checked_at, amr: session.amr, user: signed_in.user };
    let response = continue_authorization(&state, req, &request, &query, Some(&who), true).await;
    with_cookie(with_cookie(response, session_cookie), cookie)
}

/// The passkey the second step's script put in the form (`passkey_challenge_id`,
/// `passkey_credential`), if any.
fn passkey_answer(form: &Form) -> Option<Assertion> {
    let challenge_id = form.get("passkey_challenge_id")?;
    let credential = serde_json::from_str(form.get("passkey_credential")?).ok()?;
    Some(Assertion { challenge_id: challenge_id.to_owned(), credential })
}

/// The sign-in page again, with what went wrong next to the field it concerns.
fn failed_page(state: &AppState, mut page: liquid::Object, err: &Error, password: &str) -> Response {
    let (status, field, text) = match err {
        Error::InvalidCredentials => {
            (StatusCode::UNAUTHORIZED, "password_error", "Wrong email or password.".to_owned())
        }
        Error::TotpRequired(_) => (StatusCode::OK, "", String::new()),
        Error::InvalidSecondFactor => {
            (StatusCode::UNAUTHORIZED, "code_error", "That code is not valid. Try the current one.".to_owned())
        }
        Error::AccountDisabled => (StatusCode::FORBIDDEN, "error", "This account is disabled.".to_owned()),
        Error::AccountLocked { retry_after } | Error::RateLimited { retry_after } => {
            (StatusCode::TOO_MANY_REQUESTS, "error", format!("Too many attempts. Try again in {retry_after} seconds."))
        }
        Error::Busy { .. } | Error::DatabaseUnavailable => {
            (StatusCode::SERVICE_UNAVAILABLE, "error", "The service is busy. Try again in a moment.".to_owned())
        }
        other => {
            tracing::error!(error = ?other, "sign-in on the hosted page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "error", "Something went wrong. Try again later.".to_owned())
        }
    };
    if matches!(err, Error::TotpRequired(_) | Error::InvalidSecondFactor) {
        // The second step re-sends the password (on this no-store page only), so the whole
        // attempt is checked again by the same rules as the first.
        page.extend(vars(&[("step", "second_factor"), ("password", password)]));
    }
    if let Error::TotpRequired(Some(passkey)) = err {
        let challenge_id = passkey["challenge_id"].as_str().unwrap_or_default();
        let options = passkey["publicKey"].to_string();
        page.extend(vars(&[("passkey_challenge_id", challenge_id), ("passkey_options", &options)]));
    }
    if !field.is_empty() {
        page.extend(vars(&[(field, &text)]));
    }
    let mut response = state.pages.login(status, page);
    if let Some(seconds) = err.retry_after()
        && let Ok(value) = seconds.to_string().parse()
    {
        response.headers_mut().insert("Retry-After", value);
    }
    response
}

/// The consent form's answer: allow (remembered) or deny, for the signed-in user.
#[handler]
pub async fn consent_submit(state: Data<&AppState>, req: &Request, body: Body) -> Response {
    let Ok(bytes) = body.into_bytes_limit(MAX_FORM_BYTES).await else {
        return refused_page(&state, "The form was too large.");
    };
    let Ok(form) = Form::parse(&bytes) else { return refused_page(&state, "The form repeats a field.") };
    let query = form.get("request").unwrap_or_default().to_owned();
    let request = match checked_request(&state, &query).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    let Some(who) = signed_in(&state, req).await else { return redirect(&format!("/login?{query}")) };
    if !csrf_ok(&state, req, &form) {
        return refused_page(&state, "This form expired. Go back to the application and try again.");
    }
    if form.get("decision") != Some("allow") {
        return redirect(&authorize::deny(&state.auth, &request));
    }
    match authorize::consent(&state.auth, &request, &who, &request_meta(req)).await {
        Ok(url) => redirect(&url),
        Err(err) => state.pages.message(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", &err.description),
    }
}

/// RP-Initiated Logout: ends the browser session, then back to the client or a page.
#[handler]
pub async fn logout_get(state: Data<&AppState>, req: &Request) -> Response {
    let query = req.uri().query().unwrap_or_default();
    let Ok(form) = Form::parse(query.as_bytes()) else {
        return refused_page(&state, "The request repeats a parameter.");
    };
    let get = |name: &str| form.get(name).map(str::to_owned);
    let params = LogoutParams {
        id_token_hint: get("id_token_hint"),
        post_logout_redirect_uri: get("post_logout_redirect_uri"),
        client_id: get("client_id"),
        state: get("state"),
    };
    let after = match logout::check(&state.auth, &params).await {
        Ok(after) => after,
        Err(text) => {
            return state.pages.message(StatusCode::BAD_REQUEST, "This sign-out request cannot be completed", &text);
        }
    };
    if let Ok(Some(secret)) = auth::session_cookie(&state, req.headers())
        && let Err(err) = browser_session::sign_out(&state.auth, secret, &request_meta(req)).await
    {
        tracing::error!(error = ?err, "ending a browser session at logout failed");
        return state.pages.message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "You may still be signed in. Try again.",
        );
    }
    let response = match after {
        AfterLogout::Redirect(url) => redirect(&url),
        AfterLogout::Page => state.pages.message(StatusCode::OK, "You are signed out", "You can close this page."),
    };
    with_cookie(response, Some(auth::clear_session_cookie_header(&state)))
}
