//! Passkeys: registration by the signed-in user (`/me/passkeys/register/*`) and passwordless
//! sign-in (`/passkeys/login/*`). Listing, renaming and deleting them is the {json:api} resource
//! `passkeys` (`resources::passkeys`).

use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use serde::Deserialize;
use serde_json::Value;

use super::auth;
use super::errors::PlainError;
use super::json_body::JsonBody;
use super::jwt::TokenResponse;
use crate::error::Error;
use crate::runtime::request_context::RequestMeta;
use crate::service::auth::passkeys::second_factor::Assertion;
use crate::service::auth::passkeys::{PASSKEY_AMR, register, sign_in};
use crate::service::auth::{browser_session, refresh};
use crate::state::AppState;
use crate::store::passkeys::StoredPasskey;

#[derive(Tags)]
enum PasskeyTags {
    /// Passkeys (WebAuthn): registration and passwordless sign-in.
    Passkeys,
}

/// A passkey assertion: the ceremony's `challenge_id` and the browser's `PublicKeyCredential`
/// (from `navigator.credentials.get`, as JSON with base64url fields).
#[derive(Debug, Clone, Object, Deserialize)]
pub struct PasskeyAssertion {
    challenge_id: String,
    credential: Value,
}

impl PasskeyAssertion {
    pub fn into_assertion(self) -> Assertion {
        Assertion { challenge_id: self.challenge_id, credential: self.credential }
    }
}

/// The options for `navigator.credentials.create` (`{"publicKey": …}`).
#[derive(Object)]
struct CreationOptions {
    #[oai(rename = "publicKey")]
    public_key: Value,
}

/// The finished registration: a name for the passkey and the browser's `PublicKeyCredential`.
#[derive(Debug, Default, Object, Deserialize)]
#[serde(default)]
struct RegisterFinish {
    /// A label (at most 255 characters); none by default.
    name: Option<String>,
    /// The result of `navigator.credentials.create`, as JSON with base64url fields.
    credential: Option<Value>,
}

/// A stored passkey (the same as the {json:api} resource `passkeys`).
#[derive(Object)]
struct PasskeyDocument {
    id: String,
    name: Option<String>,
    /// Unix seconds.
    created_at: i64,
}

impl From<StoredPasskey> for PasskeyDocument {
    fn from(row: StoredPasskey) -> Self {
        Self { id: row.id.to_string(), name: row.name, created_at: row.created_at }
    }
}

/// A passwordless sign-in ceremony: finish it with `challenge_id` within five minutes.
#[derive(Object)]
struct SignInChallenge {
    challenge_id: String,
    /// The request options for `navigator.credentials.get`.
    #[oai(rename = "publicKey")]
    public_key: Value,
    /// `conditional`: the options suit the browser's autofill (conditional mediation).
    mediation: Option<Value>,
}

#[derive(Debug, Default, Object, Deserialize)]
#[serde(default)]
struct SignInFinish {
    challenge_id: Option<String>,
    /// The result of `navigator.credentials.get`, as JSON with base64url fields.
    credential: Option<Value>,
    /// `true`: answer with the browser session cookie instead of tokens.
    session: bool,
}

#[derive(ApiResponse)]
enum SignedIn {
    /// Signed in: the same answer as a password login at `/jwt/token`; tokens carry
    /// `amr: ["hwk", "user"]`.
    #[oai(status = 200)]
    Tokens(Json<TokenResponse>),
    /// Signed in with `"session": true`: `Set-Cookie` holds the browser session.
    #[oai(status = 204)]
    Session(#[oai(header = "Set-Cookie")] String),
}

#[derive(Default)]
pub struct PasskeyApi;

#[OpenApi(tag = "PasskeyTags::Passkeys")]
impl PasskeyApi {
    /// Starts registering a passkey for the caller (Bearer token or session cookie): the options
    /// for `navigator.credentials.create` (a discoverable credential, user verification
    /// required). A new start replaces a pending one; 409 past 20 passkeys; 404 when passkeys are
    /// off (AUTHIFY_PUBLIC_URL with an IP address and no AUTHIFY_PASSKEY_RP_ID).
    #[oai(path = "/me/passkeys/register/start", method = "post")]
    async fn register_start(&self, state: Data<&AppState>, req: &Request) -> Result<Json<CreationOptions>, PlainError> {
        let user = signed_in_user(&state, req).await?;
        let mut options = register::start(&state.auth, &user).await?;
        Ok(Json(CreationOptions { public_key: options["publicKey"].take() }))
    }

    /// Finishes the pending registration: 200 with the stored passkey; 422 naming `credential`
    /// when the browser's answer is refused (wrong origin or RP id, no user verification, …);
    /// 409 without a pending registration (each is used once, for five minutes).
    #[oai(path = "/me/passkeys/register/finish", method = "post")]
    async fn register_finish(
        &self,
        state: Data<&AppState>,
        req: &Request,
        meta: RequestMeta,
        body: JsonBody<RegisterFinish>,
    ) -> Result<Json<PasskeyDocument>, PlainError> {
        let user = signed_in_user(&state, req).await?;
        let finish = body.0;
        let credential = finish.credential.ok_or_else(|| Error::BadRequest("credential is required".into()))?;
        let stored = register::finish(&state.auth, &user, finish.name, credential, &meta).await?;
        Ok(Json(stored.into()))
    }

    /// Starts a passwordless sign-in: no email needed (a discoverable credential), so the options
    /// suit conditional mediation (autofill).
    #[oai(path = "/passkeys/login/start", method = "post")]
    async fn login_start(&self, state: Data<&AppState>) -> Result<Json<SignInChallenge>, PlainError> {
        let mut challenge = sign_in::start(&state.auth).await?;
        Ok(Json(SignInChallenge {
            challenge_id: challenge.challenge_id,
            public_key: challenge.options["publicKey"].take(),
            mediation: challenge.options.get("mediation").cloned(),
        }))
    }

    /// Finishes a passwordless sign-in: tokens like `/jwt/token`, or with `"session": true` the
    /// browser session cookie (then subject to the session's cross-site rule). A wrong, replayed
    /// or expired assertion is 401 and counts toward the account's lockout; a counter that went
    /// backwards (a cloned authenticator) is refused and audited; a disabled account is 403.
    #[oai(path = "/passkeys/login/finish", method = "post")]
    async fn login_finish(
        &self,
        state: Data<&AppState>,
        req: &Request,
        meta: RequestMeta,
        body: JsonBody<SignInFinish>,
    ) -> Result<SignedIn, PlainError> {
        let finish = body.0;
        let challenge_id = finish.challenge_id.ok_or_else(|| Error::BadRequest("challenge_id is required".into()))?;
        let credential = finish.credential.ok_or_else(|| Error::BadRequest("credential is required".into()))?;
        let credential = sign_in::parse_assertion(credential)?;
        if finish.session {
            auth::check_same_origin(&state, req.headers())?;
        }
        let user = sign_in::finish(&state.auth, challenge_id, credential, &meta).await?;
        if finish.session {
            let signed_in = browser_session::open_with(&state.auth, user, Some(PASSKEY_AMR), &meta).await?;
            return Ok(SignedIn::Session(auth::session_cookie_header(&state, &signed_in.secret)));
        }
        let pair = refresh::start_session(&state.auth, &user, None, Some(PASSKEY_AMR), None, &meta).await?;
        Ok(SignedIn::Tokens(Json(pair.into())))
    }
}

/// The calling user (a delegate acting as itself has no passkeys).
async fn signed_in_user(state: &AppState, req: &Request) -> Result<crate::store::users::User, Error> {
    auth::caller(state, req).await?.require_user().cloned()
}
