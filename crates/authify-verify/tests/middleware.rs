//! The poem middleware and the tower layer (under axum) on real loopback servers, driven over HTTP.
#![cfg(all(feature = "poem", feature = "tower", feature = "fetch"))]
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use std::net::SocketAddr;

use authify_verify::{Claims, TokenSource, Verifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::json;

/// An ES256 key as Authify would hold it, and tokens it signs.
struct Issuer {
    pair: EcdsaKeyPair,
}

impl Issuer {
    fn new() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        Self { pair: EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap() }
    }

    fn verifier(&self) -> Verifier {
        let point = self.pair.public_key().as_ref();
        let jwk = json!({"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": "k1",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..])});
        let jwks = json!({ "keys": [jwk] }).to_string();
        Verifier::from_jwks_json(&jwks).unwrap().issuer("Authify").build().unwrap()
    }

    fn token(&self, scopes: &[&str], exp_in: i64) -> String {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let claims = json!({"iss": "Authify", "exp": now + exp_in, "iat": now, "sub": "7", "scopes": scopes,
            "user": {"username": "a@example.com", "uid": 7, "organizations": []}});
        let header = json!({"typ": "JWT", "alg": "ES256", "kid": "k1"});
        let input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let signature = self.pair.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }
}

/// A plain HTTP client. In a workspace build reqwest comes with rustls and no crypto provider (the
/// service's features), and panics unless one is installed.
fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// Status, `WWW-Authenticate` and body of `GET path` with `token` as Bearer (or as cookie `jwt`).
async fn get(addr: SocketAddr, path: &str, token: Option<&str>, cookie: bool) -> (u16, String, String) {
    let mut request = client().get(format!("http://{addr}{path}"));
    if let Some(token) = token {
        request = match cookie {
            false => request.bearer_auth(token),
            true => request.header("cookie", format!("theme=dark; jwt={token}")),
        };
    }
    let response = request.send().await.unwrap();
    let challenge = response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
    (response.status().as_u16(), challenge.unwrap_or_default(), response.text().await.unwrap())
}

/// The same conversation with either server: anonymous, user, expired, tampered, admin route, cookie.
async fn converse(addr: SocketAddr, issuer: &Issuer) {
    let user = issuer.token(&["user_access"], 900);
    let admin = issuer.token(&["user_access", "admin_access"], 900);
    assert_eq!(get(addr, "/me", None, false).await, (401, "Bearer".into(), String::new()));
    assert_eq!(get(addr, "/me", Some(&user), false).await, (200, String::new(), "a@example.com".into()));
    let expired = issuer.token(&["user_access"], -3600);
    let refused = (401, r#"Bearer error="invalid_token", error_description="token expired""#.into(), String::new());
    assert_eq!(get(addr, "/me", Some(&expired), false).await, refused);
    let tampered = format!("{}x", &user[..user.len() - 1]);
    assert_eq!(get(addr, "/me", Some(&tampered), false).await.0, 401);
    let (status, challenge, _) = get(addr, "/admin", Some(&user), false).await;
    assert_eq!(status, 403);
    assert!(
        challenge.starts_with(r#"Bearer error="insufficient_scope""#) && challenge.contains(r#"scope="admin_access""#)
    );
    assert_eq!(get(addr, "/admin", Some(&admin), false).await.0, 200);
    assert_eq!(get(addr, "/me", Some(&user), true).await.0, 200, "the token may come in the cookie");
    assert_eq!(get(addr, "/admin", None, false).await.0, 401);
}

fn username(claims: &Claims) -> String {
    claims.user.as_ref().map(|user| user.username.clone()).unwrap_or_default()
}

#[tokio::test]
async fn the_poem_middleware_answers_as_rfc_6750_says() {
    use authify_verify::poem::{AuthifyAuth, require_scope};
    use poem::listener::{Acceptor, Listener, TcpListener};
    use poem::{EndpointExt, Route, Server, get as route_get, handler};

    #[handler]
    fn me(claims: Claims) -> String {
        username(&claims)
    }

    let issuer = Issuer::new();
    let auth = AuthifyAuth::new(issuer.verifier()).token_source(TokenSource::bearer_or_cookie("jwt"));
    let app = Route::new().at("/me", route_get(me)).at("/admin", route_get(me).with(require_scope("admin_access")));
    let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.unwrap();
    let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
    let server = tokio::spawn(Server::new_with_acceptor(acceptor).run(app.with(auth)));
    converse(addr, &issuer).await;
    server.abort();
}

#[tokio::test]
async fn the_tower_layer_answers_as_rfc_6750_says_under_axum() {
    use authify_verify::tower::{AuthifyLayer, RequireScopeLayer};
    use axum::routing::get as route_get;
    use axum::{Extension, Router};

    async fn me(Extension(claims): Extension<Claims>) -> String {
        username(&claims)
    }

    let issuer = Issuer::new();
    let layer = AuthifyLayer::new(issuer.verifier()).token_source(TokenSource::bearer_or_cookie("jwt"));
    let app = Router::new()
        .route("/admin", route_get(me).layer(RequireScopeLayer::new("admin_access")))
        .route("/me", route_get(me))
        .layer(layer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    converse(addr, &issuer).await;
    server.abort();
}

#[test]
fn claims_outside_the_middleware_are_a_401() {
    // The poem extractor on a route AuthifyAuth does not cover.
    use poem::test::TestClient;
    use poem::{Route, get as route_get, handler};

    #[handler]
    fn me(claims: Claims) -> String {
        username(&claims)
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let response = TestClient::new(Route::new().at("/me", route_get(me))).get("/me").send().await;
        response.assert_status(poem::http::StatusCode::UNAUTHORIZED);
        response.assert_header("www-authenticate", "Bearer");
    });
}
