//! The generic {json:api} routes for every resource type: collection, item, related resources and
//! relationships. It negotiates the media type, authenticates, parses and checks the request,
//! calls the type's operation, resolves `include`, and writes the document.

use poem::http::{Method, StatusCode, header};
use poem::{Endpoint, Request, Response};

use super::attributes::check_attributes;
use super::includes::resolve_includes;
use super::kind::{Cx, LinkedIds, RelDef, RelOp, ResourceKind};
use super::{kind_named, pagination, params, sessions, trail};
use crate::error::Error;
use crate::http::jsonapi::document::{Document, Identifier, Linkage, PrimaryData};
use crate::http::jsonapi::input::{IdentifierInput, LinkageInput, ResourceInput, parse_linkage, parse_resource};
use crate::http::jsonapi::query::ReadQuery;
use crate::http::jsonapi::{self, MAX_BODY_BYTES, document_response, error_response};
use crate::state::AppState;

/// Which URL shape an endpoint serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Collection,
    Item,
    Related,
    Relationship,
    /// `GET /organizations/mine`.
    Mine,
    /// `GET /me`: the caller's user document.
    Me,
    /// `DELETE /users/:id/sessions`: ends every session of the user.
    Sessions,
    /// Any other path under a type's prefix: a {json:api} 404.
    Unknown,
}

pub struct ResourceEndpoint {
    pub kind: &'static dyn ResourceKind,
    pub shape: Shape,
}

impl Endpoint for ResourceEndpoint {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        Ok(handle(self.kind, self.shape, req).await.unwrap_or_else(error_response))
    }
}

async fn read_body(req: &mut Request) -> Result<Vec<u8>, Error> {
    jsonapi::check_content_type(req.headers())?;
    match req.take_body().into_bytes_limit(MAX_BODY_BYTES).await {
        Ok(bytes) => Ok(bytes.to_vec()),
        Err(poem::error::ReadBodyError::PayloadTooLarge) => Err(Error::PayloadTooLarge { limit: MAX_BODY_BYTES }),
        Err(_) => Err(Error::BadRequest("The request body could not be read".into())),
    }
}

fn path_id(req: &Request) -> Result<i64, Error> {
    req.raw_path_param("id").and_then(|id| id.parse().ok()).ok_or(Error::NotFound)
}

fn relationship_of(kind: &dyn ResourceKind, req: &Request) -> Result<&'static RelDef, Error> {
    let name = req.raw_path_param("rel").unwrap_or("");
    kind.relationships().iter().find(|r| r.name == name).ok_or(Error::NotFound)
}

async fn handle(kind: &'static dyn ResourceKind, shape: Shape, mut req: Request) -> Result<Response, Error> {
    if shape == Shape::Unknown {
        return Err(Error::NotFound);
    }
    jsonapi::check_accept(req.headers())?;
    let state = req.data::<AppState>().cloned().ok_or_else(|| Error::internal(anyhow::anyhow!("no state")))?;
    let method = req.method().clone();
    let allowed: &[Method] = match shape {
        _ if kind.read_only() => &[Method::GET],
        Shape::Collection => &[Method::GET, Method::POST],
        Shape::Item => &[Method::GET, Method::PATCH, Method::DELETE],
        Shape::Related => &[Method::GET, Method::POST],
        Shape::Relationship => &[Method::GET, Method::POST, Method::PATCH, Method::DELETE],
        Shape::Mine | Shape::Me => &[Method::GET],
        Shape::Sessions => &[Method::DELETE],
        Shape::Unknown => &[],
    };
    if !allowed.contains(&method) {
        let allowed = allowed.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
        return Err(Error::MethodNotAllowed { allowed });
    }
    let body = if method == Method::GET || (method == Method::DELETE && matches!(shape, Shape::Item | Shape::Sessions))
    {
        Vec::new()
    } else {
        read_body(&mut req).await?
    };
    let caller = crate::http::auth::caller(&state, &req).await?;
    let meta = crate::http::client::request_meta(&req);
    let cx = Cx { state: &state, caller: &caller, request: &meta };
    let query =
        if method == Method::GET { ReadQuery::parse(req.uri().query().unwrap_or(""))? } else { ReadQuery::default() };
    let path = req.uri().path().to_owned();
    let response = match (shape, method) {
        (Shape::Collection, Method::GET) => list(&cx, kind, &query, &path).await?,
        (Shape::Mine, _) => mine(&cx, &query, &path).await?,
        (Shape::Me, _) => show(&cx, kind, cx.caller.require_user()?.id, &query).await?,
        (Shape::Sessions, _) => {
            let id = path_id(&req)?;
            let revoke_keys = sessions::revoke_api_keys(req.uri().query())?;
            let ended = sessions::end_all(&cx, id, revoke_keys).await?;
            let mut detail = serde_json::json!({"sessions_ended": ended.sessions});
            if revoke_keys {
                detail["api_keys_revoked"] = ended.api_keys.into();
            }
            trail::record(&cx, kind, "sessions-end", &id.to_string(), detail).await;
            no_content()
        }
        (Shape::Unknown, _) => return Err(Error::NotFound),
        (Shape::Collection, _) => create(&cx, kind, &body, None).await?,
        (Shape::Item, Method::GET) => show(&cx, kind, path_id(&req)?, &query).await?,
        (Shape::Item, Method::PATCH) => update(&cx, kind, path_id(&req)?, &body).await?,
        (Shape::Item, _) => {
            let id = path_id(&req)?;
            kind.delete(&cx, id).await?;
            trail::record(&cx, kind, "delete", &id.to_string(), serde_json::json!({})).await;
            no_content()
        }
        (Shape::Related, Method::GET) => {
            related(&cx, kind, path_id(&req)?, relationship_of(kind, &req)?, &query, &path).await?
        }
        (Shape::Related, _) => {
            let id = path_id(&req)?;
            let rel = relationship_of(kind, &req)?;
            kind.show(&cx, id).await?;
            let target = kind_named(rel.target).ok_or(Error::NotFound)?;
            create(&cx, target, &body, Some(Identifier::new(kind.name(), id))).await?
        }
        (Shape::Relationship, method) => {
            let id = path_id(&req)?;
            let rel = relationship_of(kind, &req)?;
            relationship(&cx, kind, id, rel, &method, &body).await?
        }
    };
    Ok(response)
}

fn no_content() -> Response {
    Response::builder().status(StatusCode::NO_CONTENT).finish()
}

async fn list(cx: &Cx<'_>, kind: &dyn ResourceKind, query: &ReadQuery, path: &str) -> Result<Response, Error> {
    params::check_shape(kind, query)?;
    let list_params = params::list_params(kind, query)?;
    let listing = kind.list(cx, &list_params).await?;
    let mut items = listing.items;
    let included = resolve_includes(cx, &mut items, &query.include).await?;
    let mut document = Document::new(PrimaryData::Many(items));
    document.included = included;
    pagination::add_links(&mut document, path, query, listing.total);
    Ok(document_response(StatusCode::OK, &document.to_json(&query.fields)))
}

async fn mine(cx: &Cx<'_>, query: &ReadQuery, path: &str) -> Result<Response, Error> {
    let kind = kind_named("organizations").ok_or(Error::NotFound)?;
    params::check_shape(kind, query)?;
    let listing = super::organizations::mine(cx).await?;
    let mut items = listing.items;
    let included = resolve_includes(cx, &mut items, &query.include).await?;
    let mut document = Document::new(PrimaryData::Many(items)).link("self", path.to_owned());
    document.included = included;
    Ok(document_response(StatusCode::OK, &document.to_json(&query.fields)))
}

async fn show(cx: &Cx<'_>, kind: &dyn ResourceKind, id: i64, query: &ReadQuery) -> Result<Response, Error> {
    params::check_shape(kind, query)?;
    let mut items = vec![kind.show(cx, id).await?];
    let included = resolve_includes(cx, &mut items, &query.include).await?;
    let self_link = items[0].self_link();
    let mut document = Document::new(PrimaryData::One(items.pop())).link("self", self_link);
    document.included = included;
    Ok(document_response(StatusCode::OK, &document.to_json(&query.fields)))
}

async fn related(
    cx: &Cx<'_>,
    kind: &dyn ResourceKind,
    id: i64,
    rel: &RelDef,
    query: &ReadQuery,
    path: &str,
) -> Result<Response, Error> {
    let target = kind_named(rel.target).ok_or(Error::NotFound)?;
    params::check_shape(target, query)?;
    if !query.filters.is_empty() || !query.sort.is_empty() {
        return Err(Error::bad_parameter(
            if query.sort.is_empty() { "filter" } else { "sort" },
            "is supported on collections such as /{type}, not on related resources",
        ));
    }
    let mut items = kind.related(cx, id, rel).await?;
    let total = items.len() as u64;
    if rel.to_many {
        items = items.into_iter().skip(query.page.offset() as usize).take(query.page.size as usize).collect();
    }
    let included = resolve_includes(cx, &mut items, &query.include).await?;
    let data = if rel.to_many { PrimaryData::Many(items) } else { PrimaryData::One(items.pop()) };
    let mut document = Document::new(data);
    document.included = included;
    if rel.to_many {
        pagination::add_links(&mut document, path, query, total);
    } else {
        document = document.link("self", path.to_owned());
    }
    Ok(document_response(StatusCode::OK, &document.to_json(&query.fields)))
}

/// Resolves client identifiers to ids of the relationship's target type.
fn linked_ids(rel: &RelDef, identifiers: &[IdentifierInput], pointer: &str) -> Result<Vec<i64>, Error> {
    identifiers
        .iter()
        .map(|ident| {
            if ident.kind != rel.target {
                return Err(Error::Conflict(format!("{pointer}: {} holds {} resources", rel.name, rel.target)));
            }
            ident.id.parse().map_err(|_| Error::NotFound)
        })
        .collect()
}

async fn create(
    cx: &Cx<'_>,
    kind: &dyn ResourceKind,
    body: &[u8],
    parent: Option<Identifier>,
) -> Result<Response, Error> {
    let input: ResourceInput = parse_resource(body)?;
    if input.kind != kind.name() {
        return Err(Error::Conflict(format!("/data/type must be {} here", kind.name())));
    }
    if input.id.is_some() {
        return Err(Error::forbidden("Client-generated ids are not supported"));
    }
    let attributes = check_attributes(kind, input.attributes, true)?;
    let mut links = LinkedIds::default();
    for (name, linkage) in &input.relationships {
        let pointer = format!("/data/relationships/{name}");
        let rel = kind
            .relationships()
            .iter()
            .find(|r| r.name == name && kind.creatable_relationships().contains(&r.name))
            .ok_or_else(|| Error::forbidden(format!("{pointer} cannot be set when creating {}", kind.name())))?;
        links.0.push((rel.name, linked_ids(rel, &linkage.identifiers(), &pointer)?));
    }
    if let Some(parent) = parent {
        let rel = kind
            .relationships()
            .iter()
            .find(|r| r.target == parent.kind && !r.to_many && kind.creatable_relationships().contains(&r.name))
            .ok_or_else(|| Error::forbidden(format!("{} cannot be created here", kind.name())))?;
        let parent_id: i64 = parent.id.parse().map_err(|_| Error::NotFound)?;
        match links.get(rel.name) {
            Some(ids) if ids != [parent_id] => {
                return Err(Error::Conflict(format!("{} does not match the URL", rel.name)));
            }
            Some(_) => {}
            None => links.0.push((rel.name, vec![parent_id])),
        }
    }
    let detail = trail::sent_attributes(kind, &attributes);
    let created = kind.create(cx, attributes, links).await?;
    trail::record(cx, kind, "create", &created.identifier.id, detail).await;
    let location = format!("{}{}", cx.state.settings.public_url.trim_end_matches('/'), created.self_link());
    let document = Document::new(PrimaryData::One(Some(created)));
    let mut response = document_response(StatusCode::CREATED, &document.to_json(&Default::default()));
    if let Ok(value) = location.parse() {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

async fn update(cx: &Cx<'_>, kind: &dyn ResourceKind, id: i64, body: &[u8]) -> Result<Response, Error> {
    let input = parse_resource(body)?;
    if input.kind != kind.name() {
        return Err(Error::Conflict(format!("/data/type must be {} here", kind.name())));
    }
    match &input.id {
        None => return Err(Error::bad_document("/data/id", "is required")),
        Some(sent) if *sent != id.to_string() => return Err(Error::Conflict("/data/id does not match the URL".into())),
        Some(_) => {}
    }
    if !input.relationships.is_empty() {
        return Err(Error::forbidden("Change relationships through their /relationships/ routes"));
    }
    let attributes = check_attributes(kind, input.attributes, false)?;
    let detail = trail::sent_attributes(kind, &attributes);
    let updated = kind.update(cx, id, attributes).await?;
    trail::record(cx, kind, "update", &id.to_string(), detail).await;
    let self_link = updated.self_link();
    let document = Document::new(PrimaryData::One(Some(updated))).link("self", self_link);
    Ok(document_response(StatusCode::OK, &document.to_json(&Default::default())))
}

async fn relationship(
    cx: &Cx<'_>,
    kind: &dyn ResourceKind,
    id: i64,
    rel: &RelDef,
    method: &Method,
    body: &[u8],
) -> Result<Response, Error> {
    if *method == Method::GET {
        let identifiers: Vec<Identifier> = kind.related(cx, id, rel).await?.into_iter().map(|r| r.identifier).collect();
        let linkage =
            if rel.to_many { Linkage::ToMany(identifiers) } else { Linkage::ToOne(identifiers.into_iter().next()) };
        let base = format!("/{}/{id}", kind.name());
        let document = Document::new(PrimaryData::Linkage(linkage))
            .link("self", format!("{base}/relationships/{}", rel.name))
            .link("related", format!("{base}/{}", rel.name));
        return Ok(document_response(StatusCode::OK, &document.to_json(&Default::default())));
    }
    let op = match *method {
        Method::POST => RelOp::Add,
        Method::DELETE => RelOp::Remove,
        _ => RelOp::Replace,
    };
    let linkage = parse_linkage(body)?;
    let identifiers = match (&linkage, rel.to_many, op) {
        (LinkageInput::ToMany(many), true, _) => many.clone(),
        (LinkageInput::ToOne(one), false, RelOp::Replace) => one.iter().cloned().collect(),
        (_, false, _) => return Err(Error::forbidden("A to-one relationship can only be replaced (PATCH)")),
        (_, true, _) => return Err(Error::bad_document("/data", "must be an array of resource identifiers")),
    };
    let ids = linked_ids(rel, &identifiers, "/data")?;
    let detail = serde_json::json!({ "relationship": rel.name, "ids": ids });
    kind.change_relationship(cx, id, rel, op, ids).await?;
    trail::record(cx, kind, trail::relationship_verb(op), &id.to_string(), detail).await;
    Ok(no_content())
}
