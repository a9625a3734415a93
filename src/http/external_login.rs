//! `GET /identities/oidc/{provider}/login` and `…/callback`: sign-in through an external OpenID
//! Provider (`service::auth::external`); the login code it ends with is redeemed at `/jwt/token`.

use poem::web::Data;
use poem::{Endpoint, Request, Response};
use poem_openapi::param::{Path, Query};
use poem_openapi::{ApiResponse, OpenApi, Tags};

use super::auth;
use super::client::cookie_value;
use super::errors::{ErrorBody, PlainError};
use crate::runtime::request_context::RequestMeta;
use crate::service::auth::external::{self, CallbackRequest, LoginStart};
use crate::state::AppState;

#[derive(Tags)]
enum ExternalLoginTags {
    /// Sign-in through external OpenID Connect providers (Microsoft Entra ID, Google, any issuer).
    ExternalLogin,
}

#[derive(ApiResponse)]
enum Redirect {
    /// To the provider (from `login`) or back to the caller's `redirect_uri` with `code` and
    /// `state` (from `callback`); `Set-Cookie` sets or clears the cookie that binds the sign-in
    /// to this browser.
    #[oai(status = 302)]
    Found(#[oai(header = "Location")] String, #[oai(header = "Set-Cookie")] String),
}

#[derive(Default)]
pub struct ExternalLoginApi;

#[OpenApi(tag = "ExternalLoginTags::ExternalLogin")]
impl ExternalLoginApi {
    /// Starts a sign-in with the configured provider: 302 to its authorization endpoint with PKCE
    /// (S256), `state` and `nonce`. `redirect_uri` must be one of AUTHIFY_LOGIN_REDIRECT_URIS
    /// (exact match); `state` (at most 512 bytes) comes back beside the login code. 404 for a
    /// provider that is not configured, 503 when it cannot be reached.
    #[oai(path = "/identities/oidc/:provider/login", method = "get")]
    async fn login(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        provider: Path<String>,
        redirect_uri: Query<Option<String>>,
        #[oai(name = "state")] client_state: Query<Option<String>>,
        /// From the hosted sign-in page, instead of `redirect_uri`: the authorization request
        /// (`/oauth2/authorize?…`) to continue with a browser session once signed in.
        return_to: Query<Option<String>>,
    ) -> Result<Redirect, PlainError> {
        let provider = provider.0;
        let request = LoginStart {
            provider: provider.clone(),
            redirect_uri: redirect_uri.0,
            return_to: return_to.0,
            client_state: client_state.0,
            meta,
        };
        let departure = external::start(&state.external, request).await?;
        // Sent back to this provider's callback only; the name is a configured one (checked above).
        let path = format!("/identities/oidc/{provider}/");
        let cookie = auth::cookie_header(
            &state,
            &departure.cookie_name,
            &departure.cookie_value,
            &path,
            departure.cookie_seconds,
        );
        Ok(Redirect::Found(departure.location, cookie))
    }

    /// The provider's redirect back: checks `state` (once; in the browser that started the
    /// sign-in), exchanges `code`, checks the ID token, finds, links or creates the account, then
    /// 302 to the caller's `redirect_uri` with `code` (a one-time login code, valid 60 s, for
    /// `POST /jwt/token {"login_code"}`) and the caller's `state`. 401 when the sign-in fails
    /// (AUTH-0060), 403 when the provider's settings refuse it (AUTH-0061) or the account is
    /// disabled, 503 when the provider cannot be reached (AUTH-0062).
    #[oai(path = "/identities/oidc/:provider/callback", method = "get")]
    #[allow(clippy::too_many_arguments, reason = "one argument per documented query parameter")]
    async fn callback(
        &self,
        state: Data<&AppState>,
        req: &Request,
        meta: RequestMeta,
        provider: Path<String>,
        #[oai(name = "state")] login_state: Query<Option<String>>,
        code: Query<Option<String>>,
        error: Query<Option<String>>,
        error_description: Query<Option<String>>,
    ) -> Result<Redirect, PlainError> {
        let cookie =
            login_state.0.as_deref().and_then(|s| cookie_value(req, &external::cookie_name(s))).map(str::to_owned);
        let request = CallbackRequest {
            provider: provider.0.clone(),
            state: login_state.0,
            code: code.0,
            error: error.0,
            error_description: error_description.0,
            cookie,
            meta,
        };
        let arrival = external::callback(&state.external, request).await?;
        if let Some(secret) = &arrival.session_secret {
            return Ok(Redirect::Found(arrival.location, auth::session_cookie_header(&state, secret)));
        }
        let path = format!("/identities/oidc/{}/", provider.0);
        let cookie = auth::cookie_header(&state, &arrival.cookie_name, "", &path, 0);
        Ok(Redirect::Found(arrival.location, cookie))
    }
}

/// For a browser (`Accept: text/html`), a failed sign-in ends on a page saying what went wrong
/// instead of the JSON error other clients get; the status (and `Retry-After`) stay.
pub async fn pages_for_browsers<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let wants_page = req.header("accept").is_some_and(|accept| accept.contains("text/html"));
    let state = req.data::<AppState>().cloned();
    let response = next.get_response(req).await;
    let status = response.status();
    let (true, Some(state)) = (wants_page && (status.is_client_error() || status.is_server_error()), state) else {
        return Ok(response);
    };
    let retry_after = response.headers().get("retry-after").cloned();
    let said = response.into_body().into_json::<ErrorBody>().await.map(|body| body.error);
    let message = said.unwrap_or_else(|_| "The sign-in could not be completed.".into());
    let mut page = state.pages.message(status, "Sign-in failed", &message);
    if let Some(value) = retry_after {
        page.headers_mut().insert("retry-after", value);
    }
    Ok(page)
}
