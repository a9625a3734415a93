//! Signup (`POST /registration/signup`): a new account, verified by mail, or at once when a trusted
//! delegate vouches for it with an external identity (`via`) or when verification is off.
//! Everything is checked (including request templates) before the one transaction that writes
//! the user, its identity, its token and its mail.

use crate::domain::{Email, FullName, Handle, InvalidValue, Password, Submitted};
use crate::email::templates::ParsedOverrides;
use crate::email::{MailKind, RequestTemplates};
use crate::error::Error;
use crate::runtime::equal_time::TypicalDuration;
use crate::runtime::request_context::RequestMeta;
use crate::service::account::Account;
use crate::service::account::email_tokens::{
    LIMIT_WINDOW_SECONDS, MailAudience, MailRequest, PreparedMail, mail_allowed, prepare_mail,
};
use crate::service::auth::delegate_auth::{actor_of, authenticate_delegate};
use crate::service::auth::external::PROVIDER_PREFIX;
use crate::service::auth::refresh::start_token_session;
use crate::service::directory::users::free_handle;
use crate::store::StoreError;
use crate::store::delegates::Delegate;
use crate::store::registration::{LinkedIdentity, Registration};
use crate::store::users::{NewUser, User};

/// How long a new signup takes: a taken address is answered in that time, so that only the answer
/// (`422 Duplicate User`, as authify-api's) says the address has an account, not its time.
static NEW_SIGNUP: TypicalDuration = TypicalDuration::new();

/// A signup as it arrived.
#[derive(Debug, Clone)]
pub struct SignupRequest {
    pub email: Submitted<Email>,
    pub password: Option<Submitted<Password>>,
    pub name: Option<String>,
    pub handle: Option<Submitted<Handle>>,
    /// `(provider, uid)`: honoured from trusted delegates only, ignored otherwise (as in Authify).
    pub via: Option<(String, String)>,
    pub templates: Option<RequestTemplates>,
    /// The `X-Authify-Access` / `X-Authify-Secret` pair, when given.
    pub delegate: Option<(String, String)>,
    /// The HTTP request it came in (client address for the limits, id for the audit trail).
    pub meta: RequestMeta,
}

/// The new user, and a token when it was verified at once.
#[derive(Debug, Clone)]
pub struct SignedUp {
    pub user: User,
    pub jwt: Option<String>,
}

#[tracing::instrument(skip_all)]
pub async fn signup(account: &Account, request: SignupRequest) -> Result<SignedUp, Error> {
    let started = std::time::Instant::now();
    let delegate = match &request.delegate {
        Some((access, secret)) => Some(authenticate_delegate(&account.auth, access, secret, &request.meta).await?),
        None => None,
    };
    let overrides = request_overrides(account, delegate.as_ref(), request.templates.as_ref())?;
    let email = request.email.value().map_err(|_| Error::FailedToSaveUser)?;
    let password = match (&request.password, &delegate) {
        (Some(password), _) => Some(password.value().map_err(|_| Error::InvalidPassword)?),
        (None, Some(_)) => None,
        (None, None) => return Err(Error::InvalidPassword),
    };
    let name = clean_name(request.name.as_deref())?;
    if account.store().user_by_email(email.as_str()).await?.is_some() {
        if let Some(password) = &password {
            account.auth.hasher.hash(password.expose()).await?;
        }
        NEW_SIGNUP.wait_out(started).await;
        return Err(Error::DuplicateUser);
    }
    let handle = choose_handle(account, request.handle.as_ref(), email, name.as_deref()).await?;
    if request.via.as_ref().is_some_and(|(provider, _)| provider.starts_with(PROVIDER_PREFIX)) {
        return Err(InvalidValue::new("via", "`oidc:` names identities proven by a configured provider").into());
    }
    let via = match &delegate {
        Some(delegate) => {
            request.via.clone().map(|(provider, uid)| LinkedIdentity { provider, uid, delegate_id: Some(delegate.id) })
        }
        None => None,
    };
    let verified = via.is_some() || !account.auth.settings.verifications_required;
    let prepared = match verified {
        true => None,
        false => {
            let mail = MailRequest {
                kind: MailKind::Verify,
                email: email.as_str(),
                name: name.as_deref().unwrap_or_default(),
                handle: handle.as_str(),
                overrides: overrides.as_ref(),
                client_ip: request.meta.client_ip,
                new_email: false,
            };
            Some(verification_mail(account, mail).await?)
        }
    };
    let password_digest = match &password {
        Some(password) => Some(account.auth.hasher.hash(password.expose()).await?),
        None => None,
    };
    let queued = prepared.is_some();
    let (token, mail) = prepared.map(|PreparedMail { token, mail }| (Some(token), Some(mail))).unwrap_or_default();
    let user = NewUser {
        email: email.as_str().to_owned(),
        handle: handle.as_str().to_owned(),
        full_name: name,
        password_digest,
        admin: false,
        verified,
        now: account.now(),
    };
    let user = account.store().register_user(Registration { user, identity: via, token, mail }).await.map_err(taken)?;
    NEW_SIGNUP.note(started);
    if queued {
        account.mail_queued();
    }
    let jwt = match verified {
        true => Some(token_for_new_user(account, &user, delegate.as_ref(), &request.meta).await?),
        false => None,
    };
    Ok(SignedUp { user, jwt })
}

/// The verification mail, unless the mail limits are reached (429: nothing is created).
async fn verification_mail(account: &Account, mail: MailRequest<'_>) -> Result<PreparedMail, Error> {
    let audience = MailAudience { recipient: mail.email, client_ip: mail.client_ip, user_id: None };
    if !mail_allowed(account, audience).await? {
        return Err(Error::MailLimit { retry_after: LIMIT_WINDOW_SECONDS as u32 });
    }
    prepare_mail(account, mail).await
}

/// Parses request templates, which only trusted delegates may send (unless
/// AUTHIFY_REQUEST_TEMPLATES_FOR_ALL): they let the caller choose what a mail from us says.
pub fn request_overrides(
    account: &Account,
    delegate: Option<&Delegate>,
    templates: Option<&RequestTemplates>,
) -> Result<Option<ParsedOverrides>, Error> {
    let Some(templates) = templates else { return Ok(None) };
    if delegate.is_none() && !account.auth.settings.request_templates_for_all {
        return Err(Error::forbidden("Request templates are accepted from trusted delegates only"));
    }
    templates.parse().map(Some)
}

fn clean_name(name: Option<&str>) -> Result<Option<String>, Error> {
    Ok(name.map(|name| FullName::parse(name, "name")).transpose()?.flatten().map(FullName::into_inner))
}

/// The requested handle (422 naming `handle` when invalid or taken), else one derived from the
/// email's local part, else from the name, else the email's with the first free numeric suffix.
async fn choose_handle(
    account: &Account,
    requested: Option<&Submitted<Handle>>,
    email: &Email,
    name: Option<&str>,
) -> Result<Handle, Error> {
    if let Some(requested) = requested {
        let handle = requested.value()?.clone();
        if account.store().handle_taken(handle.as_str()).await? {
            return Err(InvalidValue::new("handle", "is already taken").into());
        }
        return Ok(handle);
    }
    let from_email = Handle::derive_from(email);
    if !account.store().handle_taken(from_email.as_str()).await? {
        return Ok(from_email);
    }
    let from_name: String =
        name.unwrap_or_default().chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect();
    if let Ok(handle) = Handle::parse(&from_name.chars().take(Handle::MAX_LEN - 8).collect::<String>())
        && !account.store().handle_taken(handle.as_str()).await?
    {
        return Ok(handle);
    }
    free_handle(account.store(), &from_email).await
}

/// A unique violation at insert time (a concurrent signup won the race) in the words of signup.
fn taken(err: StoreError) -> Error {
    match err {
        StoreError::Taken { field: "email" } => Error::DuplicateUser,
        StoreError::Taken { field: "handle" } => InvalidValue::new("handle", "is already taken").into(),
        StoreError::Taken { .. } => InvalidValue::new("via", "this identity is already linked to a user").into(),
        other => other.into(),
    }
}

/// A token for a user verified at signup, in a session of its own (so ending the user's sessions
/// ends it); minted by a delegate, it names the delegate in `act` and carries no more than its scopes.
async fn token_for_new_user(
    account: &Account,
    user: &User,
    delegate: Option<&Delegate>,
    request: &RequestMeta,
) -> Result<String, Error> {
    let actor = delegate.map(actor_of);
    start_token_session(&account.auth, user, actor.as_deref(), request).await
}
