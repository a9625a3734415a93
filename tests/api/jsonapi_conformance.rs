//! {json:api} conformance: media types, error documents, document members, links, creates,
//! ids, query parameters and pagination.

use serde_json::json;

use crate::backend_tests;
use crate::support::app::{Backend, spawn};
use crate::support::jsonapi::{As, MEDIA_TYPE, linkage};

backend_tests!(
    reads_are_valid_documents_with_links_and_jsonapi_version,
    creates_answer_201_with_location_and_refuse_client_ids,
    wrong_media_types_get_415_and_406,
    media_type_size_and_method_errors_carry_their_codes,
    unauthenticated_requests_get_401_with_www_authenticate,
    pagination_has_first_prev_next_last_links,
    unknown_query_parameters_filters_and_sorts_name_the_parameter,
    include_and_sparse_fieldsets_shape_the_document,
    members_are_managed_through_relationship_routes,
);

async fn reads_are_valid_documents_with_links_and_jsonapi_version(backend: Backend) {
    let app = spawn(backend).start().await;
    let (alice, alice_as) = app.user_with_token("alice@example.com", false).await;
    let response = app.api_get(&format!("/users/{alice}"), &alice_as).await;
    assert_eq!(response.status, 200);
    let data = &response.body["data"];
    assert_eq!(response.body["jsonapi"], json!({"version": "1.0"}));
    assert_eq!(data["type"], "users");
    assert_eq!(data["id"], alice.to_string());
    assert_eq!(data["links"]["self"], format!("/users/{alice}"));
    assert_eq!(data["attributes"]["email"], "alice@example.com");
    assert_eq!(data["attributes"]["handle"], "alice");
    assert!(data["attributes"]["created-at"].as_str().expect("created-at").ends_with('Z'));
    let rel = &data["relationships"]["apikeys"];
    assert_eq!(rel["links"]["self"], format!("/users/{alice}/relationships/apikeys"));
    assert_eq!(rel["links"]["related"], format!("/users/{alice}/apikeys"));
    assert!(rel.get("data").is_none(), "no linkage unless included");
}

async fn creates_answer_201_with_location_and_refuse_client_ids(backend: Backend) {
    let app = spawn(backend).start().await;
    let (_, alice) = app.user_with_token("alice@example.com", false).await;
    let body =
        json!({"data": {"type": "organizations", "attributes": {"name": "Acme", "billing-email": "b@acme.test"}}});
    let created = app.api("POST", "/organizations", &alice, Some(body)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.id();
    assert_eq!(created.header("location"), Some(format!("http://127.0.0.1:9292/organizations/{id}").as_str()));
    assert_eq!(created.body["data"]["attributes"]["billing-email"], "b@acme.test", "the creator is its admin");

    let with_id = json!({"data": {"type": "organizations", "id": "77", "attributes": {"name": "Mine"}}});
    let refused = app.api("POST", "/organizations", &alice, Some(with_id)).await;
    assert_eq!(refused.error(403)["code"], "AUTH-0009");

    let wrong_type = json!({"data": {"type": "groups", "attributes": {"name": "Mine"}}});
    assert_eq!(app.api("POST", "/organizations", &alice, Some(wrong_type)).await.status, 409);
    let id_mismatch = json!({"data": {"type": "organizations", "id": "999", "attributes": {"name": "X"}}});
    assert_eq!(app.api("PATCH", &format!("/organizations/{id}"), &alice, Some(id_mismatch)).await.status, 409);

    let duplicate = json!({"data": {"type": "organizations", "attributes": {"name": "Acme"}}});
    let taken = app.api("POST", "/organizations", &alice, Some(duplicate)).await;
    let error = taken.error(409);
    assert_eq!(error["source"]["pointer"], "/data/attributes/name");

    let unknown_attribute = json!({"data": {"type": "organizations", "attributes": {"name": "B", "colour": "red"}}});
    let error = app.api("POST", "/organizations", &alice, Some(unknown_attribute)).await;
    assert_eq!(error.error(400)["source"]["pointer"], "/data/attributes/colour");
    let wrong_value = json!({"data": {"type": "organizations", "attributes": {"name": 5}}});
    let error = app.api("POST", "/organizations", &alice, Some(wrong_value)).await;
    assert_eq!(error.error(422)["source"]["pointer"], "/data/attributes/name");
    let listed = app.api_get("/organizations", &alice).await;
    assert_eq!(listed.ids(), vec![id.to_string()], "failed creates left nothing behind");
}

async fn wrong_media_types_get_415_and_406(backend: Backend) {
    let app = spawn(backend).start().await;
    let (_, alice) = app.user_with_token("alice@example.com", false).await;
    let As::Bearer(token) = alice else { unreachable!() };
    let body = json!({"data": {"type": "organizations", "attributes": {"name": "Acme"}}}).to_string();
    for content_type in ["application/json", "application/vnd.api+json; charset=utf-8", "text/plain"] {
        let response = app
            .client
            .post(app.url("/organizations"))
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(body.clone())
            .send()
            .await
            .expect("request");
        assert_eq!(response.status().as_u16(), 415, "{content_type}");
        assert_eq!(response.headers()["content-type"], MEDIA_TYPE);
        let document: serde_json::Value = response.json().await.expect("JSON");
        crate::support::jsonapi::assert_valid_document(&document);
    }
    for accept in ["text/html", "application/vnd.api+json; ext=bulk"] {
        let response = app
            .client
            .get(app.url("/users"))
            .bearer_auth(&token)
            .header("accept", accept)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status().as_u16(), 406, "{accept}");
    }
    for accept in ["*/*", "application/vnd.api+json", "text/html, application/vnd.api+json"] {
        let response = app
            .client
            .get(app.url("/users"))
            .bearer_auth(&token)
            .header("accept", accept)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status().as_u16(), 200, "{accept}");
    }
}

/// AUTH-0013 to AUTH-0016 (defined in `src/error.rs`): their status, code and detail, and `Allow`
/// on a 405.
async fn media_type_size_and_method_errors_carry_their_codes(backend: Backend) {
    let app = spawn(backend).start().await;
    let (_, alice) = app.user_with_token("alice@example.com", false).await;
    let As::Bearer(token) = alice else { unreachable!() };
    let error = |response: reqwest::Response| async move {
        let status = response.status().as_u16();
        let allow = response.headers().get("allow").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let document: serde_json::Value = response.json().await.expect("JSON");
        crate::support::jsonapi::assert_valid_document(&document);
        let first = &document["errors"][0];
        (status, first["code"].as_str().map(str::to_owned), first["detail"].as_str().map(str::to_owned), allow)
    };
    let not_acceptable =
        app.client.get(app.url("/users")).bearer_auth(&token).header("accept", "text/html").send().await;
    let (status, code, detail, _) = error(not_acceptable.expect("request")).await;
    assert_eq!((status, code.as_deref()), (406, Some("AUTH-0013")));
    assert_eq!(
        detail.as_deref(),
        Some("This route answers only with application/vnd.api+json (without media type parameters)")
    );

    let body = json!({"data": {"type": "organizations", "attributes": {"name": "Acme"}}}).to_string();
    let wrong_type =
        app.client.post(app.url("/organizations")).bearer_auth(&token).header("content-type", "text/plain");
    let (status, code, detail, _) = error(wrong_type.body(body).send().await.expect("request")).await;
    assert_eq!((status, code.as_deref()), (415, Some("AUTH-0014")));
    assert_eq!(
        detail.as_deref(),
        Some("Request bodies must be application/vnd.api+json without media type parameters")
    );

    let big = json!({"data": {"type": "organizations", "attributes": {"name": "x".repeat(70_000)}}}).to_string();
    let too_large = app.client.post(app.url("/organizations")).bearer_auth(&token).header("content-type", MEDIA_TYPE);
    let (status, code, detail, _) = error(too_large.body(big).send().await.expect("request")).await;
    assert_eq!((status, code.as_deref()), (413, Some("AUTH-0015")));
    assert_eq!(detail.as_deref(), Some("Request bodies may be at most 65536 bytes"));

    let put = app.client.put(app.url("/users")).bearer_auth(&token).header("content-type", MEDIA_TYPE).send().await;
    let (status, code, detail, allow) = error(put.expect("request")).await;
    assert_eq!((status, code.as_deref()), (405, Some("AUTH-0016")));
    assert_eq!(detail.as_deref(), Some("This route allows GET, POST"));
    assert_eq!(allow.as_deref(), Some("GET, POST"));
}

async fn unauthenticated_requests_get_401_with_www_authenticate(backend: Backend) {
    let app = spawn(backend).start().await;
    for path in ["/users", "/organizations", "/groups", "/apikeys", "/identities", "/trusted-delegates", "/users/1"] {
        let response = app.api_get(path, &As::Anonymous).await;
        assert_eq!(response.error(401)["code"], "AUTH-0008", "{path}");
        assert!(response.header("www-authenticate").is_some_and(|v| v.starts_with("Bearer")), "{path}");
    }
    let (_, alice) = app.user_with_token("alice@example.com", false).await;
    for path in ["/users/1/relationships/apikeys/extra", "/users/abc", "/users/1/nonsense"] {
        let response = app.api_get(path, &alice).await;
        assert_eq!(response.error(404)["code"], "AUTH-0006", "{path}");
    }
    let forged = As::Bearer("eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.".into());
    assert_eq!(app.api_get("/users", &forged).await.status, 401);
    let bad_delegate = As::Delegate { access: "nope".into(), secret: "nope".into(), on_behalf_of: None };
    assert_eq!(app.api_get("/users", &bad_delegate).await.status, 401);
}

async fn pagination_has_first_prev_next_last_links(backend: Backend) {
    let app = spawn(backend).start().await;
    let (_, admin) = app.user_with_token("root@example.com", true).await;
    for n in 0..6 {
        app.insert_user(&format!("user{n}@example.com"), true, false).await;
    }
    let page = app.api_get("/users?page[number]=2&page[size]=3&sort=handle", &admin).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.body["meta"]["total"], 7);
    assert_eq!(page.ids().len(), 3);
    let links = &page.body["links"];
    assert_eq!(links["first"], "/users?sort=handle&page[number]=1&page[size]=3");
    assert_eq!(links["prev"], "/users?sort=handle&page[number]=1&page[size]=3");
    assert_eq!(links["next"], "/users?sort=handle&page[number]=3&page[size]=3");
    assert_eq!(links["last"], "/users?sort=handle&page[number]=3&page[size]=3");
    let last = app.api_get("/users?page[number]=3&page[size]=3&sort=handle", &admin).await;
    assert_eq!(last.ids().len(), 1);
    assert!(last.body["links"]["next"].is_null());
    let handles: Vec<String> = app.api_get("/users?sort=-handle", &admin).await.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|u| u["attributes"]["handle"].as_str().expect("handle").to_owned())
        .collect();
    let mut sorted = handles.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(handles, sorted);
    let filtered = app.api_get("/users?filter[handle]=user1,user3", &admin).await;
    assert_eq!(filtered.body["meta"]["total"], 2);
}

async fn unknown_query_parameters_filters_and_sorts_name_the_parameter(backend: Backend) {
    let app = spawn(backend).start().await;
    let (_, alice) = app.user_with_token("alice@example.com", false).await;
    for (query, parameter) in [
        ("colour=red", "colour"),
        ("filter[email]=alice@example.com", "filter[email]"),
        ("filter[password-digest]=x", "filter[password-digest]"),
        ("sort=email", "sort"),
        ("include=passwords", "include"),
        ("fields[users]=password", "fields[users]"),
        ("page[size]=501", "page[size]"),
        ("filter[admin]=maybe", "filter[admin]"),
    ] {
        let response = app.api_get(&format!("/users?{query}"), &alice).await;
        assert_eq!(response.error(400)["source"]["parameter"], parameter, "{query}");
    }
}

async fn include_and_sparse_fieldsets_shape_the_document(backend: Backend) {
    let app = spawn(backend).start().await;
    let (alice, alice_as) = app.user_with_token("alice@example.com", false).await;
    let org = app.create_organization(&alice_as, "Acme").await;
    let response = app
        .api_get(&format!("/users/{alice}?include=organizations&fields[users]=handle,organizations"), &alice_as)
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    let data = &response.body["data"];
    assert_eq!(data["attributes"].as_object().expect("attributes").keys().collect::<Vec<_>>(), vec!["handle"]);
    assert_eq!(
        data["relationships"]["organizations"]["data"],
        json!([{"type": "organizations", "id": org.to_string()}])
    );
    assert_eq!(response.body["included"][0]["attributes"]["name"], "Acme");
    assert!(data["relationships"].get("apikeys").is_none(), "only the named fields");
}

async fn members_are_managed_through_relationship_routes(backend: Backend) {
    let app = spawn(backend).start().await;
    let (_, owner) = app.user_with_token("owner@example.com", false).await;
    let (bob, bob_as) = app.user_with_token("bob@example.com", false).await;
    let org = app.create_organization(&owner, "Acme").await;
    let members = format!("/organizations/{org}/relationships/users");
    assert_eq!(app.api_get(&members, &bob_as).await.status, 403, "outsiders do not see members");
    assert_eq!(app.api("POST", &members, &bob_as, Some(linkage("users", &[bob]))).await.status, 403);
    assert_eq!(app.api("POST", &members, &owner, Some(linkage("users", &[bob]))).await.status, 204);
    let listed = app.api_get(&members, &bob_as).await;
    assert_eq!(listed.status, 200);
    assert!(
        listed.body["data"].as_array().expect("linkage").contains(&json!({"type": "users", "id": bob.to_string()}))
    );
    assert_eq!(app.api("POST", &members, &owner, Some(linkage("users", &[9999]))).await.status, 404);
    assert_eq!(app.api("POST", &members, &owner, Some(linkage("groups", &[bob]))).await.status, 409);

    let delegate = app.delegate("frontend").await;
    let users = app.api_get(&format!("/organizations/{org}/users"), &delegate).await;
    assert_eq!(users.status, 200, "a delegate acting as itself reads members");
    assert!(users.body["data"][0]["attributes"]["email"].is_string(), "and sees private attributes");
    assert_eq!(app.api("DELETE", &members, &owner, Some(linkage("users", &[bob]))).await.status, 204);
    assert_eq!(app.api_get(&members, &bob_as).await.status, 403, "bob is an outsider again");
}
