//! Authify's `/registration/*` routes: signup, email verification and password reset.

use poem::web::Data;
use poem_openapi::param::Header;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};
use serde::Deserialize;

use super::errors::PlainError;
use super::json_body::JsonBody;
use crate::domain::{Email, Handle, Password, Submitted};
use crate::email::RequestTemplates;
use crate::error::Error;
use crate::runtime::request_context::RequestMeta;
use crate::service::account::mail_sign_in::Completed;
use crate::service::account::reset_password;
use crate::service::account::signup;
use crate::service::account::verify_email;
use crate::state::AppState;
use crate::store::users::User;

#[derive(Tags)]
enum RegistrationTags {
    /// Signup, email verification and password reset (Authify-compatible).
    Registration,
}

/// An external identity a trusted delegate vouches for.
#[derive(Debug, Clone, Object, Deserialize)]
struct Via {
    provider: String,
    uid: String,
}

/// Per-request mail templates (Liquid); a value starting with `{base64}` is decoded first.
#[derive(Debug, Clone, Default, Object, Deserialize)]
#[serde(default)]
struct EmailTemplatesBody {
    subject: Option<String>,
    /// The plain-text body.
    body: Option<String>,
    /// The HTML body (variables are HTML-escaped).
    html_body: Option<String>,
}

/// `templates`: accepted from trusted delegates only (403 otherwise).
#[derive(Debug, Clone, Default, Object, Deserialize)]
#[serde(default)]
struct RequestTemplatesBody {
    email: Option<EmailTemplatesBody>,
}

impl RequestTemplatesBody {
    fn into_request(self) -> RequestTemplates {
        let email = self.email.unwrap_or_default();
        RequestTemplates { subject: email.subject, body: email.body, html_body: email.html_body }
    }
}

#[derive(Debug, Default, Object, Deserialize)]
#[serde(default)]
struct SignupRequest {
    email: Option<String>,
    /// At least 8 characters; optional from a trusted delegate.
    #[oai(write_only)]
    password: Option<String>,
    /// Display name.
    name: Option<String>,
    /// Wanted handle; derived from the email (or the name) when absent.
    handle: Option<String>,
    /// From trusted delegates only (ignored otherwise): the user is created verified with this identity.
    via: Option<Via>,
    templates: Option<RequestTemplatesBody>,
}

#[derive(Debug, Default, Object, Deserialize)]
#[serde(default)]
struct EmailVerificationRequest {
    email: Option<String>,
    #[oai(write_only)]
    password: Option<String>,
    /// The token from the verification mail.
    #[oai(write_only)]
    token: Option<String>,
    /// A current TOTP code, for an account with a second factor: without it (or a recovery code)
    /// nobody is signed in (see `second_factor` in the answer).
    #[oai(write_only)]
    totp_code: Option<String>,
    /// A one-time recovery code, instead of `totp_code`.
    #[oai(write_only)]
    recovery_code: Option<String>,
}

#[derive(Debug, Default, Object, Deserialize)]
#[serde(default)]
struct ForgotPasswordRequest {
    email: Option<String>,
    /// With `password`: the token from the reset mail.
    #[oai(write_only)]
    token: Option<String>,
    /// With `token`: the new password.
    #[oai(write_only)]
    password: Option<String>,
    /// A current TOTP code, for an account with a second factor: without it (or a recovery code)
    /// nobody is signed in (see `second_factor` in the answer).
    #[oai(write_only)]
    totp_code: Option<String>,
    /// A one-time recovery code, instead of `totp_code`.
    #[oai(write_only)]
    recovery_code: Option<String>,
    /// With `token`: also delete every API key of the account (default false).
    revoke_api_keys: Option<bool>,
    templates: Option<RequestTemplatesBody>,
}

/// The account, and a token when it may log in at once.
#[derive(Object)]
struct RegisteredUser {
    id: i64,
    email: String,
    handle: String,
    verified: bool,
    #[oai(skip_serializing_if_is_none)]
    jwt: Option<String>,
    /// Why there is no `jwt` although the mailed token was good: the account's second factor is
    /// `required` (no code came), the code was `invalid` (counted toward the lockout), or the
    /// account is `locked`.
    #[oai(skip_serializing_if_is_none)]
    second_factor: Option<String>,
}

/// `{}` after asking for a reset mail; the account and a token after a reset.
#[derive(Object, Default)]
struct ForgotPasswordResponse {
    #[oai(skip_serializing_if_is_none)]
    id: Option<i64>,
    #[oai(skip_serializing_if_is_none)]
    email: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    handle: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    verified: Option<bool>,
    #[oai(skip_serializing_if_is_none)]
    jwt: Option<String>,
    /// As in the verification answer: why there is no `jwt`.
    #[oai(skip_serializing_if_is_none)]
    second_factor: Option<String>,
}

fn document(user: User, jwt: Option<String>) -> RegisteredUser {
    RegisteredUser {
        id: user.id,
        email: user.email,
        handle: user.handle,
        verified: user.verified,
        jwt,
        second_factor: None,
    }
}

fn completed(done: Completed) -> RegisteredUser {
    let second_factor = done.held.map(|held| held.as_str().to_owned());
    RegisteredUser { second_factor, ..document(done.user, done.jwt) }
}

#[derive(Default)]
pub struct RegistrationApi;

#[OpenApi(prefix_path = "/registration", tag = "RegistrationTags::Registration")]
impl RegistrationApi {
    /// Creates an account and mails a verification token.
    ///
    /// With a trusted delegate's headers the password may be omitted, `via` creates the user
    /// verified with that identity (the answer then carries `jwt`, naming the delegate in `act`),
    /// and `templates` may shape the mail. With verification off (AUTHIFY_VERIFICATIONS_REQUIRED)
    /// the user is verified at once and gets `jwt`. 422: `Duplicate User`, `Failed to save user`
    /// (bad email), `Invalid password`, or a bad handle or template naming its field.
    #[oai(path = "/signup", method = "post")]
    async fn signup(
        &self,
        state: Data<&AppState>,
        /// A trusted delegate's access key.
        #[oai(name = "X-Authify-Access")]
        delegate_access: Header<Option<String>>,
        /// The trusted delegate's secret.
        #[oai(name = "X-Authify-Secret")]
        delegate_secret: Header<Option<String>>,
        meta: RequestMeta,
        body: JsonBody<SignupRequest>,
    ) -> Result<Json<RegisteredUser>, PlainError> {
        let body = body.0;
        let request = signup::SignupRequest {
            email: Submitted::parse(body.email.unwrap_or_default(), Email::parse),
            password: body.password.map(|password| Submitted::parse(password, Password::parse)),
            name: body.name,
            handle: body.handle.map(|handle| Submitted::parse(handle, Handle::parse)),
            via: body.via.map(|v| (v.provider, v.uid)),
            templates: body.templates.map(RequestTemplatesBody::into_request),
            delegate: delegate_access.0.zip(delegate_secret.0),
            meta: meta.clone(),
        };
        let signed = signup::signup(&state.account, request).await?;
        Ok(Json(document(signed.user, signed.jwt)))
    }

    /// Verifies an account's email with the mailed token; answers a token.
    ///
    /// Any failure (unknown email, wrong password, wrong, used or expired token) is 422
    /// `Verification Failed`.
    #[oai(path = "/verify", method = "post")]
    async fn verify(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        body: JsonBody<EmailVerificationRequest>,
    ) -> Result<Json<RegisteredUser>, PlainError> {
        let EmailVerificationRequest { email, password, token, totp_code, recovery_code } = body.0;
        let (Some(email), Some(token)) = (email, token) else { return Err(Error::VerificationFailed.into()) };
        let request = verify_email::VerifyRequest {
            email: Submitted::parse(email, Email::parse),
            password: password.unwrap_or_default(),
            token,
            totp_code,
            recovery_code,
            meta: meta.clone(),
        };
        Ok(Json(completed(verify_email::verify_email(&state.account, request).await?)))
    }

    /// With `email` alone: mails a reset token when the account exists, and answers `{}` either way.
    /// With `email`, `token` and `password`: sets the new password and answers the account and a
    /// token (422 `Verification Failed` or `Invalid password` otherwise).
    #[oai(path = "/forgot_password", method = "post")]
    async fn forgot_password(
        &self,
        state: Data<&AppState>,
        /// A trusted delegate's access key (needed for `templates`).
        #[oai(name = "X-Authify-Access")]
        delegate_access: Header<Option<String>>,
        /// The trusted delegate's secret.
        #[oai(name = "X-Authify-Secret")]
        delegate_secret: Header<Option<String>>,
        meta: RequestMeta,
        body: JsonBody<ForgotPasswordRequest>,
    ) -> Result<Json<ForgotPasswordResponse>, PlainError> {
        let ForgotPasswordRequest { email, token, password, totp_code, recovery_code, revoke_api_keys, templates } =
            body.0;
        let email = Submitted::parse(email.unwrap_or_default(), Email::parse);
        if token.is_some() || password.is_some() {
            let request = reset_password::ResetRequest {
                email,
                token: token.unwrap_or_default(),
                password: Submitted::parse(password.unwrap_or_default(), Password::parse),
                totp_code,
                recovery_code,
                revoke_api_keys: revoke_api_keys.unwrap_or(false),
                meta: meta.clone(),
            };
            let doc = completed(reset_password::reset_password(&state.account, request).await?);
            return Ok(Json(ForgotPasswordResponse {
                id: Some(doc.id),
                email: Some(doc.email),
                handle: Some(doc.handle),
                verified: Some(doc.verified),
                jwt: doc.jwt,
                second_factor: doc.second_factor,
            }));
        }
        let delegate = delegate_access.0.zip(delegate_secret.0);
        let templates = templates.map(RequestTemplatesBody::into_request);
        reset_password::ask_for_reset(&state.account, email, delegate, templates, &meta).await?;
        Ok(Json(ForgotPasswordResponse::default()))
    }
}
