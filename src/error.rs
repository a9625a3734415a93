//! The one domain error. Each variant has a stable code (`AUTH-00NN`, searchable in logs and docs)
//! and an HTTP status; `http::errors` is the single place that turns it into a response.

use crate::crypto::password::HashError;
use crate::domain::InvalidValue;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Unknown account, wrong password or unverified email: one answer for all, so a caller cannot
    /// tell which.
    #[error("Invalid credentials")]
    InvalidCredentials,
    #[error("Account disabled")]
    AccountDisabled,
    /// A value that does not meet the rules, naming its field.
    #[error("{0}")]
    Invalid(#[from] InvalidValue),
    /// A request that cannot be understood at all.
    #[error("{0}")]
    BadRequest(String),
    /// A unique value that someone else already has.
    #[error("{field} is already taken")]
    Taken { field: &'static str },
    #[error("Not found")]
    NotFound,
    /// No credentials, or credentials that are not good (on routes that need a caller).
    #[error("Authentication required")]
    Unauthenticated,
    /// The caller is known but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The request contradicts the state of the resource (for example a `type` that does not match).
    #[error("{0}")]
    Conflict(String),
    /// A query parameter that is unknown or has a bad value, naming the parameter.
    #[error("{parameter}: {problem}")]
    BadParameter { parameter: String, problem: String },
    /// A request document that does not have the right shape, with a JSON pointer to the culprit.
    #[error("{problem}")]
    BadDocument { pointer: String, problem: String },
    /// A {json:api} request whose `Accept` excludes the media type (or lists it only with
    /// parameters). The plain-JSON routes answer media-type, size and method errors through poem
    /// (`http::errors::poem_error_to_json`), so this and the next three come from {json:api} routes.
    #[error("This route answers only with application/vnd.api+json (without media type parameters)")]
    NotAcceptable,
    /// A {json:api} request body declared as anything but the media type without parameters.
    #[error("Request bodies must be application/vnd.api+json without media type parameters")]
    UnsupportedMediaType,
    /// A {json:api} request body over `limit` bytes.
    #[error("Request bodies may be at most {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// A method the route does not serve; `allowed` lists those it does (the `Allow` header).
    #[error("This route allows {allowed}")]
    MethodNotAllowed { allowed: String },
    /// The database cannot be reached; retry after a few seconds.
    #[error("The service cannot reach its database; retry shortly")]
    DatabaseUnavailable,
    /// Too much work queued (for example password checks); retry after `retry_after` seconds.
    #[error("Too many requests at once; retry shortly")]
    Busy { retry_after: u32 },
    /// A mail template (operator's or per-request) that cannot be parsed or rendered, with Liquid's reason.
    #[error("Invalid template: {0}")]
    TemplateInvalid(String),
    /// Signup with an email that already has an account (Authify's text).
    #[error("Duplicate User")]
    DuplicateUser,
    /// Signup with an email that is not an address (Authify's text).
    #[error("Failed to save user")]
    FailedToSaveUser,
    /// A new password that does not meet the rules (Authify's text).
    #[error("Invalid password")]
    InvalidPassword,
    /// A verification or reset token that is wrong, used, expired or for another purpose, or an
    /// unknown email: one answer for all (Authify's text).
    #[error("Verification Failed")]
    VerificationFailed,
    /// Too many mails asked for from this address or for this recipient; retry after `retry_after` seconds.
    #[error("Too many mails requested; retry later")]
    MailLimit { retry_after: u32 },
    /// The account has a second factor and the login named no code (only after a correct password).
    /// Carries a passkey ceremony (`{"challenge_id", "publicKey"}`) when the account has passkeys.
    #[error("totp_required")]
    TotpRequired(Option<Box<serde_json::Value>>),
    /// A passkey route on an instance whose settings give no WebAuthn relying party.
    #[error("Passkeys are off on this server: {0}")]
    PasskeysOff(String),
    /// A wrong, reused or expired TOTP code, or an unknown or used recovery code.
    #[error("Invalid second factor code")]
    InvalidSecondFactor,
    /// Too many consecutive failed logins: the account is locked for `retry_after` seconds.
    #[error("Account temporarily locked after repeated failed logins; retry later")]
    AccountLocked { retry_after: u32 },
    /// Too many requests from this client (or for this account from it) in the current window.
    #[error("Too many requests; retry later")]
    RateLimited { retry_after: u32 },
    #[error("A second factor is already enabled")]
    TotpAlreadyEnabled,
    /// `POST /me/totp/confirm` without a pending enrolment.
    #[error("No second factor enrolment to confirm; POST /me/totp first")]
    TotpNotPending,
    #[error("No second factor is enabled")]
    TotpNotEnabled,
    /// A refresh token that is unknown, used, expired or of an ended session: one answer for all.
    #[error("Invalid refresh token")]
    InvalidRefreshToken,
    /// An unsafe request authenticated by the session cookie from a page that is not allowed
    /// (no matching `Origin` and no `X-Requested-With`).
    #[error("Cross-site request refused: send an allowed Origin or an X-Requested-With header")]
    CrossSiteRequest,
    /// A request carrying more than one session cookie of the name in use: which one is the
    /// browser's own cannot be told (another site under the same domain may have planted one), so
    /// none is used. Not a 401, which would only send the browser to sign in again while the other
    /// cookie stays.
    #[error("The request carries more than one session cookie; clear this site's cookies and sign in again")]
    AmbiguousSessionCookie,
    /// A sign-in through an external provider that did not prove who it is for: a bad or replayed
    /// `state`, an error from the provider, an ID token that fails a check.
    #[error("External sign-in failed: {0}")]
    ExternalLoginFailed(String),
    /// An external sign-in that proved who it is for, but that the provider's settings do not let
    /// in (email domain, tenant, no linking, no new accounts).
    #[error("External sign-in refused: {0}")]
    ExternalLoginRefused(String),
    /// The external provider could not be reached or answered nonsense; try again later.
    #[error("The sign-in provider is not available: {0}")]
    ProviderUnavailable(String),
    /// Anything that is our fault; logged with its cause chain and never shown to the client.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl Error {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidCredentials => "AUTH-0001",
            Error::AccountDisabled => "AUTH-0002",
            Error::Invalid(_) => "AUTH-0003",
            Error::BadRequest(_) => "AUTH-0004",
            Error::Taken { .. } => "AUTH-0005",
            Error::NotFound => "AUTH-0006",
            Error::Busy { .. } => "AUTH-0007",
            Error::Unauthenticated => "AUTH-0008",
            Error::Forbidden(_) => "AUTH-0009",
            Error::Conflict(_) => "AUTH-0010",
            Error::BadParameter { .. } => "AUTH-0011",
            Error::BadDocument { .. } => "AUTH-0012",
            Error::NotAcceptable => "AUTH-0013",
            Error::UnsupportedMediaType => "AUTH-0014",
            Error::PayloadTooLarge { .. } => "AUTH-0015",
            Error::MethodNotAllowed { .. } => "AUTH-0016",
            Error::TemplateInvalid(_) => "AUTH-0020",
            Error::DuplicateUser => "AUTH-0021",
            Error::FailedToSaveUser => "AUTH-0022",
            Error::InvalidPassword => "AUTH-0023",
            Error::VerificationFailed => "AUTH-0024",
            Error::MailLimit { .. } => "AUTH-0025",
            Error::TotpRequired(_) => "AUTH-0050",
            Error::InvalidSecondFactor => "AUTH-0051",
            Error::AccountLocked { .. } => "AUTH-0052",
            Error::RateLimited { .. } => "AUTH-0053",
            Error::TotpAlreadyEnabled => "AUTH-0054",
            Error::TotpNotPending => "AUTH-0055",
            Error::TotpNotEnabled => "AUTH-0056",
            Error::InvalidRefreshToken => "AUTH-0030",
            Error::CrossSiteRequest => "AUTH-0031",
            Error::AmbiguousSessionCookie => "AUTH-0032",
            Error::ExternalLoginFailed(_) => "AUTH-0060",
            Error::ExternalLoginRefused(_) => "AUTH-0061",
            Error::ProviderUnavailable(_) => "AUTH-0062",
            Error::PasskeysOff(_) => "AUTH-0070",
            Error::DatabaseUnavailable => "AUTH-0503",
            Error::Internal(_) => "AUTH-0500",
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            Error::InvalidCredentials => 401,
            Error::AccountDisabled => 403,
            Error::Invalid(_) => 422,
            Error::BadRequest(_) => 400,
            Error::Taken { .. } => 409,
            Error::NotFound => 404,
            Error::Busy { .. } | Error::DatabaseUnavailable => 503,
            Error::Unauthenticated => 401,
            Error::Forbidden(_) => 403,
            Error::Conflict(_) => 409,
            Error::BadParameter { .. } => 400,
            Error::BadDocument { .. } => 400,
            Error::NotAcceptable => 406,
            Error::UnsupportedMediaType => 415,
            Error::PayloadTooLarge { .. } => 413,
            Error::MethodNotAllowed { .. } => 405,
            Error::TemplateInvalid(_)
            | Error::DuplicateUser
            | Error::FailedToSaveUser
            | Error::InvalidPassword
            | Error::VerificationFailed => 422,
            Error::MailLimit { .. } => 429,
            Error::TotpRequired(_) | Error::InvalidSecondFactor => 401,
            Error::PasskeysOff(_) => 404,
            Error::AccountLocked { .. } | Error::RateLimited { .. } => 429,
            Error::TotpAlreadyEnabled | Error::TotpNotPending | Error::TotpNotEnabled => 409,
            Error::InvalidRefreshToken => 401,
            Error::CrossSiteRequest => 403,
            Error::AmbiguousSessionCookie => 400,
            Error::ExternalLoginFailed(_) => 401,
            Error::ExternalLoginRefused(_) => 403,
            Error::ProviderUnavailable(_) => 503,
            Error::Internal(_) => 500,
        }
    }

    /// Seconds after which a retry may succeed (the `Retry-After` header), for 429 and 503.
    pub fn retry_after(&self) -> Option<u32> {
        match self {
            Error::Busy { retry_after }
            | Error::AccountLocked { retry_after }
            | Error::RateLimited { retry_after }
            | Error::MailLimit { retry_after } => Some(*retry_after),
            Error::ProviderUnavailable(_) => Some(30),
            Error::DatabaseUnavailable => Some(5),
            _ => None,
        }
    }

    /// Whether a retry shortly may succeed: the service is busy or cannot reach its database
    /// (503 with a message the client may see).
    pub fn is_temporary(&self) -> bool {
        matches!(self, Error::Busy { .. } | Error::DatabaseUnavailable)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Error::Forbidden(message.into())
    }

    pub fn bad_parameter(parameter: impl Into<String>, problem: impl Into<String>) -> Self {
        Error::BadParameter { parameter: parameter.into(), problem: problem.into() }
    }

    pub fn bad_document(pointer: impl Into<String>, problem: impl Into<String>) -> Self {
        Error::BadDocument { pointer: pointer.into(), problem: problem.into() }
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Error::Internal(err.into())
    }
}

impl From<StoreError> for Error {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Taken { field } => Error::Taken { field },
            StoreError::Unavailable => Error::DatabaseUnavailable,
            StoreError::Db(err) => Error::internal(err),
        }
    }
}

impl From<HashError> for Error {
    fn from(err: HashError) -> Self {
        match err {
            HashError::Busy => Error::Busy { retry_after: 1 },
            other => Error::internal(other),
        }
    }
}

impl From<josekit::JoseError> for Error {
    fn from(err: josekit::JoseError) -> Self {
        Error::internal(err)
    }
}
