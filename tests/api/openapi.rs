//! The checked-in OpenAPI document is what the code generates, and the server serves it.

use crate::plain_tests;

plain_tests!(the_document_and_the_interactive_page_are_served);
plain_tests!(sync; checked_in_openapi_document_matches_the_code);
plain_tests!(sync; the_document_lists_creating_a_group_in_an_organization);

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
    let group = "#/components/schemas/Groups";
    let body = &create["requestBody"]["content"]["application/vnd.api+json"]["schema"]["properties"]["data"];
    assert_eq!(body["$ref"], group);
    let created = &create["responses"]["201"]["content"]["application/vnd.api+json"]["schema"]["properties"]["data"];
    assert_eq!(created["$ref"], group);
    let sibling = &spec["paths"]["/groups"]["post"];
    assert_eq!(create["requestBody"], sibling["requestBody"], "the body of POST /groups");
    assert_eq!(create["responses"], sibling["responses"], "the answers of POST /groups");
}
