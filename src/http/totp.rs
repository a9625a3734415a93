//! `/me/totp`: the caller enrols, confirms and removes their own TOTP second factor.

use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use serde::Deserialize;

use super::errors::PlainError;
use super::json_body::JsonBody;
use crate::error::Error;
use crate::service::account::totp;
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

/// The account's current password and a code from the authenticator app (or, to disable, a
/// recovery code).
#[derive(Debug, Default, Object, Deserialize)]
#[serde(default)]
struct CodeRequest {
    #[oai(write_only)]
    password: Option<String>,
    #[oai(write_only)]
    code: Option<String>,
}

impl CodeRequest {
    /// The password and the code, both required.
    fn into_parts(self) -> Result<(String, String), Error> {
        let password = self.password.ok_or_else(|| Error::BadRequest("password is required".into()))?;
        let code = self.code.ok_or_else(|| Error::BadRequest("code is required".into()))?;
        Ok((password, code))
    }
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

#[derive(Default)]
pub struct TotpApi;

#[OpenApi(prefix_path = "/me/totp", tag = "TotpTags::SecondFactor")]
impl TotpApi {
    /// Starts enrolment (Bearer): a new secret, pending until confirmed; a new call replaces a
    /// pending one. 409 when a second factor is already on.
    #[oai(path = "/", method = "post")]
    async fn enrol(&self, state: Data<&AppState>, req: &Request) -> Result<Json<EnrolmentDocument>, PlainError> {
        let user = signed_in_user(&state, req).await?;
        let enrolment = totp::begin_enrolment(&state.auth, &user).await?;
        Ok(Json(EnrolmentDocument { secret: enrolment.secret, otpauth_uri: enrolment.otpauth_uri }))
    }

    /// Turns the pending second factor on with the account's password and a current code, and
    /// answers ten recovery codes. A wrong password (422 naming `password`) or code (401) counts
    /// toward the account's lockout.
    #[oai(path = "/confirm", method = "post")]
    async fn confirm(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: JsonBody<CodeRequest>,
    ) -> Result<Json<RecoveryCodesDocument>, PlainError> {
        let user = signed_in_user(&state, req).await?;
        let (password, code) = body.0.into_parts()?;
        let recovery_codes = totp::confirm(&state.auth, &user, &password, &code).await?;
        Ok(Json(RecoveryCodesDocument { recovery_codes }))
    }

    /// Turns the second factor off, proven with the account's password and a current code or an
    /// unused recovery code; wrong ones count toward the account's lockout.
    #[oai(path = "/", method = "delete")]
    async fn remove(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: JsonBody<CodeRequest>,
    ) -> Result<Removed, PlainError> {
        let user = signed_in_user(&state, req).await?;
        let (password, code) = body.0.into_parts()?;
        totp::disable(&state.auth, &user, &password, &code).await?;
        Ok(Removed::Done)
    }
}

/// The caller, from the request's credentials (Bearer token, session cookie, or a delegate on a
/// user's behalf).
/// The calling user (a delegate acting as itself has no second factor to manage).
async fn signed_in_user(state: &AppState, req: &Request) -> Result<User, Error> {
    super::auth::caller(state, req).await?.require_user().cloned()
}
