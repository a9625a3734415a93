//! Request documents: a resource object for create and update, a linkage document for
//! relationship routes. Every shape error points at the member that is wrong.

use serde_json::{Map, Value};

use crate::error::Error;

/// `{type, id}` as sent by a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifierInput {
    pub kind: String,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkageInput {
    ToOne(Option<IdentifierInput>),
    ToMany(Vec<IdentifierInput>),
}

impl LinkageInput {
    /// The identifiers named, whether one or many.
    pub fn identifiers(&self) -> Vec<IdentifierInput> {
        match self {
            LinkageInput::ToOne(one) => one.iter().cloned().collect(),
            LinkageInput::ToMany(many) => many.clone(),
        }
    }
}

/// The primary data of a create or update request.
#[derive(Debug, Clone, Default)]
pub struct ResourceInput {
    pub kind: String,
    pub id: Option<String>,
    pub attributes: Map<String, Value>,
    pub relationships: Vec<(String, LinkageInput)>,
}

impl ResourceInput {
    pub fn relationship(&self, name: &str) -> Option<&LinkageInput> {
        self.relationships.iter().find(|(n, _)| n == name).map(|(_, l)| l)
    }
}

fn parse_json(body: &[u8]) -> Result<Value, Error> {
    serde_json::from_slice(body).map_err(|e| Error::bad_document("", format!("Request must be valid JSON: {e}")))
}

fn data_member(document: Value) -> Result<Value, Error> {
    match document {
        Value::Object(mut top) => top.remove("data").ok_or_else(|| Error::bad_document("/data", "is required")),
        _ => Err(Error::bad_document("", "must be a JSON object")),
    }
}

fn identifier(value: &Value, pointer: &str) -> Result<IdentifierInput, Error> {
    let object = value.as_object().ok_or_else(|| Error::bad_document(pointer, "must be a resource identifier"))?;
    let kind = object
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::bad_document(format!("{pointer}/type"), "must be a string"))?;
    let id = match object.get("id") {
        Some(Value::String(id)) => id.clone(),
        _ => return Err(Error::bad_document(format!("{pointer}/id"), "must be a string")),
    };
    Ok(IdentifierInput { kind: kind.to_owned(), id })
}

fn linkage(value: &Value, pointer: &str) -> Result<LinkageInput, Error> {
    match value {
        Value::Null => Ok(LinkageInput::ToOne(None)),
        Value::Array(items) => Ok(LinkageInput::ToMany(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| identifier(item, &format!("{pointer}/{i}")))
                .collect::<Result<_, _>>()?,
        )),
        other => Ok(LinkageInput::ToOne(Some(identifier(other, pointer)?))),
    }
}

/// Parses `{"data": {"type", "id"?, "attributes"?, "relationships"?}}`.
pub fn parse_resource(body: &[u8]) -> Result<ResourceInput, Error> {
    let data = data_member(parse_json(body)?)?;
    let Value::Object(mut data) = data else {
        return Err(Error::bad_document("/data", "must be a resource object"));
    };
    let kind = match data.remove("type") {
        Some(Value::String(kind)) => kind,
        _ => return Err(Error::bad_document("/data/type", "is required and must be a string")),
    };
    let id = match data.remove("id") {
        None => None,
        Some(Value::String(id)) => Some(id),
        Some(_) => return Err(Error::bad_document("/data/id", "must be a string")),
    };
    let attributes = match data.remove("attributes") {
        None => Map::new(),
        Some(Value::Object(attributes)) => attributes,
        Some(_) => return Err(Error::bad_document("/data/attributes", "must be an object")),
    };
    let relationships = match data.remove("relationships") {
        None => Vec::new(),
        Some(Value::Object(relationships)) => relationships
            .into_iter()
            .map(|(name, rel)| {
                let pointer = format!("/data/relationships/{name}");
                let data = rel
                    .as_object()
                    .and_then(|r| r.get("data"))
                    .ok_or_else(|| Error::bad_document(&pointer, "must be an object with data"))?;
                Ok((name.clone(), linkage(data, &format!("{pointer}/data"))?))
            })
            .collect::<Result<_, Error>>()?,
        Some(_) => return Err(Error::bad_document("/data/relationships", "must be an object")),
    };
    Ok(ResourceInput { kind, id, attributes, relationships })
}

/// Parses `{"data": null | {type,id} | [{type,id}…]}` for a relationship route.
pub fn parse_linkage(body: &[u8]) -> Result<LinkageInput, Error> {
    let data = data_member(parse_json(body)?)?;
    linkage(&data, "/data")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pointer_of(result: Result<impl std::fmt::Debug, Error>) -> String {
        match result {
            Err(Error::BadDocument { pointer, .. }) => pointer,
            other => panic!("expected a document error, got {other:?}"),
        }
    }

    #[test]
    fn a_resource_document_is_parsed() {
        let input = parse_resource(
            br#"{"data":{"type":"groups","attributes":{"name":"ops"},
                "relationships":{"organization":{"data":{"type":"organizations","id":"4"}}}}}"#,
        )
        .expect("parses");
        assert_eq!(input.kind, "groups");
        assert_eq!(input.attributes["name"], "ops");
        assert_eq!(
            input.relationship("organization"),
            Some(&LinkageInput::ToOne(Some(IdentifierInput { kind: "organizations".into(), id: "4".into() })))
        );
    }

    #[test]
    fn shape_errors_point_at_the_member() {
        assert_eq!(pointer_of(parse_resource(b"{nope")), "");
        assert_eq!(pointer_of(parse_resource(b"[]")), "");
        assert_eq!(pointer_of(parse_resource(b"{}")), "/data");
        assert_eq!(pointer_of(parse_resource(br#"{"data":{}}"#)), "/data/type");
        assert_eq!(pointer_of(parse_resource(br#"{"data":{"type":"users","id":3}}"#)), "/data/id");
        assert_eq!(pointer_of(parse_resource(br#"{"data":{"type":"users","attributes":[]}}"#)), "/data/attributes");
        assert_eq!(
            pointer_of(parse_linkage(br#"{"data":[{"type":"users","id":"1"},{"type":"users"}]}"#)),
            "/data/1/id"
        );
    }
}
