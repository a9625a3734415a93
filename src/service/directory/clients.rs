//! Registering, listing, changing the secret of and removing OAuth clients (the command line and
//! the admin API run the same functions). A confidential client's secret is shown once, in
//! [`RegisteredClient`]; only its SHA-256 is stored. Every change is audited.

use url::Url;

use super::Directory;
use crate::crypto::secret::hash_secret;
use crate::crypto::tokens::random_token;
use crate::domain::InvalidValue;
use crate::error::Error;
use crate::runtime::audit::{Actor, AuditEvent};
use crate::service::auth::access::Caller;
use crate::service::auth::{Sessions, revoke};
use crate::store::listing::{ListParams, Page};
use crate::store::oauth_clients::{NewClient, OauthClient};

/// Prefixed so a leaked secret is recognisable (by people and secret scanners) for what it is.
pub const SECRET_PREFIX: &str = "authify_cs_";

const MAX_NAME_CHARS: usize = 64;
const MAX_URIS: usize = 20;
const MAX_URI_CHARS: usize = 2000;
const MAX_SCOPES_CHARS: usize = 1024;

/// What an admin asks for when registering a client.
#[derive(Debug, Clone, Default)]
pub struct ClientSpec {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// Scopes the client may ask for itself with `client_credentials` (confidential clients).
    pub scopes: Vec<String>,
    /// A client that cannot keep a secret (a single-page or native app): PKCE instead.
    pub public: bool,
    /// Users are not asked to consent to a first-party client.
    pub first_party: bool,
}

/// A newly registered client and, for a confidential one, its secret, which exists nowhere else.
#[derive(Debug, Clone)]
pub struct RegisteredClient {
    pub client: OauthClient,
    pub secret: Option<String>,
}

/// Registers a client with a fresh `client_id` (128 random bits) and, unless public, a secret (256
/// random bits). A taken name is [`Error::Taken`] `{field: "name"}`.
pub async fn register(directory: &Directory, spec: ClientSpec, actor: Actor) -> Result<RegisteredClient, Error> {
    let name = spec.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(InvalidValue::new("name", format!("must be 1 to {MAX_NAME_CHARS} characters")).into());
    }
    if spec.redirect_uris.is_empty() {
        return Err(InvalidValue::new("redirect_uris", "at least one redirect URI is required").into());
    }
    check_uris("redirect_uris", &spec.redirect_uris)?;
    check_uris("post_logout_redirect_uris", &spec.post_logout_redirect_uris)?;
    let scopes = check_scopes(&spec.scopes)?;
    if spec.public && !scopes.is_empty() {
        return Err(InvalidValue::new("scopes", "a public client cannot use client_credentials").into());
    }
    let secret = (!spec.public).then(|| format!("{SECRET_PREFIX}{}", random_token(32)));
    let new = NewClient {
        client_id: random_token(16),
        name: name.to_owned(),
        secret_hash: secret.as_deref().map(hash_secret),
        redirect_uris: spec.redirect_uris,
        post_logout_redirect_uris: spec.post_logout_redirect_uris,
        scopes,
        public: spec.public,
        first_party: spec.first_party,
        now: directory.now(),
    };
    let client = directory.store.insert_client(new).await?;
    record(directory, actor, "client.create", &client).await;
    Ok(RegisteredClient { client, secret })
}

/// A new secret for a confidential client; the old one stops working at once on this instance and
/// within the revocation poll interval on the others.
pub async fn rotate_secret(
    directory: &Directory,
    sessions: &Sessions,
    client_id: &str,
    actor: Actor,
) -> Result<String, Error> {
    let client = find(directory, client_id).await?;
    if client.public {
        return Err(Error::Conflict("a public client has no secret".into()));
    }
    let secret = format!("{SECRET_PREFIX}{}", random_token(32));
    if !directory.store.set_client_secret(client.id, &hash_secret(&secret)).await? {
        return Err(Error::NotFound);
    }
    revoke::client_secret_changed(sessions, &client.client_id).await?;
    directory.changed();
    record(directory, actor, "client.rotate-secret", &client).await;
    Ok(secret)
}

/// Removes a client: its consents go, and every session it opened ends (their tokens are refused).
pub async fn remove(
    directory: &Directory,
    sessions: &Sessions,
    client_id: &str,
    actor: Actor,
) -> Result<OauthClient, Error> {
    let client = find(directory, client_id).await?;
    if !directory.store.delete_client(&client).await? {
        return Err(Error::NotFound);
    }
    let ended = directory.store.client_sessions(&client.client_id, None, directory.now()).await?;
    revoke::end_sessions(sessions, &ended).await?;
    revoke::shut_out_client(sessions, &client.client_id).await?;
    directory.changed();
    record(directory, actor, "client.remove", &client).await;
    Ok(client)
}

/// The client with this `client_id`, or [`Error::NotFound`].
pub async fn find(directory: &Directory, client_id: &str) -> Result<OauthClient, Error> {
    directory.store.client_by_client_id(client_id).await?.ok_or(Error::NotFound)
}

/// Every client, oldest first.
pub async fn list_clients(directory: &Directory) -> Result<Vec<OauthClient>, Error> {
    Ok(directory.store.list_clients().await?)
}

/// The client's redirect URIs (one per line in the store).
pub fn redirect_uris(client: &OauthClient) -> impl Iterator<Item = &str> {
    client.redirect_uris.lines().filter(|uri| !uri.is_empty())
}

/// The client's post-logout redirect URIs.
pub fn post_logout_redirect_uris(client: &OauthClient) -> impl Iterator<Item = &str> {
    client.post_logout_redirect_uris.lines().filter(|uri| !uri.is_empty())
}

fn require_admin_user(caller: &Caller) -> Result<(), Error> {
    if caller.is_admin_user() { Ok(()) } else { Err(Error::forbidden("Only admins manage OAuth clients")) }
}

/// `GET /clients`: one page, for admin users.
pub async fn list(directory: &Directory, caller: &Caller, params: &ListParams) -> Result<Page<OauthClient>, Error> {
    require_admin_user(caller)?;
    Ok(directory.store.list_clients_page(params).await?)
}

/// One client, for admin users.
pub async fn show(directory: &Directory, caller: &Caller, id: i64) -> Result<OauthClient, Error> {
    require_admin_user(caller)?;
    directory.store.client_by_id(id).await?.ok_or(Error::NotFound)
}

/// Registers a client for an admin user (see [`register`]).
pub async fn create(directory: &Directory, caller: &Caller, spec: ClientSpec) -> Result<RegisteredClient, Error> {
    require_admin_user(caller)?;
    register(directory, spec, caller.actor()).await
}

/// Removes a client for an admin user (see [`remove`]).
pub async fn delete(directory: &Directory, sessions: &Sessions, caller: &Caller, id: i64) -> Result<(), Error> {
    let client = show(directory, caller, id).await?;
    remove(directory, sessions, &client.client_id, caller.actor()).await.map(|_| ())
}

async fn record(directory: &Directory, actor: Actor, action: &str, client: &OauthClient) {
    let event = AuditEvent::new(actor, action)
        .target(format!("clients:{}", client.id))
        .detail(serde_json::json!({"client_id": client.client_id, "name": client.name}));
    directory.audit.record(event).await;
}

fn check_scopes(scopes: &[String]) -> Result<String, InvalidValue> {
    let text = scopes.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
    if text.len() > MAX_SCOPES_CHARS || text.bytes().any(|b| b == b'"' || b == b'\\' || !(0x20..0x7f).contains(&b)) {
        return Err(InvalidValue::new("scopes", "must be printable ASCII names, at most 1024 characters in all"));
    }
    Ok(text)
}

fn check_uris(field: &'static str, uris: &[String]) -> Result<(), InvalidValue> {
    if uris.len() > MAX_URIS {
        return Err(InvalidValue::new(field, format!("at most {MAX_URIS} URIs")));
    }
    for uri in uris {
        check_redirect_uri(uri).map_err(|problem| InvalidValue::new(field, format!("{uri}: {problem}")))?;
    }
    Ok(())
}

/// A redirect URI a client may register (RFC 6749 §3.1.2, RFC 8252): absolute, no fragment, no
/// whitespace; `https`, or `http` only to a loopback host, or a private-use scheme with a dot
/// (`com.example.app:/callback`) for native apps.
pub fn check_redirect_uri(uri: &str) -> Result<(), &'static str> {
    if uri.len() > MAX_URI_CHARS || uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must be at most 2000 characters without whitespace");
    }
    let parsed = Url::parse(uri).map_err(|_| "is not an absolute URI")?;
    if parsed.fragment().is_some() {
        return Err("must not have a fragment");
    }
    match parsed.scheme() {
        "https" if parsed.host().is_some() => Ok(()),
        "http" if is_loopback(&parsed) => Ok(()),
        "http" => Err("http is allowed only for loopback hosts (127.0.0.1, [::1], localhost)"),
        scheme if scheme.contains('.') => Ok(()),
        _ => Err("must be https, http on loopback, or a private-use scheme such as com.example.app"),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_must_be_safe_absolute_uris() {
        assert!(check_redirect_uri("https://app.example.com/callback?x=1").is_ok());
        assert!(check_redirect_uri("http://127.0.0.1:8080/cb").is_ok());
        assert!(check_redirect_uri("http://[::1]/cb").is_ok());
        assert!(check_redirect_uri("http://localhost/cb").is_ok());
        assert!(check_redirect_uri("com.example.app:/callback").is_ok());
        assert!(check_redirect_uri("http://app.example.com/cb").is_err());
        assert!(check_redirect_uri("https://app.example.com/cb#frag").is_err());
        assert!(check_redirect_uri("/relative").is_err());
        assert!(check_redirect_uri("javascript:alert(1)").is_err());
        assert!(check_redirect_uri("https://a.example/ cb").is_err());
    }
}
