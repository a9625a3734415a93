//! The {json:api} routes in the OpenAPI document, generated from the same declarations the engine
//! serves (attributes, relationships, filters, sorts), with their real media type.

use serde_json::{Map, Value, json};

use super::includes::{MAX_INCLUDED, MAX_LOADED, MAX_LOOKUPS};
use super::kind::{AttrType, FilterType, ResourceKind, Writable};
use super::kinds;
use crate::http::jsonapi::MEDIA_TYPE;
use crate::http::jsonapi::query::{MAX_INCLUDE_DEPTH, MAX_INCLUDE_PATHS, MAX_ITEM_BYTES, MAX_LIST_ITEMS};

fn schema_name(kind: &dyn ResourceKind) -> String {
    kind.name().split('-').map(|w| w[..1].to_uppercase() + &w[1..]).collect()
}

fn attribute_schema(ty: AttrType) -> Value {
    match ty {
        AttrType::String => json!({"type": "string"}),
        AttrType::Boolean => json!({"type": "boolean"}),
        AttrType::Count => json!({"type": "integer", "minimum": 1}),
        AttrType::StringList => json!({"type": "array", "items": {"type": "string"}}),
        AttrType::DateTime => json!({"type": "string", "format": "date-time"}),
        AttrType::Object => json!({"type": "object"}),
    }
}

fn resource_schema(kind: &dyn ResourceKind) -> Value {
    let mut attributes = Map::new();
    for attr in kind.attributes() {
        let mut schema = attribute_schema(attr.ty);
        schema["description"] = json!(attr.description);
        schema["nullable"] = json!(attr.nullable);
        match (attr.writable, attr.write_only) {
            (_, true) => schema["writeOnly"] = json!(true),
            (Writable::Never, _) => schema["readOnly"] = json!(true),
            _ => {}
        }
        attributes.insert(attr.name.into(), schema);
    }
    let relationships: Map<String, Value> = kind
        .relationships()
        .iter()
        .map(|rel| {
            let identifier = json!({"$ref": "#/components/schemas/JsonApiIdentifier"});
            let data = if rel.to_many { json!({"type": "array", "items": identifier}) } else { identifier };
            (rel.name.to_owned(), json!({"type": "object", "description": format!("Related {}", rel.target), "properties": {"data": data, "links": {"type": "object"}}}))
        })
        .collect();
    json!({
        "type": "object",
        "description": kind.description(),
        "required": ["type"],
        "properties": {
            "type": {"type": "string", "enum": [kind.name()]},
            "id": {"type": "string", "readOnly": true},
            "attributes": {"type": "object", "properties": attributes},
            "relationships": {"type": "object", "properties": relationships},
            "links": {"type": "object", "readOnly": true},
        }
    })
}

/// The body of a create (`creating`: the type's creatable relationships only) or an update (no
/// relationships: they change through their `/relationships/` routes). Nothing the engine would
/// refuse for its name is in it, so a generated body is refused only for its values.
fn request_document(kind: &dyn ResourceKind, creating: bool) -> Value {
    let mut data = resource_schema(kind);
    let settable = if creating { kind.creatable_relationships() } else { &[] };
    let properties = &mut data["properties"];
    if let Some(relationships) = properties["relationships"]["properties"].as_object_mut() {
        relationships.retain(|name, _| settable.contains(&name.as_str()));
        relationships.values_mut().for_each(|relationship| relationship["required"] = json!(["data"]));
    }
    if !creating {
        properties["id"] = json!({"type": "string", "description": "The id of the resource in the URL"});
    }
    properties["attributes"]["additionalProperties"] = json!(false);
    properties["relationships"]["additionalProperties"] = json!(false);
    if !creating {
        data["required"] = json!(["type", "id"]);
    }
    json!({"type": "object", "required": ["data"], "properties": {"data": data, "meta": {"type": "object"}}})
}

/// OpenAPI links from `POST /{name}`'s 201 to every operation on `/{name}/{id}…`, the id taken from
/// the created document, so a stateful client (schemathesis) goes on with what it made.
fn link_created_to_its_routes(paths: &mut Value, name: &str) {
    let prefix = format!("/{name}/{{id}}");
    let mut links = Map::new();
    for (path, operations) in paths.as_object().into_iter().flatten() {
        if path != &prefix && !path.starts_with(&format!("{prefix}/")) {
            continue;
        }
        for method in operations.as_object().into_iter().flatten().map(|(method, _)| method) {
            let pointer = path.replace('~', "~0").replace('/', "~1");
            let link_name = format!("{method}{}", path[prefix.len()..].replace(['/', '-'], "_"));
            links.insert(
                link_name,
                json!({"operationRef": format!("#/paths/{pointer}/{method}"), "parameters": {"id": "$response.body#/data/id"}}),
            );
        }
    }
    if let Some(created) = paths[format!("/{name}")].get_mut("post").and_then(|post| post["responses"].get_mut("201")) {
        created["links"] = Value::Object(links);
    }
}

fn content(schema: Value) -> Value {
    json!({ MEDIA_TYPE: { "schema": schema } })
}

fn document(of: Value) -> Value {
    json!({"type": "object", "properties": {"data": of, "included": {"type": "array", "items": {"type": "object"}}, "links": {"type": "object"}, "meta": {"type": "object"}, "jsonapi": {"type": "object"}}})
}

fn responses(ok_status: &str, ok: Option<Value>) -> Value {
    let error = content(json!({"$ref": "#/components/schemas/JsonApiErrorDocument"}));
    let mut map = Map::new();
    let mut success = json!({"description": "Success"});
    if let Some(schema) = ok {
        success["content"] = content(schema);
    }
    map.insert(ok_status.into(), success);
    for (status, what) in [
        ("400", "Bad request: bad document or query parameter (source names it)"),
        ("401", "No or bad credentials (WWW-Authenticate)"),
        ("403", "Not allowed for this caller"),
        ("404", "No such resource, or not visible to the caller"),
        ("406", "Accept excludes application/vnd.api+json"),
        ("409", "Conflict: type or id mismatch, or a unique value taken"),
        ("415", "Body is not application/vnd.api+json without parameters"),
        ("422", "An attribute value breaks the rules (source.pointer names it)"),
    ] {
        map.insert(status.into(), json!({"description": what, "content": error}));
    }
    Value::Object(map)
}

/// `include` and its bounds (docs/limits.md).
fn include_description() -> String {
    format!(
        "Comma-separated relationship paths to include: at most {MAX_INCLUDE_PATHS} distinct paths (repeats and \
         prefixes of longer paths are folded), each at most {MAX_INCLUDE_DEPTH} relationships deep. A read that would \
         include more than {MAX_INCLUDED} resources, follow more than {MAX_LOOKUPS} relationships or load more than \
         {MAX_LOADED} related resources is refused with 400 (source.parameter `include`), never cut short"
    )
}

fn parameter(name: &str, location: &str, description: &str) -> Value {
    json!({"name": name, "in": location, "required": location == "path", "description": description, "schema": {"type": "string"}})
}

fn operation(
    kind: &dyn ResourceKind,
    summary: String,
    parameters: Vec<Value>,
    body: Option<Value>,
    responses: Value,
) -> Value {
    let mut op = json!({
        "tags": [kind.name()],
        "summary": summary,
        "parameters": parameters,
        "responses": responses,
        "security": [{"bearer": []}, {"delegate": [], "delegateSecret": []}],
    });
    if let Some(schema) = body {
        op["requestBody"] = json!({"required": true, "content": content(schema)});
    }
    op
}

/// Adds every {json:api} path, schema and security scheme to `spec` (an OpenAPI 3.0 document).
pub fn add_to_spec(spec: &mut Value) {
    let identifier = json!({"type": "object", "required": ["type", "id"], "properties": {"type": {"type": "string"}, "id": {"type": "string"}}});
    let error_document = json!({"type": "object", "properties": {"errors": {"type": "array", "items": {"type": "object", "properties": {
        "id": {"type": "string"}, "status": {"type": "string"}, "code": {"type": "string"}, "title": {"type": "string"},
        "detail": {"type": "string"}, "source": {"type": "object", "properties": {"pointer": {"type": "string"}, "parameter": {"type": "string"}}}}}}}});
    let linkage_document = json!({"type": "object", "properties": {"data": {"oneOf": [identifier.clone(), {"type": "array", "items": identifier.clone()}], "nullable": true}}});
    spec["components"]["schemas"]["JsonApiIdentifier"] = identifier;
    spec["components"]["schemas"]["JsonApiErrorDocument"] = error_document;
    spec["components"]["schemas"]["JsonApiLinkageDocument"] = linkage_document;
    spec["components"]["securitySchemes"] = json!({
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        "delegate": {"type": "apiKey", "in": "header", "name": "X-Authify-Access"},
        "delegateSecret": {"type": "apiKey", "in": "header", "name": "X-Authify-Secret"},
    });
    let linkage_ref = json!({"$ref": "#/components/schemas/JsonApiLinkageDocument"});
    let id = parameter("id", "path", "The resource id");
    for kind in kinds().iter().copied() {
        let name = kind.name();
        let schema = schema_name(kind);
        spec["components"]["schemas"][&schema] = resource_schema(kind);
        let one = json!({"$ref": format!("#/components/schemas/{schema}")});
        let many = json!({"type": "array", "items": one.clone()});
        let mut read_params = vec![
            parameter("include", "query", &include_description()),
            parameter(
                &format!("fields[{name}]"),
                "query",
                &format!("Sparse fieldset (at most {MAX_LIST_ITEMS} names)"),
            ),
        ];
        let mut list_params = read_params.clone();
        let values =
            format!("Comma-separated values (any of; at most {MAX_LIST_ITEMS}, each at most {MAX_ITEM_BYTES} bytes)");
        for filter in kind.filters() {
            let description = match filter.ty {
                FilterType::Since => "RFC 3339 date-time: at or after",
                FilterType::Until => "RFC 3339 date-time: at or before",
                _ => values.as_str(),
            };
            list_params.push(parameter(&format!("filter[{}]", filter.name), "query", description));
        }
        let sorts: Vec<&str> = kind.sorts().iter().map(|s| s.name).collect();
        list_params.push(parameter(
            "sort",
            "query",
            &format!("Comma-separated, `-` for descending, each key once: {}", sorts.join(", ")),
        ));
        list_params.push(parameter("page[number]", "query", "1-based page number"));
        list_params.push(parameter("page[size]", "query", "Page size (default 50, at most 500)"));
        let paths = &mut spec["paths"];
        paths[format!("/{name}")] = json!({
            "get": operation(kind, format!("List {name}"), list_params.clone(), None, responses("200", Some(document(many.clone())))),
            "post": operation(kind, format!("Create one of {name}"), vec![], Some(request_document(kind, true)), responses("201", Some(document(one.clone())))),
        });
        read_params.insert(0, id.clone());
        paths[format!("/{name}/{{id}}")] = json!({
            "get": operation(kind, format!("Read one of {name}"), read_params.clone(), None, responses("200", Some(document(one.clone())))),
            "patch": operation(kind, format!("Update one of {name}"), vec![id.clone()], Some(request_document(kind, false)), responses("200", Some(document(one.clone())))),
            "delete": operation(kind, format!("Delete one of {name}"), vec![id.clone()], None, responses("204", None)),
        });
        for rel in kind.relationships() {
            let target = super::kind_named(rel.target).map(schema_name).unwrap_or_default();
            let target_ref = json!({"$ref": format!("#/components/schemas/{target}")});
            let related = if rel.to_many { json!({"type": "array", "items": target_ref}) } else { target_ref };
            paths[format!("/{name}/{{id}}/{}", rel.name)] = json!({
                "get": operation(kind, format!("Read the {} of one of {name}", rel.name), vec![id.clone()], None, responses("200", Some(document(related)))),
            });
            let mut relationship = Map::new();
            relationship.insert(
                "get".into(),
                operation(
                    kind,
                    format!("Linkage of {}", rel.name),
                    vec![id.clone()],
                    None,
                    responses("200", Some(linkage_ref.clone())),
                ),
            );
            relationship.insert(
                "patch".into(),
                operation(
                    kind,
                    format!("Replace {}", rel.name),
                    vec![id.clone()],
                    Some(linkage_ref.clone()),
                    responses("204", None),
                ),
            );
            if rel.to_many {
                relationship.insert(
                    "post".into(),
                    operation(
                        kind,
                        format!("Add to {}", rel.name),
                        vec![id.clone()],
                        Some(linkage_ref.clone()),
                        responses("204", None),
                    ),
                );
                relationship.insert(
                    "delete".into(),
                    operation(
                        kind,
                        format!("Remove from {}", rel.name),
                        vec![id.clone()],
                        Some(linkage_ref.clone()),
                        responses("204", None),
                    ),
                );
            }
            paths[format!("/{name}/{{id}}/relationships/{}", rel.name)] = Value::Object(relationship);
        }
        if kind.read_only() {
            for path in [format!("/{name}"), format!("/{name}/{{id}}")] {
                if let Some(operations) = paths[&path].as_object_mut() {
                    operations.retain(|method, _| method == "get");
                }
            }
        }
    }
    let organizations = json!({"$ref": "#/components/schemas/Organizations"});
    spec["paths"]["/organizations/mine"] = json!({"get": {
        "tags": ["organizations"], "summary": "Organizations the caller belongs to",
        "security": [{"bearer": []}],
        "responses": responses("200", Some(document(json!({"type": "array", "items": organizations})))),
    }});
    let user = json!({"$ref": "#/components/schemas/Users"});
    spec["paths"]["/me"] = json!({"get": {
        "tags": ["users"], "summary": "The caller's own user document (Bearer token or session cookie)",
        "security": [{"bearer": []}],
        "responses": responses("200", Some(document(user))),
    }});
    spec["paths"]["/users/{id}/sessions"] = json!({"delete": {
        "tags": ["users"],
        "summary": "End every session of the user (refresh tokens, browser sessions; their JWTs are revoked). The user or an admin",
        "security": [{"bearer": []}],
        "parameters": [
            {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
            {"name": "revoke_api_keys", "in": "query", "required": false, "schema": {"type": "boolean", "default": false},
             "description": "Also delete every API key of the user (their tokens are refused at once)."},
        ],
        "responses": responses("204", None),
    }});
    // A create under a related URL (the engine's `Shape::Related` POST): a group in its organization.
    if let Some(organizations) = super::kind_named("organizations") {
        let group = json!({"$ref": "#/components/schemas/Groups"});
        let body = super::kind_named("groups").map(|groups| request_document(groups, true));
        spec["paths"]["/organizations/{id}/groups"]["post"] = operation(
            organizations,
            "Create a group in the organization (an `organization` relationship, when sent, must name this one). \
             The organization's admins and admins"
                .into(),
            vec![id.clone()],
            body,
            responses("201", Some(document(group))),
        );
    }
    // And an identity linked to its user.
    if let Some(users) = super::kind_named("users") {
        let identity = json!({"$ref": "#/components/schemas/Identities"});
        let body = super::kind_named("identities").map(|identities| request_document(identities, true));
        spec["paths"]["/users/{id}/identities"]["post"] = operation(
            users,
            "Link an external identity (`provider`, `uid`) to the user (a `user` relationship, when sent, must \
             name this one). Trusted delegates only; linking to an admin needs a delegate with admin_access"
                .into(),
            vec![id],
            body,
            responses("201", Some(document(identity))),
        );
    }
    for kind in kinds() {
        link_created_to_its_routes(&mut spec["paths"], kind.name());
    }
}
