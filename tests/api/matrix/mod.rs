//! Black-box access-matrix tests for the {json:api} resources (SPEC §4): who may do what on every
//! route, which attributes each caller sees, and what deletes take with them. Every case is
//! collected by [`Expect`] so a failing test lists every broken cell of its table at once.

mod apikeys;
mod cascade;
mod delegates;
mod groups;
mod identities;
mod ids;
mod organizations;
mod privacy;
mod users;

use serde_json::{Value, json};

use crate::support::app::{Backend, TestApp, spawn};
use crate::support::jsonapi::{ApiResponse, As, linkage};

/// A caller with a name for failure messages.
#[derive(Debug, Clone)]
pub struct Actor {
    pub name: &'static str,
    pub who: As,
}

/// One instance with the usual cast: a global admin, Acme (alice its admin, bob a member), carol
/// who belongs to nothing, and a trusted delegate (`portal`, with user and admin access).
pub struct World {
    pub app: TestApp,
    pub admin_id: i64,
    pub alice_id: i64,
    pub bob_id: i64,
    pub carol_id: i64,
    pub org: i64,
    pub anonymous: Actor,
    pub admin: Actor,
    /// Acme's admin.
    pub alice: Actor,
    /// A member of Acme.
    pub bob: Actor,
    /// In no organization.
    pub carol: Actor,
    /// The delegate acting as itself (counts as an admin).
    pub delegate: Actor,
}

pub async fn world(backend: Backend) -> World {
    let app = spawn(backend).start().await;
    let (admin_id, admin) = app.user_with_token("root@example.com", true).await;
    let (alice_id, alice) = app.user_with_token("alice@example.com", false).await;
    let (bob_id, bob) = app.user_with_token("bob@example.com", false).await;
    let (carol_id, carol) = app.user_with_token("carol@example.com", false).await;
    let org = app.create_organization(&alice, "Acme").await;
    let path = format!("/organizations/{org}/relationships/users");
    let added = app.api("POST", &path, &alice, Some(linkage("users", &[bob_id]))).await;
    assert_eq!(added.status, 204, "{}", added.body);
    let delegate = app.delegate("portal").await;
    World {
        app,
        admin_id,
        alice_id,
        bob_id,
        carol_id,
        org,
        anonymous: Actor { name: "anonymous", who: As::Anonymous },
        admin: Actor { name: "admin", who: admin },
        alice: Actor { name: "org admin alice", who: alice },
        bob: Actor { name: "member bob", who: bob },
        carol: Actor { name: "outsider carol", who: carol },
        delegate: Actor { name: "delegate as itself", who: delegate },
    }
}

impl World {
    /// The delegate acting on behalf of a user (by id).
    pub fn on_behalf_of(&self, user_id: i64, name: &'static str) -> Actor {
        let As::Delegate { access, secret, .. } = &self.delegate.who else { unreachable!("a delegate") };
        Actor {
            name,
            who: As::Delegate {
                access: access.clone(),
                secret: secret.clone(),
                on_behalf_of: Some(user_id.to_string()),
            },
        }
    }

    pub fn expect(&self) -> Expect<'_> {
        Expect { app: &self.app, failures: Vec::new() }
    }
}

/// Collects mismatches instead of stopping at the first, and reports them all in [`Expect::done`].
pub struct Expect<'a> {
    pub app: &'a TestApp,
    failures: Vec<String>,
}

impl Expect<'_> {
    /// Sends the request and records a failure unless it answers `expected`.
    pub async fn status(
        &mut self,
        actor: &Actor,
        method: &str,
        path: &str,
        body: Option<Value>,
        expected: u16,
    ) -> ApiResponse {
        let response = self.app.api(method, path, &actor.who, body).await;
        if response.status != expected {
            self.failures.push(format!(
                "{method} {path} as {}: expected {expected}, got {} {}",
                actor.name, response.status, response.body
            ));
        }
        response
    }

    /// The same request by several callers, each with its expected status.
    pub async fn table(&mut self, method: &str, path: &str, body: Option<Value>, cases: &[(&Actor, u16)]) {
        for (actor, expected) in cases {
            self.status(actor, method, path, body.clone(), *expected).await;
        }
    }

    /// Ids in a collection or to-many linkage read by `actor` (expecting 200; empty otherwise).
    pub async fn ids(&mut self, actor: &Actor, path: &str) -> Vec<String> {
        let response = self.status(actor, "GET", path, None, 200).await;
        response.body["data"]
            .as_array()
            .map(|items| items.iter().filter_map(|r| r["id"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }

    /// Records a failure unless `holds`.
    pub fn check(&mut self, holds: bool, what: impl Into<String>) {
        if !holds {
            self.failures.push(what.into());
        }
    }

    /// Panics listing every recorded failure.
    pub fn done(self) {
        assert!(self.failures.is_empty(), "{} failing cases:\n{}", self.failures.len(), self.failures.join("\n"));
    }
}

/// A resource document for POST (no id) or PATCH (with id).
pub fn resource(kind: &str, id: Option<i64>, attributes: Value) -> Value {
    match id {
        Some(id) => json!({"data": {"type": kind, "id": id.to_string(), "attributes": attributes}}),
        None => json!({"data": {"type": kind, "attributes": attributes}}),
    }
}

/// Whether a resource object carries the attribute at all (null counts as shown).
pub fn shows(object: &Value, attribute: &str) -> bool {
    object["attributes"].as_object().is_some_and(|a| a.contains_key(attribute))
}

/// Every resource object of a document: primary data (one or many) and `included`.
pub fn objects(body: &Value) -> Vec<Value> {
    let mut out: Vec<Value> = match &body["data"] {
        Value::Array(items) => items.clone(),
        Value::Object(_) => vec![body["data"].clone()],
        _ => Vec::new(),
    };
    if let Some(included) = body["included"].as_array() {
        out.extend(included.iter().cloned());
    }
    out
}

/// The resource object of `kind`/`id` in a document, if present.
pub fn find(body: &Value, kind: &str, id: i64) -> Option<Value> {
    objects(body).into_iter().find(|o| o["type"] == kind && is_id(&o["id"], id))
}

/// Whether a JSON:API id (a string) names `id`.
pub fn is_id(value: &Value, id: i64) -> bool {
    value.as_str().and_then(|s| s.parse::<i64>().ok()) == Some(id)
}
