//! `POST /oauth2/token`, `POST /oauth2/introspect`, `POST /oauth2/revoke` and
//! `GET|POST /oauth2/userinfo`: parse, authenticate the client, call one service, answer JSON.

use poem::http::StatusCode;
use poem::web::Data;
use poem::{Body, Request, Response, handler};

use super::form::{Form, basic_credentials, read_form};
use super::respond;
use crate::http::auth::bearer_token;
use crate::http::client::request_meta;
use crate::service::oauth::client_auth::{self, AuthenticatedClient, PresentedClient};
use crate::service::oauth::error::OauthError;
use crate::service::oauth::grants::{self, CodeExchange};
use crate::service::oauth::{introspect, userinfo};
use crate::state::AppState;

/// Reads the form and authenticates the client it names.
async fn client_and_form(
    state: &AppState,
    req: &Request,
    body: Body,
) -> Result<(AuthenticatedClient, Form), OauthError> {
    let form = read_form(req, body).await?;
    let presented = PresentedClient {
        basic: basic_credentials(req.headers())?,
        client_id: form.get("client_id"),
        client_secret: form.get("client_secret"),
    };
    let client = client_auth::authenticate(&state.auth, &presented, &request_meta(req)).await?;
    Ok((client, form))
}

#[handler]
pub async fn token_endpoint(state: Data<&AppState>, req: &Request, body: Body) -> Response {
    match token_grant(&state, req, body).await {
        Ok(answer) => respond::json(StatusCode::OK, &answer),
        Err(err) => respond::error(&err, "Basic"),
    }
}

async fn token_grant(state: &AppState, req: &Request, body: Body) -> Result<grants::TokenResponse, OauthError> {
    let (client, form) = client_and_form(state, req, body).await?;
    let meta = request_meta(req);
    let auth = &state.auth;
    match form.get("grant_type") {
        Some("client_credentials") => grants::client_credentials(auth, &client, form.get("scope"), &meta).await,
        Some("authorization_code") => {
            let exchange = CodeExchange {
                code: form.get("code").ok_or_else(|| OauthError::invalid_request("code is required"))?,
                redirect_uri: form.get("redirect_uri"),
                code_verifier: form.get("code_verifier"),
            };
            grants::authorization_code(auth, &client, exchange, &meta).await
        }
        Some("refresh_token") => {
            let presented =
                form.get("refresh_token").ok_or_else(|| OauthError::invalid_request("refresh_token is required"))?;
            grants::refresh_token(auth, &client, presented, &meta).await
        }
        Some(other) => Err(OauthError::unsupported_grant_type(format!("grant_type {other} is not supported"))),
        None => Err(OauthError::invalid_request("grant_type is required")),
    }
}

#[handler]
pub async fn introspection(state: Data<&AppState>, req: &Request, body: Body) -> Response {
    let result = async {
        let (client, form) = client_and_form(&state, req, body).await?;
        let token = form.get("token").ok_or_else(|| OauthError::invalid_request("token is required"))?;
        introspect::introspect(&state.auth, &client, token, &request_meta(req)).await
    };
    match result.await {
        Ok(answer) => respond::json(StatusCode::OK, &answer),
        Err(err) => respond::error(&err, "Basic"),
    }
}

#[handler]
pub async fn revocation(state: Data<&AppState>, req: &Request, body: Body) -> Response {
    let result = async {
        let (client, form) = client_and_form(&state, req, body).await?;
        let token = form.get("token").ok_or_else(|| OauthError::invalid_request("token is required"))?;
        introspect::revoke_token(&state.auth, &client, token, &request_meta(req)).await
    };
    match result.await {
        Ok(()) => respond::json(StatusCode::OK, &serde_json::json!({})),
        Err(err) => respond::error(&err, "Basic"),
    }
}

/// The access token from `Authorization: Bearer`, or from a form body's `access_token` (RFC 6750 §2.2).
#[handler]
pub async fn user_info(state: Data<&AppState>, req: &Request, body: Body) -> Response {
    let result = async {
        let header = req.header("authorization").and_then(bearer_token).map(str::to_owned);
        let token = match header {
            Some(token) => token,
            None if req.method() == poem::http::Method::POST => {
                let form = read_form(req, body).await?;
                form.get("access_token").map(str::to_owned).ok_or_else(no_token)?
            }
            None => return Err(no_token()),
        };
        userinfo::userinfo(&state.auth, &token).await
    };
    match result.await {
        Ok(claims) => respond::json(StatusCode::OK, &claims),
        Err(err) => respond::error(&err, "Bearer"),
    }
}

fn no_token() -> OauthError {
    OauthError::invalid_token("an access token is required (Authorization: Bearer)")
}
