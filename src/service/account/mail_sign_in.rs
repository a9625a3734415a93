//! Signing in after a mailed token proved the mailbox (a password reset, an email verification):
//! the mailbox alone never beats a second factor. With a factor on, the account is changed but
//! nobody is signed in unless a current TOTP code or an unused recovery code comes with the token,
//! checked as a counted attempt (the lockout). See docs/account-recovery.md.

use crate::error::Error;
use crate::runtime::request_context::RequestMeta;
use crate::service::account::lockout;
use crate::service::account::totp;
use crate::service::auth::Auth;
use crate::service::auth::refresh;
use crate::store::users::User;

/// The second-factor codes that may come with a mailed token.
#[derive(Debug, Clone, Copy, Default)]
pub struct FactorCodes<'a> {
    pub totp_code: Option<&'a str>,
    pub recovery_code: Option<&'a str>,
}

/// Why nobody was signed in although the mailed token was good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorHold {
    /// The account has a second factor and no code came.
    Required,
    /// The code was wrong or used (counted toward the lockout).
    Invalid,
    /// The account is locked: no code was checked.
    Locked,
}

impl FactorHold {
    pub fn as_str(self) -> &'static str {
        match self {
            FactorHold::Required => "required",
            FactorHold::Invalid => "invalid",
            FactorHold::Locked => "locked",
        }
    }
}

/// What a completed reset or verification answers: the account, and either a token or why not.
#[derive(Debug, Clone)]
pub struct Completed {
    pub user: User,
    pub jwt: Option<String>,
    pub held: Option<FactorHold>,
}

/// Signs `user` in after the mailbox was proven: a token in a session of its own, unless the
/// account is disabled (403) or its second factor holds the sign-in back.
pub async fn sign_in(
    auth: &Auth,
    user: User,
    codes: FactorCodes<'_>,
    request: &RequestMeta,
) -> Result<Completed, Error> {
    if user.disabled {
        return Err(Error::AccountDisabled);
    }
    if auth.store().totp_factor(user.id).await?.is_some_and(|f| f.enabled) {
        if codes.totp_code.is_none() && codes.recovery_code.is_none() {
            return Ok(Completed { user, jwt: None, held: Some(FactorHold::Required) });
        }
        let key = lockout::account_key(&user.email);
        let checked = totp::check_login(auth, &user, codes.totp_code, codes.recovery_code);
        match lockout::counted(auth, &key, checked).await {
            Ok(()) => {}
            Err(Error::InvalidSecondFactor) => {
                return Ok(Completed { user, jwt: None, held: Some(FactorHold::Invalid) });
            }
            Err(Error::AccountLocked { .. }) => {
                return Ok(Completed { user, jwt: None, held: Some(FactorHold::Locked) });
            }
            Err(other) => return Err(other),
        }
    }
    let jwt = refresh::start_token_session(auth, &user, None, request).await?;
    Ok(Completed { user, jwt: Some(jwt), held: None })
}
