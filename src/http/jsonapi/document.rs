//! {json:api} documents: resource objects with their links and relationships, and the top-level
//! document with `data`, `included`, `links`, `meta` and `jsonapi`. Links are paths relative to the
//! service root, as Authify wrote them (`/apikeys/197`).

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value, json};

/// `{type, id}`
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identifier {
    pub kind: &'static str,
    pub id: String,
}

impl Identifier {
    pub fn new(kind: &'static str, id: i64) -> Self {
        Self { kind, id: id.to_string() }
    }

    fn to_json(&self) -> Value {
        json!({ "type": self.kind, "id": self.id })
    }
}

/// Relationship linkage, present only when the caller asked for it (by `include`, or on a
/// relationship route).
#[derive(Debug, Clone, PartialEq)]
pub enum Linkage {
    ToOne(Option<Identifier>),
    ToMany(Vec<Identifier>),
}

impl Linkage {
    pub fn to_json(&self) -> Value {
        match self {
            Linkage::ToOne(one) => one.as_ref().map_or(Value::Null, Identifier::to_json),
            Linkage::ToMany(many) => Value::Array(many.iter().map(Identifier::to_json).collect()),
        }
    }
}

/// A resource as the caller may see it: only attributes the caller is allowed to read are present.
#[derive(Debug, Clone)]
pub struct ResourceObject {
    pub identifier: Identifier,
    pub attributes: Map<String, Value>,
    /// Every relationship name of the type, with linkage when it was loaded.
    pub relationships: Vec<(&'static str, Option<Linkage>)>,
}

impl ResourceObject {
    pub fn new(kind: &'static str, id: i64, relationships: &[&'static str]) -> Self {
        Self {
            identifier: Identifier::new(kind, id),
            attributes: Map::new(),
            relationships: relationships.iter().map(|name| (*name, None)).collect(),
        }
    }

    /// Adds an attribute (builder style).
    pub fn attr(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.attributes.insert(name.to_owned(), value.into());
        self
    }

    /// Adds an attribute only when `visible` (private attributes).
    pub fn attr_if(self, visible: bool, name: &str, value: impl Into<Value>) -> Self {
        if visible { self.attr(name, value) } else { self }
    }

    pub fn set_linkage(&mut self, name: &str, linkage: Linkage) {
        if let Some(slot) = self.relationships.iter_mut().find(|(n, _)| *n == name) {
            slot.1 = Some(linkage);
        }
    }

    pub fn self_link(&self) -> String {
        format!("/{}/{}", self.identifier.kind, self.identifier.id)
    }

    /// The resource object, keeping only the fields named for its type in `fields` (sparse fieldsets).
    pub fn to_json(&self, fields: &HashMap<String, Vec<String>>) -> Value {
        let wanted = fields.get(self.identifier.kind);
        let keep = |name: &str| wanted.is_none_or(|list| list.iter().any(|f| f == name));
        let attributes: Map<String, Value> =
            self.attributes.iter().filter(|(k, _)| keep(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
        let self_link = self.self_link();
        let relationships: Map<String, Value> = self
            .relationships
            .iter()
            .filter(|(name, _)| keep(name))
            .map(|(name, linkage)| {
                let mut rel = Map::new();
                rel.insert(
                    "links".into(),
                    json!({
                        "self": format!("{self_link}/relationships/{name}"),
                        "related": format!("{self_link}/{name}"),
                    }),
                );
                if let Some(linkage) = linkage {
                    rel.insert("data".into(), linkage.to_json());
                }
                ((*name).to_owned(), Value::Object(rel))
            })
            .collect();
        let mut object = Map::new();
        object.insert("type".into(), json!(self.identifier.kind));
        object.insert("id".into(), json!(self.identifier.id));
        object.insert("attributes".into(), Value::Object(attributes));
        if !relationships.is_empty() {
            object.insert("relationships".into(), Value::Object(relationships));
        }
        object.insert("links".into(), json!({ "self": self_link }));
        Value::Object(object)
    }
}

/// What a top-level document's `data` holds.
#[derive(Debug, Clone)]
pub enum PrimaryData {
    One(Option<ResourceObject>),
    Many(Vec<ResourceObject>),
    /// A relationship route answers with linkage only.
    Linkage(Linkage),
}

/// A complete {json:api} document.
#[derive(Debug, Clone)]
pub struct Document {
    pub data: PrimaryData,
    pub included: Vec<ResourceObject>,
    pub links: BTreeMap<&'static str, Value>,
    pub meta: Option<Value>,
}

impl Document {
    pub fn new(data: PrimaryData) -> Self {
        Self { data, included: Vec::new(), links: BTreeMap::new(), meta: None }
    }

    pub fn link(mut self, name: &'static str, href: impl Into<Value>) -> Self {
        self.links.insert(name, href.into());
        self
    }

    pub fn to_json(&self, fields: &HashMap<String, Vec<String>>) -> Value {
        let data = match &self.data {
            PrimaryData::One(one) => one.as_ref().map_or(Value::Null, |r| r.to_json(fields)),
            PrimaryData::Many(many) => Value::Array(many.iter().map(|r| r.to_json(fields)).collect()),
            PrimaryData::Linkage(linkage) => linkage.to_json(),
        };
        let mut document = Map::new();
        document.insert("data".into(), data);
        document.insert("jsonapi".into(), json!({ "version": "1.0" }));
        document.insert("included".into(), Value::Array(self.included.iter().map(|r| r.to_json(fields)).collect()));
        document.insert("links".into(), json!(self.links));
        if let Some(meta) = &self.meta {
            document.insert("meta".into(), meta.clone());
        }
        Value::Object(document)
    }
}
