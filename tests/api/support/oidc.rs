//! Driving the OpenID Provider as a relying party and a browser would: an instance at its own
//! issuer URL, clients registered through the directory service, the `openidconnect` crate (an
//! independent RP implementation) over our reqwest client, and a cookie-keeping "browser" that
//! follows the authorization redirects and fills the hosted sign-in and consent forms.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use authify::crypto::Algorithm;
use authify::runtime::audit::Actor;
use authify::service::directory::clients::{self, ClientSpec, RegisteredClient};
use openidconnect::core::{CoreClient, CoreProviderMetadata};
use openidconnect::{ClientId, ClientSecret, HttpRequest, HttpResponse, IssuerUrl, RedirectUrl};

use super::app::{Backend, TestApp, spawn};

pub const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

/// An instance whose AUTHIFY_PUBLIC_URL is its own address (discovery checks the issuer), with
/// plain-HTTP cookies.
pub async fn provider(backend: Backend, algorithm: Algorithm) -> TestApp {
    let port = super::ports::unused_port();
    spawn(backend)
        .algorithm(algorithm)
        .settings(move |s| {
            s.listen = std::net::SocketAddr::from(([127, 0, 0, 1], port));
            s.public_url = format!("http://127.0.0.1:{port}");
            s.sessions.cookie_secure = false;
        })
        .start()
        .await
}

/// Registers a client with [`REDIRECT_URI`].
pub async fn register(app: &TestApp, name: &str, public: bool, first_party: bool) -> RegisteredClient {
    let spec = ClientSpec {
        name: name.into(),
        redirect_uris: vec![REDIRECT_URI.into()],
        post_logout_redirect_uris: vec!["http://127.0.0.1:9/signed-out".into()],
        scopes: if public { vec![] } else { vec!["reports:read".into(), "introspection".into()] },
        public,
        first_party,
    };
    clients::register(&app.state.directory, spec, Actor::System).await.expect("client registered")
}

/// The async HTTP client `openidconnect` calls: our reqwest client, redirects not followed.
pub fn http_client() -> impl Fn(HttpRequest) -> Pin<Box<dyn Future<Output = Result<HttpResponse, reqwest::Error>>>> {
    let client =
        Arc::new(reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client"));
    move |request: HttpRequest| {
        let client = client.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let mut builder = client.request(parts.method, parts.uri.to_string()).body(body);
            for (name, value) in &parts.headers {
                builder = builder.header(name, value);
            }
            let response = builder.send().await?;
            let mut out = openidconnect::http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                out = out.header(name, value);
            }
            Ok(out.body(response.bytes().await?.to_vec()).expect("response"))
        })
    }
}

/// The relying party: discovery, then a client with our redirect URI.
pub async fn relying_party(
    app: &TestApp,
    registered: &RegisteredClient,
) -> openidconnect::core::CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
> {
    let issuer = IssuerUrl::new(app.settings.public_url.clone()).expect("issuer URL");
    let metadata = CoreProviderMetadata::discover_async(issuer, &http_client()).await.expect("discovery");
    CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(registered.client.client_id.clone()),
        registered.secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.into()).expect("redirect URI"))
}

/// A browser: keeps cookies, does not follow redirects.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().expect("browser")
}

/// The `Location` of a redirect, asserting there is one.
pub fn location(response: &reqwest::Response) -> String {
    assert!(response.status().is_redirection(), "expected a redirect, got {}", response.status());
    response.headers()["location"].to_str().expect("location").to_owned()
}

/// The value of a hidden input of a page, unescaped.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} field in {html}")) + marker.len();
    let value = &html[start..start + html[start..].find('"').expect("closing quote")];
    value.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// What the browser ended on after signing in.
pub enum Landing {
    /// Redirected to this URL (the client's redirect URI, with a code or an error).
    Redirect(String),
    /// A page with this status and body (the consent page, the TOTP step, an error).
    Page(u16, String),
}

/// Opens `authorize_url`, and when sent to the sign-in page, signs in with `email`/`password`.
pub async fn authorize(
    app: &TestApp,
    browser: &reqwest::Client,
    authorize_url: &str,
    email: &str,
    password: &str,
) -> Landing {
    let response = browser.get(authorize_url).send().await.expect("authorize");
    if !response.status().is_redirection() {
        let status = response.status().as_u16();
        return Landing::Page(status, response.text().await.expect("page"));
    }
    let next = location(&response);
    if !next.starts_with("/login") {
        return Landing::Redirect(next);
    }
    let page = browser.get(app.url(&next)).send().await.expect("login page").text().await.expect("html");
    submit_login(app, browser, &page, &[("email", email), ("password", password)]).await
}

/// Posts the sign-in form of `page` with these fields (plus its hidden ones).
pub async fn submit_login(app: &TestApp, browser: &reqwest::Client, page: &str, fields: &[(&str, &str)]) -> Landing {
    let mut form: Vec<(String, String)> =
        vec![("csrf".into(), hidden(page, "csrf")), ("request".into(), hidden(page, "request"))];
    for name in ["email", "password"] {
        if page.contains(&format!("type=\"hidden\" name=\"{name}\"")) {
            form.push((name.into(), hidden(page, name)));
        }
    }
    form.extend(fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let response = browser.post(app.url("/login")).form(&form).send().await.expect("sign in");
    landing(response).await
}

/// Answers the consent page `page` with `decision` (`allow` or `deny`).
pub async fn consent(app: &TestApp, browser: &reqwest::Client, page: &str, decision: &str) -> Landing {
    let form =
        [("csrf", hidden(page, "csrf")), ("request", hidden(page, "request")), ("decision", decision.to_owned())];
    let response = browser.post(app.url("/oauth2/consent")).form(&form).send().await.expect("consent");
    landing(response).await
}

async fn landing(response: reqwest::Response) -> Landing {
    if response.status().is_redirection() {
        Landing::Redirect(location(&response))
    } else {
        let status = response.status().as_u16();
        Landing::Page(status, response.text().await.expect("page"))
    }
}

/// A query parameter of a URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let parsed = url::Url::parse(url).expect("absolute URL");
    parsed.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
}
