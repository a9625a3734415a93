//! A small upstream OpenID Provider for the external-login tests: real discovery and JWKS
//! documents, and real RS256 ID tokens signed by `jsonwebtoken` with keys from OpenSSL (none of
//! it Authify's own JOSE code). It approves every authorization request at once for the person
//! set with [`UpstreamOp::sign_in_as`], checks the client's secret, redirect URI and PKCE verifier
//! at its token endpoint, and can be told to misbehave: a wrong nonce, another issuer, a new
//! signing key, Entra's tenant-templated issuer, being down.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{EncodingKey, Header};
use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Request, Response, Server};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use authify::config::{OidcProvider, SecretString};

use super::app::{Backend, TestApp, spawn};

/// Where the tests' external logins go back to (`login_redirect_uris`).
pub const REDIRECT: &str = "http://127.0.0.1:9/signed-in";
pub const CLIENT_ID: &str = "authify-test-client";
pub const CLIENT_SECRET: &str = "upstream client secret";

struct SigningKey {
    kid: String,
    key: EncodingKey,
    jwk: Value,
}

impl SigningKey {
    fn generate(kid: &str) -> Self {
        let rsa = openssl::rsa::Rsa::generate(2048).expect("an RSA key");
        let pem = rsa.private_key_to_pem().expect("PEM");
        let jwk = json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
            "n": URL_SAFE_NO_PAD.encode(rsa.n().to_vec()),
            "e": URL_SAFE_NO_PAD.encode(rsa.e().to_vec()),
        });
        Self { kid: kid.into(), key: EncodingKey::from_rsa_pem(&pem).expect("key"), jwk }
    }
}

struct Pending {
    claims: Value,
    nonce: String,
    challenge: String,
    redirect_uri: String,
}

#[derive(Default)]
struct Shared {
    /// The ID token claims of the next person to sign in (besides iss, aud, exp, iat, nonce).
    person: Value,
    /// Signing keys; the last one signs. Published: all of them, unless `publish_only_first`.
    keys: Vec<SigningKey>,
    pending: HashMap<String, Pending>,
    wrong_nonce: bool,
    other_issuer: Option<String>,
    deny: bool,
    down: bool,
    /// Only the discovery document and the JWKS answer 503.
    documents_down: bool,
    /// Seconds added to the real time in the tokens (to follow a test's manual clock).
    skew: i64,
    /// Entra mode: discovery publishes `{base}/{tenantid}/v2.0`, tokens `{base}/{tid}/v2.0`.
    tenant_templated: bool,
    requests: HashMap<String, usize>,
}

/// A running provider; stops when dropped.
pub struct UpstreamOp {
    pub addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

impl UpstreamOp {
    pub async fn start() -> UpstreamOp {
        Self::start_on("127.0.0.1:0").await
    }

    /// On a given address (a provider that comes back where it was).
    pub async fn start_on(addr: &str) -> UpstreamOp {
        let shared = Arc::new(Mutex::new(Shared { keys: vec![SigningKey::generate("key-1")], ..Default::default() }));
        let acceptor = TcpListener::bind(addr.to_owned()).into_acceptor().await.expect("bind the provider");
        let addr = acceptor.local_addr()[0].as_socket_addr().copied().expect("a socket address");
        let state = shared.clone();
        let endpoint = poem::endpoint::make(move |req: Request| {
            let state = state.clone();
            async move { handle(&state, addr, req).await }
        });
        let task = tokio::spawn(async move {
            let _ = Server::new_with_acceptor(acceptor).run(endpoint).await;
        });
        UpstreamOp { addr, shared, task }
    }

    /// The issuer to configure: the base URL, or Entra's `…/organizations/v2.0` in tenant mode.
    pub fn issuer(&self) -> String {
        match self.lock().tenant_templated {
            true => format!("http://{}/organizations/v2.0", self.addr),
            false => format!("http://{}", self.addr),
        }
    }

    pub fn sign_in_as(&self, claims: Value) {
        self.lock().person = claims;
    }

    pub fn tenant_templated(&self) {
        self.lock().tenant_templated = true;
    }

    pub fn send_wrong_nonce(&self) {
        self.lock().wrong_nonce = true;
    }

    pub fn sign_as_issuer(&self, issuer: &str) {
        self.lock().other_issuer = Some(issuer.into());
    }

    pub fn deny(&self) {
        self.lock().deny = true;
    }

    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    /// Moves this provider's clock on, as a test moves the service's.
    pub fn advance(&self, seconds: i64) {
        self.lock().skew += seconds;
    }

    pub fn set_documents_down(&self, down: bool) {
        self.lock().documents_down = down;
    }

    /// A new key signs from now on (the old one stays published).
    pub fn rotate_key(&self) {
        let mut shared = self.lock();
        let kid = format!("key-{}", shared.keys.len() + 1);
        shared.keys.push(SigningKey::generate(&kid));
    }

    /// How many requests `path` received.
    pub fn count(&self, path: &str) -> usize {
        self.lock().requests.get(path).copied().unwrap_or(0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().expect("provider state")
    }
}

impl Drop for UpstreamOp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(shared: &Mutex<Shared>, addr: SocketAddr, mut req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let query: HashMap<String, String> =
        form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes()).into_owned().collect();
    let body = req.take_body().into_vec().await.unwrap_or_default();
    let basic = req.headers().get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut shared = shared.lock().expect("provider state");
    *shared.requests.entry(path.clone()).or_default() += 1;
    if shared.down {
        return Response::builder().status(StatusCode::SERVICE_UNAVAILABLE).body("down");
    }
    if shared.documents_down && (path.ends_with("/openid-configuration") || path == "/jwks") {
        return Response::builder().status(StatusCode::SERVICE_UNAVAILABLE).body("down");
    }
    let base = format!("http://{addr}");
    let prefix = if shared.tenant_templated { "/organizations/v2.0" } else { "" };
    match path.strip_prefix(prefix).unwrap_or(&path) {
        "/.well-known/openid-configuration" => {
            let issuer = if shared.tenant_templated { format!("{base}/{{tenantid}}/v2.0") } else { base.clone() };
            json_response(&json!({
                "issuer": issuer,
                "authorization_endpoint": format!("{base}/authorize"),
                "token_endpoint": format!("{base}/token"),
                "jwks_uri": format!("{base}/jwks"),
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }))
        }
        "/jwks" => json_response(&json!({"keys": shared.keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()})),
        "/authorize" => authorize(&mut shared, &query),
        "/token" => token(&mut shared, &base, &body, basic.as_deref()),
        _ => Response::builder().status(StatusCode::NOT_FOUND).body("not found"),
    }
}

fn authorize(shared: &mut Shared, query: &HashMap<String, String>) -> Response {
    let get = |name: &str| query.get(name).cloned().unwrap_or_default();
    let redirect = get("redirect_uri");
    if get("client_id") != CLIENT_ID || get("code_challenge_method") != "S256" || get("response_type") != "code" {
        return Response::builder().status(StatusCode::BAD_REQUEST).body("bad authorization request");
    }
    let state = form_urlencoded::byte_serialize(get("state").as_bytes()).collect::<String>();
    if shared.deny {
        return found(&format!("{redirect}?error=access_denied&error_description=the+user+said+no&state={state}"));
    }
    let code = hex(&rand_bytes());
    let pending = Pending {
        claims: shared.person.clone(),
        nonce: get("nonce"),
        challenge: get("code_challenge"),
        redirect_uri: redirect.clone(),
    };
    shared.pending.insert(code.clone(), pending);
    found(&format!("{redirect}?code={code}&state={state}"))
}

fn token(shared: &mut Shared, base: &str, body: &[u8], basic: Option<&str>) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
    let expected = format!("Basic {}", STANDARD.encode(format!("{CLIENT_ID}:{}", form_encoded(CLIENT_SECRET))));
    if basic != Some(expected.as_str()) {
        return error_response(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let Some(pending) = form.get("code").and_then(|code| shared.pending.remove(code)) else {
        return error_response(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if challenge != pending.challenge || form.get("redirect_uri") != Some(&pending.redirect_uri) {
        return error_response(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    let real = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_secs() as i64;
    let now = real + shared.skew;
    let mut claims = pending.claims.clone();
    let tid = claims.get("tid").and_then(Value::as_str).unwrap_or_default().to_owned();
    let issuer = match (&shared.other_issuer, shared.tenant_templated) {
        (Some(other), _) => other.clone(),
        (None, true) => format!("{base}/{tid}/v2.0"),
        (None, false) => base.to_owned(),
    };
    let nonce = if shared.wrong_nonce { "not-the-nonce".to_owned() } else { pending.nonce };
    for (name, value) in [
        ("iss", json!(issuer)),
        ("aud", json!(CLIENT_ID)),
        ("iat", json!(now)),
        ("exp", json!(now + 300)),
        ("nonce", json!(nonce)),
    ] {
        claims[name] = value;
    }
    let key = shared.keys.last().expect("a key");
    let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(key.kid.clone());
    let id_token = jsonwebtoken::encode(&header, &claims, &key.key).expect("sign");
    json_response(&json!({"access_token": "unused", "token_type": "Bearer", "expires_in": 300, "id_token": id_token}))
}

/// An instance that knows the provider as `test`, at its own public URL (the provider redirects there).
pub async fn instance(
    backend: Backend,
    upstream: &UpstreamOp,
    tweak: impl FnOnce(&mut OidcProvider) + 'static,
) -> TestApp {
    instance_on(backend, super::ports::unused_port(), upstream.issuer(), tweak).await
}

pub async fn instance_on(
    backend: Backend,
    port: u16,
    issuer: String,
    tweak: impl FnOnce(&mut OidcProvider) + 'static,
) -> TestApp {
    spawn(backend)
        .settings(move |s| {
            s.listen = std::net::SocketAddr::from(([127, 0, 0, 1], port));
            s.public_url = format!("http://127.0.0.1:{port}");
            s.sessions.cookie_secure = false;
            s.external_login.login_redirect_uris = vec![REDIRECT.into()];
            let mut provider = OidcProvider {
                issuer,
                client_id: CLIENT_ID.into(),
                client_secret: Some(SecretString::new(CLIENT_SECRET)),
                display_name: None,
                scopes: vec!["openid".into(), "email".into(), "profile".into()],
                allowed_email_domains: vec![],
                allowed_tenants: vec![],
                link_by_email: false,
                create_users: true,
            };
            tweak(&mut provider);
            s.external_login.oidc_providers.insert("test".into(), provider);
        })
        .start()
        .await
}

fn form_encoded(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn rand_bytes() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    openssl::rand::rand_bytes(&mut bytes).expect("random");
    bytes
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn found(location: &str) -> Response {
    Response::builder().status(StatusCode::FOUND).header("Location", location).finish()
}

fn json_response(value: &Value) -> Response {
    Response::builder().content_type("application/json").body(value.to_string())
}

fn error_response(status: StatusCode, error: &str) -> Response {
    Response::builder().status(status).content_type("application/json").body(json!({"error": error}).to_string())
}
