//! `/me/totp`: the caller enrols, confirms and removes their own TOTP second factor.

use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use serde::Deserialize;

use super::errors::PlainError;
use super::json_body::JsonBody;
use crate::error::Error;
use crate::service::access::{self, Caller};
use crate::service::totp;
use crate::state::AppState;
use crate::store::users::User;

#[derive(Tags)]
enum TotpTags {
    /// The caller's second factor (TOTP, RFC 6238) and recovery codes.
    SecondFactor,
}

/// A new, pending secret: shown this once, never again.
#[derive(Object)]
struct EnrolmentDocument {
    /// The shared secret, base32 (what authenticator apps call the "setup key").
    secret: String,
    /// `otpauth://totp/…`: the same secret as a URI for a QR code.
    otpauth_uri: String,
}

/// A code from the authenticator app (or, to disable, a recovery code).
#[derive(Debug, Default, Object, Deserialize)]
#[serde(default)]
struct CodeRequest {
    #[oai(write_only)]
    code: Option<String>,
}

/// One-time recovery codes: shown this once, stored only as hashes; each works once instead of a code.
#[derive(Object)]
struct RecoveryCodesDocument {
    recovery_codes: Vec<String>,
}

#[derive(ApiResponse)]
enum Removed {
    /// The second factor is off; password logins no longer ask for a code.
    #[oai(status = 204)]
    Done,
}

pub struct TotpApi;

#[OpenApi(prefix_path = "/me/totp", tag = "TotpTags::SecondFactor")]
impl TotpApi {
    /// Starts enrolment (Bearer): a new secret, pending until confirmed; a new call replaces a
    /// pending one. 409 when a second factor is already on.
    #[oai(path = "/", method = "post")]
    async fn enrol(&self, state: Data<&AppState>, req: &Request) -> Result<Json<EnrolmentDocument>, PlainError> {
        let user = signed_in_user(&state, req).await?;
        let enrolment = totp::begin_enrolment(&state, &user).await?;
        Ok(Json(EnrolmentDocument { secret: enrolment.secret, otpauth_uri: enrolment.otpauth_uri }))
    }

    /// Turns the pending second factor on with a current code and answers ten recovery codes.
    #[oai(path = "/confirm", method = "post")]
    async fn confirm(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: JsonBody<CodeRequest>,
    ) -> Result<Json<RecoveryCodesDocument>, PlainError> {
        let user = signed_in_user(&state, req).await?;
        let code = body.0.code.ok_or_else(|| Error::BadRequest("code is required".into()))?;
        let recovery_codes = totp::confirm(&state, &user, &code).await?;
        Ok(Json(RecoveryCodesDocument { recovery_codes }))
    }

    /// Turns the second factor off, proven with a current code or an unused recovery code.
    #[oai(path = "/", method = "delete")]
    async fn remove(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: JsonBody<CodeRequest>,
    ) -> Result<Removed, PlainError> {
        let user = signed_in_user(&state, req).await?;
        let code = body.0.code.ok_or_else(|| Error::BadRequest("code is required".into()))?;
        totp::disable(&state, &user, &code).await?;
        Ok(Removed::Done)
    }
}

/// The caller, from the request's credentials (Bearer token, session cookie, or a delegate on a
/// user's behalf).
pub(super) async fn caller(state: &AppState, req: &Request) -> Result<Caller, Error> {
    access::authenticate(state, &super::auth::credentials(state, req)?).await
}

/// The calling user (a delegate acting as itself has no second factor to manage).
async fn signed_in_user(state: &AppState, req: &Request) -> Result<User, Error> {
    caller(state, req).await?.require_user().cloned()
}
