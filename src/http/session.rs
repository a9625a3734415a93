//! Browser sessions (`POST /session`, `DELETE /session`) and the caller's password
//! (`POST /me/password`).

use poem::Request;
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use serde::Deserialize;

use super::auth;
use super::client::request_meta;
use super::errors::PlainError;
use super::json_body::JsonBody;
use super::passkeys::PasskeyAssertion;
use crate::domain::{Email, InvalidValue, Password, Submitted};
use crate::error::Error;
use crate::runtime::request_context::RequestMeta;
use crate::service::account::change_password;
use crate::service::auth::browser_session;
use crate::service::auth::login::PasswordAttempt;
use crate::state::AppState;

#[derive(Tags)]
enum SessionTags {
    /// Browser sessions held in an HttpOnly cookie, and the caller's own password.
    Sessions,
}

/// A password login for a browser: the same checks as `/jwt/token` (rate limits, lockout, second
/// factor).
#[derive(Debug, Default, Object, Deserialize)]
#[serde(default)]
struct SessionRequest {
    email: Option<String>,
    #[oai(write_only)]
    password: Option<String>,
    /// The account's current TOTP code, when it has a second factor.
    #[oai(write_only)]
    totp_code: Option<String>,
    /// A one-time recovery code instead of `totp_code`.
    #[oai(write_only)]
    recovery_code: Option<String>,
    /// A passkey instead of `totp_code` (see `/jwt/token`).
    #[oai(write_only)]
    passkey: Option<PasskeyAssertion>,
}

#[derive(ApiResponse)]
enum SessionResponse {
    /// Signed in (POST) or signed out (DELETE); `Set-Cookie` sets or clears the session cookie
    /// (`__Host-identity`, or `identity` when AUTHIFY_COOKIE_SECURE=false).
    #[oai(status = 204)]
    Done(#[oai(header = "Set-Cookie")] String),
}

/// A new password, proven with the current one.
#[derive(Debug, Default, Object, Deserialize)]
#[serde(default)]
struct PasswordChange {
    #[oai(write_only)]
    current_password: Option<String>,
    /// 8 to 1024 characters.
    #[oai(write_only)]
    new_password: Option<String>,
}

#[derive(ApiResponse)]
enum PasswordChanged {
    /// The password is changed; every other session of the user has ended.
    #[oai(status = 204)]
    Done,
}

#[derive(Default)]
pub struct SessionApi;

#[OpenApi(tag = "SessionTags::Sessions")]
impl SessionApi {
    /// Signs a browser in: 204 with a `__Host-identity` cookie (HttpOnly, SameSite=Lax, Secure,
    /// Path=/, no Domain; named `identity` and not Secure when AUTHIFY_COOKIE_SECURE=false) that
    /// authenticates every route a Bearer token does. The session ends after
    /// AUTHIFY_SESSION_IDLE_SECONDS without use. Unsafe requests that only the cookie
    /// authenticates need an allowed `Origin` (AUTHIFY_SESSION_ORIGINS) or, without an `Origin`,
    /// an `X-Requested-With` header. A request carrying two cookies of that name is refused with
    /// 400 (AUTH-0032). Failures answer like `/jwt/token`.
    #[oai(path = "/session", method = "post")]
    async fn sign_in(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        body: JsonBody<SessionRequest>,
    ) -> Result<SessionResponse, PlainError> {
        let request = body.0;
        let (Some(email), Some(password)) = (request.email, request.password) else {
            return Err(Error::InvalidCredentials.into());
        };
        let email = Submitted::parse(email, Email::parse);
        let passkey = request.passkey.map(PasskeyAssertion::into_assertion);
        let attempt = PasswordAttempt {
            email: &email,
            password: &password,
            totp_code: request.totp_code.as_deref(),
            recovery_code: request.recovery_code.as_deref(),
            passkey: passkey.as_ref(),
            request: &meta,
        };
        let signed_in = browser_session::sign_in(&state.auth, &attempt).await?;
        Ok(SessionResponse::Done(auth::session_cookie_header(&state, &signed_in.secret)))
    }

    /// Signs the browser out: its session ends at once and the cookie is cleared (204 also
    /// without a cookie). Subject to the same cross-site rule as other unsafe requests; with two
    /// session cookies, 400 and nothing ends.
    #[oai(path = "/session", method = "delete")]
    async fn sign_out(&self, state: Data<&AppState>, req: &Request) -> Result<SessionResponse, PlainError> {
        if let Some(secret) = auth::session_cookie(&state, req.headers())? {
            auth::check_same_origin(&state, req.headers())?;
            browser_session::sign_out(&state.auth, secret, &request_meta(req)).await?;
        }
        Ok(SessionResponse::Done(auth::clear_session_cookie_header(&state)))
    }

    /// Changes the caller's password (Bearer token or session cookie): the current password must
    /// be right (wrong answers count towards the account's lockout), the new one 8 to 1024
    /// characters. Every other session of the user ends; the caller's own stays.
    #[oai(path = "/me/password", method = "post")]
    async fn change_password(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: JsonBody<PasswordChange>,
    ) -> Result<PasswordChanged, PlainError> {
        let caller = auth::caller(&state, req).await?;
        let user = caller.require_user()?;
        let request = body.0;
        let current =
            request.current_password.ok_or_else(|| Error::BadRequest("current_password is required".into()))?;
        let new = request.new_password.ok_or_else(|| Error::BadRequest("new_password is required".into()))?;
        let new = Password::parse(&new).map_err(|e| Error::from(InvalidValue::new("new_password", e.problem)))?;
        let meta = request_meta(req);
        change_password::change_password(&state.auth, user, caller.session_id, &current, new, &meta).await?;
        Ok(PasswordChanged::Done)
    }
}
