//! A relying service with poem that accepts Authify tokens.
//!
//! `AUTHIFY_URL=http://127.0.0.1:9292 cargo run -p authify-verify --example poem_service --features poem`,
//! then `curl -H "Authorization: Bearer $JWT" http://127.0.0.1:3000/me`.
use authify_verify::poem::{AuthifyAuth, require_scope};
use authify_verify::{Claims, Verifier};
use poem::listener::TcpListener;
use poem::web::Data;
use poem::{EndpointExt, Route, Server, get, handler};

#[handler]
fn me(claims: Data<&Claims>) -> String {
    let user = claims.user.as_ref().map_or("?", |user| user.username.as_str());
    format!("hello {user}, your scopes are {:?}\n", claims.scopes)
}

#[handler]
fn admin() -> &'static str {
    "only for admin_access\n"
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let authify = std::env::var("AUTHIFY_URL").unwrap_or_else(|_| "http://127.0.0.1:9292".into());
    let verifier = Verifier::discover(authify).build()?;
    verifier.refresh().await?; // fail at start-up, not on the first request, if Authify is unreachable
    let app = Route::new()
        .at("/me", get(me))
        .at("/admin", get(admin).with(require_scope("admin_access")))
        .with(AuthifyAuth::new(verifier));
    Server::new(TcpListener::bind("127.0.0.1:3000")).run(app).await?;
    Ok(())
}
