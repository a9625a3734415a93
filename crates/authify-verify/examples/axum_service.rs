//! The same relying service with axum (the tower layer).
//!
//! `AUTHIFY_URL=http://127.0.0.1:9292 cargo run -p authify-verify --example axum_service --features tower`,
//! then `curl -H "Authorization: Bearer $JWT" http://127.0.0.1:3000/me`.
use authify_verify::tower::{AuthifyLayer, RequireScopeLayer};
use authify_verify::{Claims, Verifier};
use axum::routing::get;
use axum::{Extension, Router};

async fn me(Extension(claims): Extension<Claims>) -> String {
    let user = claims.user.as_ref().map_or("?", |user| user.username.as_str());
    format!("hello {user}, your scopes are {:?}\n", claims.scopes)
}

async fn admin() -> &'static str {
    "only for admin_access\n"
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let authify = std::env::var("AUTHIFY_URL").unwrap_or_else(|_| "http://127.0.0.1:9292".into());
    let verifier = Verifier::discover(authify).build()?;
    verifier.refresh().await?; // fail at start-up, not on the first request, if Authify is unreachable
    let app = Router::new()
        .route("/admin", get(admin).layer(RequireScopeLayer::new("admin_access")))
        .route("/me", get(me))
        .layer(AuthifyLayer::new(verifier));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    axum::serve(listener, app).await?;
    Ok(())
}
