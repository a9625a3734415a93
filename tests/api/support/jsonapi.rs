//! A {json:api} client for tests: requests with the media type and a credential, and every
//! response body checked against the official JSON:API 1.0 schema (tests/api/jsonapi-schema).

use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::support::app::{PASSWORD, TestApp};

pub const MEDIA_TYPE: &str = "application/vnd.api+json";

/// Who makes a request.
#[derive(Debug, Clone)]
pub enum As {
    Anonymous,
    Bearer(String),
    Delegate {
        access: String,
        secret: String,
        on_behalf_of: Option<String>,
    },
    /// The session cookie (`__Host-identity`), with extra headers (`Origin`, `X-Requested-With`).
    Cookie {
        cookie: String,
        headers: Vec<(&'static str, String)>,
    },
}

/// A response: status, headers and the (schema-checked) document.
#[derive(Debug)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl ApiResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The first error object, asserting the status.
    pub fn error(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "expected {status}: {}", self.body);
        &self.body["errors"][0]
    }

    /// Ids of the primary data (a collection).
    pub fn ids(&self) -> Vec<String> {
        self.body["data"]
            .as_array()
            .expect("a collection")
            .iter()
            .map(|r| r["id"].as_str().expect("id").to_owned())
            .collect()
    }

    pub fn id(&self) -> i64 {
        self.body["data"]["id"].as_str().expect("an id").parse().expect("numeric id")
    }
}

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema: Value =
            serde_json::from_str(include_str!("../jsonapi-schema/schema.json")).expect("the JSON:API schema is JSON");
        jsonschema::validator_for(&schema).expect("the JSON:API schema compiles")
    })
}

/// Panics with every violation when `document` is not a valid JSON:API 1.0 response document.
pub fn assert_valid_document(document: &Value) {
    let errors: Vec<String> =
        validator().iter_errors(document).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "not a valid JSON:API document: {errors:?}\n{document:#}");
}

impl TestApp {
    /// Sends a {json:api} request; `body` is sent with the media type. Non-empty responses must be
    /// valid documents with the media type.
    pub async fn api(&self, method: &str, path: &str, who: &As, body: Option<Value>) -> ApiResponse {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.client.request(method, self.url(path)).header("accept", MEDIA_TYPE);
        request = match who {
            As::Anonymous => request,
            As::Bearer(token) => request.bearer_auth(token),
            As::Delegate { access, secret, on_behalf_of } => {
                let request = request.header("x-authify-access", access).header("x-authify-secret", secret);
                match on_behalf_of {
                    Some(who) => request.header("x-authify-on-behalf-of", who),
                    None => request,
                }
            }
            As::Cookie { cookie, headers } => headers.iter().fold(
                request.header("cookie", format!("{}={cookie}", crate::support::cookies::COOKIE_NAME)),
                |r, (name, value)| r.header(*name, value),
            ),
        };
        if let Some(body) = body {
            request = request.header("content-type", MEDIA_TYPE).body(body.to_string());
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body");
        let body = if bytes.is_empty() {
            assert_eq!(status, 204, "only 204 may be empty");
            Value::Null
        } else {
            let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
            assert_eq!(content_type, MEDIA_TYPE, "status {status}");
            let body: Value = serde_json::from_slice(&bytes).expect("a JSON body");
            assert_valid_document(&body);
            body
        };
        ApiResponse { status, headers, body }
    }

    pub async fn api_get(&self, path: &str, who: &As) -> ApiResponse {
        self.api("GET", path, who, None).await
    }

    /// A verified user and a Bearer credential for them.
    pub async fn user_with_token(&self, email: &str, admin: bool) -> (i64, As) {
        let user = self.insert_user(email, true, admin).await;
        let (status, body) = self.login(email, PASSWORD).await;
        assert_eq!(status, 200, "{body}");
        (user.id, As::Bearer(body["jwt"].as_str().expect("jwt").to_owned()))
    }

    /// A trusted delegate registered straight in the store, acting as itself.
    pub async fn delegate(&self, name: &str) -> As {
        let secret = format!("authify_ds_{}", authify::crypto::secret::random_hex(32));
        let access = authify::crypto::secret::random_hex(20);
        self.state
            .store
            .insert_delegate(authify::store::delegates::NewDelegate {
                name: name.to_owned(),
                description: None,
                access_key: access.clone(),
                secret_hash: authify::crypto::secret::hash_secret(&secret),
                scopes: "user_access admin_access".into(),
                now: self.clock_now(),
            })
            .await
            .expect("insert delegate");
        As::Delegate { access, secret, on_behalf_of: None }
    }

    /// Creates an organization as `who` and returns its id.
    pub async fn create_organization(&self, who: &As, name: &str) -> i64 {
        let response = self
            .api(
                "POST",
                "/organizations",
                who,
                Some(json!({"data": {"type": "organizations", "attributes": {"name": name}}})),
            )
            .await;
        assert_eq!(response.status, 201, "{}", response.body);
        response.id()
    }
}

/// `{"data": [{"type": kind, "id": …}…]}` for relationship routes.
pub fn linkage(kind: &str, ids: &[i64]) -> Value {
    json!({ "data": ids.iter().map(|id| json!({"type": kind, "id": id.to_string()})).collect::<Vec<_>>() })
}
