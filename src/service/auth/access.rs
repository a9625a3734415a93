//! Who is calling: a user (by Bearer token, or a trusted delegate acting on the user's behalf) or a
//! trusted delegate acting as itself. Users are resolved by id (`sub`), never by email, and a token
//! of a disabled or deleted user is refused.

use crate::domain::{Email, Scope};
use crate::error::Error;
use crate::runtime::audit::{self, Actor, AuditEvent};
use crate::runtime::request_context::RequestMeta;
use crate::service::auth::Auth;
use crate::service::auth::browser_session;
use crate::service::auth::delegate_auth::{acting_delegate, authenticate_delegate, confine, scopes_of_delegate};
use crate::service::auth::issue_token::{ADMIN_ACCESS, scopes_of};
use crate::service::auth::verify_token;
use crate::store::delegates::Delegate;
use crate::store::users::User;

/// Credentials as they arrived, before they are checked.
#[derive(Debug, Default, Clone)]
pub struct Credentials<'a> {
    pub bearer: Option<&'a str>,
    pub delegate_access: Option<&'a str>,
    pub delegate_secret: Option<&'a str>,
    /// `X-Authify-On-Behalf-Of`: an email or a user id.
    pub on_behalf_of: Option<&'a str>,
    /// The browser session cookie's secret (used only without a Bearer token or delegate headers).
    pub session_cookie: Option<&'a str>,
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: Option<User>,
    /// A delegate that proved its own secret on this request.
    pub delegate: Option<Delegate>,
    /// The delegate a Bearer token was minted through (its `act` claim): a delegated token, never
    /// more than that delegate's scopes, and never a person signed in themselves.
    pub acting_delegate: Option<Delegate>,
    scopes: Vec<String>,
    /// The session the credential belongs to (a token's `sid`, or the cookie's session).
    pub session_id: Option<i64>,
}

impl Caller {
    pub fn user_id(&self) -> Option<i64> {
        self.user.as_ref().map(|u| u.id)
    }

    /// Global admin powers: an admin user whose token carries `admin_access` (an API key without it
    /// narrows an admin to a user), or a delegate acting as itself with `admin_access`.
    pub fn is_admin(&self) -> bool {
        let scoped = self.scopes.iter().any(|s| s == ADMIN_ACCESS);
        match &self.user {
            Some(user) => user.admin && scoped,
            None => self.delegate.is_some() && scoped,
        }
    }

    /// An admin person signed in themselves (not a delegate, whether acting as itself, on an
    /// admin's behalf or through a token it obtained for one): only they manage trusted delegates,
    /// so a delegate cannot mint delegates.
    pub fn is_admin_user(&self) -> bool {
        self.delegate.is_none() && self.acting_delegate.is_none() && self.is_admin()
    }

    /// The scopes of the credential (a token's `scopes`, or a delegate's narrowed to the user's).
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    pub fn is_delegate(&self) -> bool {
        self.delegate.is_some()
    }

    pub fn is_user(&self, user_id: i64) -> bool {
        self.user_id() == Some(user_id)
    }

    /// Self or admin: who may see a user's private attributes and own resources.
    pub fn is_self_or_admin(&self, user_id: i64) -> bool {
        self.is_user(user_id) || self.is_admin()
    }

    /// Who to name on the audit trail: the user (also when a delegate acts for them: the
    /// impersonation itself is audited separately), else the delegate.
    pub fn actor(&self) -> Actor {
        match (&self.user, &self.delegate) {
            (Some(user), _) => Actor::User(user.id),
            (None, Some(delegate)) => Actor::Delegate(delegate.name.clone()),
            (None, None) => Actor::Anonymous,
        }
    }

    /// The calling user; a delegate acting as itself has none.
    pub fn require_user(&self) -> Result<&User, Error> {
        self.user.as_ref().ok_or_else(|| Error::forbidden("This action needs a user (X-Authify-On-Behalf-Of)"))
    }
}

/// Checks the credentials; no or bad credentials give [`Error::Unauthenticated`].
pub async fn authenticate(auth: &Auth, credentials: &Credentials<'_>, request: &RequestMeta) -> Result<Caller, Error> {
    if let (Some(access), Some(secret)) = (credentials.delegate_access, credentials.delegate_secret) {
        let delegate =
            authenticate_delegate(auth, access, secret, request).await.map_err(|_| Error::Unauthenticated)?;
        let delegate_scopes = scopes_of_delegate(&delegate);
        return match credentials.on_behalf_of {
            None => Ok(Caller {
                user: None,
                delegate: Some(delegate),
                acting_delegate: None,
                scopes: delegate_scopes,
                session_id: None,
            }),
            Some(who) => {
                let user = impersonate(auth, &delegate, who, request).await?;
                let scopes = confine(scopes_of(&user), &delegate);
                Ok(Caller {
                    user: Some(user),
                    delegate: Some(delegate),
                    acting_delegate: None,
                    scopes,
                    session_id: None,
                })
            }
        };
    }
    if let (None, Some(cookie)) = (credentials.bearer, credentials.session_cookie) {
        let (user, session) = browser_session::authenticate(auth, cookie).await?;
        let scopes = scopes_of(&user);
        return Ok(Caller {
            user: Some(user),
            delegate: None,
            acting_delegate: None,
            scopes,
            session_id: Some(session.id),
        });
    }
    let token = credentials.bearer.ok_or(Error::Unauthenticated)?;
    let verified = verify_token::verify(&auth.tokens, token).map_err(|_| Error::Unauthenticated)?;
    let claims = verified.claims;
    let user_id = claims.subject().ok_or(Error::Unauthenticated)?;
    let user = auth.store().user_by_id(user_id.0).await?.ok_or(Error::Unauthenticated)?;
    if user.disabled {
        return Err(Error::Unauthenticated);
    }
    let mut scopes: Vec<String> = claims.scopes.into_iter().map(Scope::into_string).collect();
    // A token minted through a delegate stays within what that delegate holds now.
    let acting = match claims.act {
        Some(act) => Some(acting_delegate(auth.store(), &act.sub).await?),
        None => None,
    };
    if let Some(delegate) = &acting {
        scopes = confine(scopes, delegate);
    }
    let session_id = claims.sid.map(|sid| sid.0);
    Ok(Caller { user: Some(user), delegate: None, acting_delegate: acting, scopes, session_id })
}

/// The user a delegate acts for (`X-Authify-On-Behalf-Of`: an email or an id); every attempt is
/// audited (`delegate.impersonate`). The delegate has already proven its secret, so it is told
/// what went wrong: an unknown user is [`Error::NotFound`] (404), a disabled one
/// [`Error::AccountDisabled`] (403); neither is a credential problem (401).
async fn impersonate(auth: &Auth, delegate: &Delegate, who: &str, request: &RequestMeta) -> Result<User, Error> {
    let found = user_by_email_or_id(auth, who).await;
    let mut event = AuditEvent::during(request, Actor::Delegate(delegate.name.clone()), "delegate.impersonate");
    if let Ok(Some(user)) = &found {
        event = event.target(format!("users:{}", user.id));
    }
    let result = match found {
        Ok(Some(user)) if user.disabled => Err(Error::AccountDisabled),
        Ok(Some(user)) => Ok(user),
        Ok(None) => Err(Error::NotFound),
        Err(err) => Err(err),
    };
    let mut detail = audit::outcome(&result);
    detail["on_behalf_of"] = who.chars().take(254).collect::<String>().into();
    auth.audit().record(event.detail(detail)).await;
    result
}

async fn user_by_email_or_id(auth: &Auth, who: &str) -> Result<Option<User>, Error> {
    if let Ok(id) = who.parse::<i64>() {
        return Ok(auth.store().user_by_id(id).await?);
    }
    match Email::parse(who) {
        Ok(email) => Ok(auth.store().user_by_email(email.as_str()).await?),
        Err(_) => Ok(None),
    }
}
