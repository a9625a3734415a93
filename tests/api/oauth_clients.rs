//! OAuth clients as an admin manages them (`authify client …` on the real binary, and `/clients`)
//! and as a machine uses them: `client_credentials`, introspection, revocation, secret rotation
//! and removal.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::cli::{Server, failure_line, run};
use crate::plain_tests;
use crate::support::app::{Backend, spawn};

plain_tests!(a_machine_client_added_on_the_command_line_gets_tokens_until_rotated_or_removed);
backend_tests!(admins_manage_clients_as_a_jsonapi_resource);

fn added(dir: &std::path::Path, args: &[&str]) -> Value {
    let output = run(dir, &[], args, "");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

async fn client_credentials(client: &reqwest::Client, server: &Server, id: &str, secret: &str) -> (u16, Value) {
    let response = client
        .post(server.url("/oauth2/token"))
        .form(&[("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)])
        .send()
        .await
        .expect("token");
    (response.status().as_u16(), response.json().await.expect("json"))
}

async fn introspect(client: &reqwest::Client, server: &Server, id: &str, secret: &str, token: &str) -> Value {
    let response = client
        .post(server.url("/oauth2/introspect"))
        .basic_auth(id, Some(secret))
        .form(&[("token", token)])
        .send()
        .await;
    response.expect("introspect").json().await.expect("json")
}

async fn a_machine_client_added_on_the_command_line_gets_tokens_until_rotated_or_removed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    let reports = added(
        dir,
        &[
            "client",
            "add",
            "Reports job",
            "--redirect-uri",
            "https://reports.example.com/cb",
            "--scope",
            "reports:read",
            "--json",
        ],
    );
    let (id, secret) = (reports["client_id"].as_str().expect("id"), reports["client_secret"].as_str().expect("secret"));
    assert!(secret.starts_with("authify_cs_"));
    let api = added(
        dir,
        &[
            "client",
            "add",
            "Reports API",
            "--redirect-uri",
            "https://api.example.com/cb",
            "--scope",
            "introspection",
            "--json",
        ],
    );
    let (api_id, api_secret) = (api["client_id"].as_str().expect("id"), api["client_secret"].as_str().expect("secret"));
    let taken = run(dir, &[], &["client", "add", "Reports job", "--redirect-uri", "https://x.example.com/cb"], "");
    assert_eq!(failure_line(&taken), "error: a client named Reports job already exists");
    let plain_http = run(dir, &[], &["client", "add", "Insecure", "--redirect-uri", "http://app.example.com/cb"], "");
    assert!(failure_line(&plain_http).contains("http is allowed only for loopback hosts"));
    let listed = added(dir, &["client", "list", "--json"]);
    assert_eq!(listed.as_array().expect("array").len(), 2);
    assert!(!listed.to_string().contains("authify_cs_"), "list never shows a secret");

    let server = Server::start(dir, &[]);
    let client = reqwest::Client::new();
    let (status, body) = client_credentials(&client, &server, id, secret).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["token_type"].as_str(), body["scope"].as_str()), (Some("Bearer"), Some("reports:read")));
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
    let token = body["access_token"].as_str().expect("token").to_owned();
    let seen = introspect(&client, &server, api_id, api_secret, &token).await;
    assert_eq!(
        (seen["active"].as_bool(), seen["client_id"].as_str(), seen["sub"].as_str()),
        (Some(true), Some(id), Some(id)),
        "{seen}"
    );
    let response = client
        .post(server.url("/oauth2/token"))
        .form(&[("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret), ("scope", "admin")])
        .send()
        .await
        .expect("token");
    assert_eq!(response.status(), 400);
    assert_eq!(response.json::<Value>().await.expect("json")["error"], "invalid_scope");

    // The job's own token, revoked by the job: refused from then on.
    let (_, second) = client_credentials(&client, &server, id, secret).await;
    let second = second["access_token"].as_str().expect("token").to_owned();
    let revoked = client
        .post(server.url("/oauth2/revoke"))
        .basic_auth(id, Some(secret))
        .form(&[("token", second.as_str())])
        .send()
        .await;
    assert_eq!(revoked.expect("revoke").status(), 200);
    assert_eq!(introspect(&client, &server, api_id, api_secret, &second).await, json!({"active": false}));

    let rotated = added(dir, &["client", "rotate-secret", id, "--json"]);
    let new_secret = rotated["client_secret"].as_str().expect("secret");
    let mut old_refused = false;
    for _ in 0..50 {
        if client_credentials(&client, &server, id, secret).await.0 == 401 {
            old_refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(old_refused, "the old secret stops working on the running instance within the poll interval");
    assert_eq!(client_credentials(&client, &server, id, new_secret).await.0, 200);

    let removed = run(dir, &[], &["client", "remove", id], "");
    assert!(removed.status.success(), "{}", String::from_utf8_lossy(&removed.stderr));
    // The running instance learns of the removal from the revocation list it polls: the client's
    // secret stops working and its tokens are refused.
    let mut refused = false;
    for _ in 0..50 {
        if client_credentials(&client, &server, id, new_secret).await.0 == 401
            && introspect(&client, &server, api_id, api_secret, &token).await["active"] == false
        {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(refused, "tokens issued to a removed client are refused");
    server.terminate();
}

async fn admins_manage_clients_as_a_jsonapi_resource(backend: Backend) {
    let app = spawn(backend).start().await;
    app.insert_user("admin@example.com", true, true).await;
    app.insert_user("user@example.com", true, false).await;
    let admin = app.token_for("admin@example.com").await;
    let user = app.token_for("user@example.com").await;
    let document = json!({"data": {"type": "clients", "attributes": {
        "name": "Grafana", "redirect-uris": ["https://grafana.example.com/login/generic_oauth"], "first-party": true}}});
    let post = |token: &str| {
        app.client
            .post(app.url("/clients"))
            .bearer_auth(token)
            .header("content-type", "application/vnd.api+json")
            .body(document.to_string())
    };
    assert_eq!(post(&user).send().await.expect("post").status(), 403);
    let created = post(&admin).send().await.expect("post");
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.expect("json");
    let attributes = &created["data"]["attributes"];
    assert!(attributes["client-secret"].as_str().expect("secret once").starts_with("authify_cs_"));
    assert_eq!(attributes["first-party"], true);
    let id = created["data"]["id"].as_str().expect("id").to_owned();
    let shown: Value = app
        .client
        .get(app.url(&format!("/clients/{id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert!(shown["data"]["attributes"].get("client-secret").is_none(), "{shown}");
    assert_eq!(shown["data"]["attributes"]["client-id"], attributes["client-id"]);
    let deleted =
        app.client.delete(app.url(&format!("/clients/{id}"))).bearer_auth(&admin).send().await.expect("delete");
    assert_eq!(deleted.status(), 204);
}
