//! The checked-in OpenAPI document is what the code generates, and the server serves it.

use serde_json::{Value, json};

use crate::plain_tests;
use crate::support::app::{Backend, spawn};
use crate::support::jsonapi::As;

plain_tests!(the_document_and_the_interactive_page_are_served);
plain_tests!(sync; checked_in_openapi_document_matches_the_code);
plain_tests!(sync; the_document_lists_creating_a_group_in_an_organization);
plain_tests!(what_the_schema_fuzzer_found_is_answered_as_documented);

fn checked_in_openapi_document_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    let generated = authify::http::openapi_json();
    assert!(
        checked_in.trim_end() == generated.trim_end(),
        "openapi/openapi.json is out of date: run `cargo run -- openapi > openapi/openapi.json`"
    );
}

async fn the_document_and_the_interactive_page_are_served() {
    let app = crate::support::app::spawn(crate::support::app::Backend::Sqlite).start().await;
    let served: serde_json::Value = app.get("/openapi.json").await.json().await.expect("json");
    let generated: serde_json::Value = serde_json::from_str(&authify::http::openapi_json()).expect("json");
    assert_eq!(served, generated);
    assert!(served["paths"]["/jwt/token"]["post"].is_object());
    let members = &served["paths"]["/organizations/{id}/relationships/users"];
    for method in ["get", "post", "patch", "delete"] {
        assert!(members[method].is_object(), "{method}");
    }
    let create = &served["paths"]["/apikeys"]["post"];
    assert!(create["requestBody"]["content"]["application/vnd.api+json"].is_object());
    assert!(create["responses"]["201"]["content"]["application/vnd.api+json"].is_object());
    assert!(create["responses"]["415"].is_object());
    let secret = &served["components"]["schemas"]["Apikeys"]["properties"]["attributes"]["properties"]["secret-key"];
    assert_eq!(secret["readOnly"], true);
    let docs = app.get("/docs").await;
    assert_eq!(docs.status().as_u16(), 200);
    assert!(docs.text().await.expect("html").contains("swagger"));
}

/// `POST /organizations/{id}/groups` is served (the engine's related-URL create), so it is documented
/// like its siblings: a {json:api} group document in, 201 with the created group out.
fn the_document_lists_creating_a_group_in_an_organization() {
    let spec: serde_json::Value = serde_json::from_str(&authify::http::openapi_json()).expect("json");
    let create = &spec["paths"]["/organizations/{id}/groups"]["post"];
    assert!(create.is_object(), "POST /organizations/{{id}}/groups is missing");
    assert_eq!(create["parameters"][0]["name"], "id");
    let body = &create["requestBody"]["content"]["application/vnd.api+json"]["schema"]["properties"]["data"];
    assert_eq!(body["properties"]["type"]["enum"], serde_json::json!(["groups"]));
    let created = &create["responses"]["201"]["content"]["application/vnd.api+json"]["schema"]["properties"]["data"];
    assert_eq!(created["$ref"], "#/components/schemas/Groups");
    let sibling = &spec["paths"]["/groups"]["post"];
    assert_eq!(create["requestBody"], sibling["requestBody"], "the body of POST /groups");
    let mut answers = sibling["responses"].clone();
    answers["201"].as_object_mut().expect("201").remove("links");
    assert_eq!(create["responses"], answers, "the answers of POST /groups");
}

/// The statuses of an operation the document declares.
fn documented(spec: &Value, path: &str, method: &str) -> Vec<u16> {
    let responses = spec["paths"][path][method]["responses"].as_object().expect("documented operation");
    responses.keys().map(|status| status.parse().expect("a status")).collect()
}

/// Regressions from tests/fuzz/api_fuzz.py (schemathesis over the document): each answer it saw
/// undocumented, or each body the document allowed that the server refuses by its shape.
async fn what_the_schema_fuzzer_found_is_answered_as_documented() {
    let app = spawn(Backend::Sqlite).start().await;
    let spec: Value = app.get("/openapi.json").await.json().await.expect("json");
    app.insert_user("root@example.com", true, true).await;
    let token = app.token_for("root@example.com").await;
    let admin = As::Bearer(token.clone());
    // JSON bodies without Content-Type (415) or of the wrong shape (400, 422), on routes that
    // declared only their successes.
    for (method, path, content_type, body, status) in [
        ("post", "/jwt/verify", None, "", 415),
        ("post", "/jwt/verify", Some("application/json"), "[null, null]", 400),
        ("post", "/jwt/verify", Some("application/json"), r#"{"token": {}}"#, 422),
        ("delete", "/me/totp", None, "", 415),
        ("post", "/jwt/refresh", None, "", 415),
    ] {
        let mut request = app
            .client
            .request(method.to_uppercase().parse().expect("method"), app.url(path))
            .bearer_auth(&token)
            .body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status().as_u16(), status, "{method} {path} {body}");
        assert!(documented(&spec, path, method).contains(&status), "{method} {path} documents {status}");
        let error: Value = response.json().await.expect("a JSON error body");
        assert!(error["error"].is_string(), "{error}");
    }
    // A key that never logged in has `last-used-at: null`, which its schema allows.
    let created = app
        .api("POST", "/apikeys", &admin, Some(json!({"data": {"type": "apikeys", "attributes": {"name": "ci"}}})))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["data"]["attributes"]["last-used-at"], Value::Null);
    let schema = &spec["components"]["schemas"]["Apikeys"]["properties"]["attributes"]["properties"]["last-used-at"];
    assert_eq!(schema["nullable"], true);
    // An update without `data.id` is refused, and the update body requires it; a create may set
    // only the relationships the server takes on create.
    let id = created.body["data"]["id"].as_str().expect("id").to_owned();
    let update = app.api("PATCH", &format!("/apikeys/{id}"), &admin, Some(json!({"data": {"type": "apikeys"}}))).await;
    assert_eq!(update.status, 400, "{}", update.body);
    let body_of = |path: &str, method: &str| {
        spec["paths"][path][method]["requestBody"]["content"]["application/vnd.api+json"]["schema"]["properties"]["data"]
            .clone()
    };
    assert_eq!(body_of("/apikeys/{id}", "patch")["required"], json!(["type", "id"]));
    let organization = app
        .api(
            "POST",
            "/organizations",
            &admin,
            Some(json!({"data": {"type": "organizations", "attributes": {"name": "Acme"},
            "relationships": {"users": {"data": []}}}})),
        )
        .await;
    assert_eq!(organization.status, 403, "{}", organization.body);
    let relationships = body_of("/organizations", "post")["properties"]["relationships"].clone();
    assert_eq!(relationships["properties"], json!({}), "no relationship is settable when creating an organization");
    assert_eq!(relationships["additionalProperties"], false);
    let group_relationships = body_of("/groups", "post")["properties"]["relationships"]["properties"].clone();
    assert_eq!(
        group_relationships.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["organization".to_owned()])
    );
}
