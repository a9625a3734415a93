//! What every {json:api} resource type declares (its attributes, relationships and allow-lists)
//! and the operations the generic routes call. Each operation applies the type's access rules:
//! a resource the caller may not see is `NotFound`, an action the caller may not take `Forbidden`.

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::domain::{InvalidValue, Submitted};
use crate::error::Error;
use crate::http::jsonapi::document::ResourceObject;
use crate::runtime::request_context::RequestMeta;
use crate::service::auth::access::Caller;
use crate::service::directory::{MemberChange, SentText};
use crate::state::AppState;
use crate::store::listing::{ListParams, Page};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    String,
    Boolean,
    /// A whole number of at least 1 (read-only counts).
    Count,
    StringList,
    /// RFC 3339 in documents, Unix seconds in storage.
    DateTime,
    /// A JSON object.
    Object,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writable {
    Never,
    /// Only when creating (for example an API key's scopes).
    OnCreate,
    Always,
}

/// One attribute, named as in documents (dasherized).
#[derive(Debug, Clone, Copy)]
pub struct AttrDef {
    pub name: &'static str,
    pub ty: AttrType,
    pub writable: Writable,
    /// Accepted in requests but never shown (a password).
    pub write_only: bool,
    pub nullable: bool,
    pub description: &'static str,
}

impl AttrDef {
    pub const fn read_only(name: &'static str, ty: AttrType, description: &'static str) -> Self {
        Self { name, ty, writable: Writable::Never, write_only: false, nullable: false, description }
    }

    pub const fn writable(name: &'static str, ty: AttrType, description: &'static str) -> Self {
        Self { name, ty, writable: Writable::Always, write_only: false, nullable: true, description }
    }

    pub const fn on_create(name: &'static str, ty: AttrType, description: &'static str) -> Self {
        Self { name, ty, writable: Writable::OnCreate, write_only: false, nullable: true, description }
    }

    pub const fn required(mut self) -> Self {
        self.nullable = false;
        self
    }

    /// May be null in documents.
    pub const fn optional(mut self) -> Self {
        self.nullable = true;
        self
    }

    pub const fn secret(mut self) -> Self {
        self.write_only = true;
        self
    }
}

#[derive(Debug, Clone, Copy)]
pub struct RelDef {
    pub name: &'static str,
    /// The type of the related resources.
    pub target: &'static str,
    pub to_many: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterType {
    Text,
    Boolean,
    Integer,
    /// An RFC 3339 date-time: rows at or after it (one value).
    Since,
    /// An RFC 3339 date-time: rows at or before it (one value).
    Until,
}

/// A filter the type allows, named as in documents; `column` is the table column it reads.
#[derive(Debug, Clone, Copy)]
pub struct FilterDef {
    pub name: &'static str,
    pub column: &'static str,
    pub ty: FilterType,
}

/// A sort key the type allows and the column behind it.
#[derive(Debug, Clone, Copy)]
pub struct SortDef {
    pub name: &'static str,
    pub column: &'static str,
}

/// What a relationship write does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelOp {
    /// POST: add these members.
    Add,
    /// DELETE: remove these members.
    Remove,
    /// PATCH: make the relationship exactly these.
    Replace,
}

impl From<RelOp> for MemberChange {
    fn from(op: RelOp) -> Self {
        match op {
            RelOp::Add => MemberChange::Add,
            RelOp::Remove => MemberChange::Remove,
            RelOp::Replace => MemberChange::Replace,
        }
    }
}

/// The request's context: the state and who is calling.
pub struct Cx<'a> {
    pub state: &'a AppState,
    pub caller: &'a Caller,
    /// The request's id and client address, for what the use cases record.
    pub request: &'a RequestMeta,
}

/// A page of resources and how many there are in all.
pub struct Listing {
    pub items: Vec<ResourceObject>,
    pub total: u64,
}

impl Listing {
    /// A page of rows, each rendered by `render`.
    pub fn of<T>(page: &Page<T>, render: impl Fn(&T) -> ResourceObject) -> Self {
        Self { items: page.rows.iter().map(render).collect(), total: page.total }
    }
}

/// Attributes of a create or update, already checked against the type's declarations: names are
/// known, the caller may write them, values have the declared type, date-times are Unix seconds.
#[derive(Debug, Clone, Default)]
pub struct Attributes(pub Map<String, Value>);

impl Attributes {
    /// `None` when absent; `Some(None)` when sent as null.
    pub fn text(&self, name: &str) -> SentText {
        self.0.get(name).map(|v| v.as_str().map(str::to_owned))
    }

    /// [`text`](Self::text) parsed into a domain value; the service decides when a failure is answered.
    pub fn parsed<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Result<T, InvalidValue>,
    ) -> Option<Option<Submitted<T>>> {
        self.text(name).map(|text| text.map(|text| Submitted::parse(text, &parse)))
    }

    pub fn flag(&self, name: &str) -> Option<bool> {
        self.0.get(name).and_then(Value::as_bool)
    }

    pub fn time(&self, name: &str) -> Option<Option<i64>> {
        self.0.get(name).map(Value::as_i64)
    }

    pub fn list(&self, name: &str) -> Option<Vec<String>> {
        self.0
            .get(name)
            .and_then(Value::as_array)
            .map(|items| items.iter().filter_map(Value::as_str).map(str::to_owned).collect())
    }
}

/// Linkage in a create request, resolved to ids of the declared target type.
#[derive(Debug, Clone, Default)]
pub struct LinkedIds(pub Vec<(&'static str, Vec<i64>)>);

impl LinkedIds {
    pub fn get(&self, name: &str) -> Option<&[i64]> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, ids)| ids.as_slice())
    }
}

/// What a resource type declares: its name and documentation, its attributes and relationships,
/// the filters and sorts it allows, and which writes it takes.
#[derive(Debug)]
pub struct Declaration {
    pub name: &'static str,
    /// One line for the API documentation.
    pub description: &'static str,
    pub attributes: &'static [AttrDef],
    pub relationships: &'static [RelDef],
    pub filters: &'static [FilterDef],
    pub sorts: &'static [SortDef],
    /// Read-only types answer every write with 405 (a record such as the audit trail).
    pub read_only: bool,
    /// Relationships that may be set when creating; writes on other relationships are forbidden.
    pub creatable_relationships: &'static [&'static str],
}

impl Declaration {
    /// What a declaration leaves out: no filters, sorted by id or creation time, writable, nothing
    /// linked on create.
    pub const DEFAULTS: Declaration = Declaration {
        name: "",
        description: "",
        attributes: &[],
        relationships: &[],
        filters: &[],
        sorts: &[SortDef { name: "id", column: "id" }, SortDef { name: "created-at", column: "created_at" }],
        read_only: false,
        creatable_relationships: &[],
    };
}

#[async_trait]
pub trait ResourceKind: Send + Sync {
    fn declaration(&self) -> &'static Declaration;
    fn name(&self) -> &'static str {
        self.declaration().name
    }
    fn description(&self) -> &'static str {
        self.declaration().description
    }
    fn attributes(&self) -> &'static [AttrDef] {
        self.declaration().attributes
    }
    fn relationships(&self) -> &'static [RelDef] {
        self.declaration().relationships
    }
    fn filters(&self) -> &'static [FilterDef] {
        self.declaration().filters
    }
    fn sorts(&self) -> &'static [SortDef] {
        self.declaration().sorts
    }
    fn read_only(&self) -> bool {
        self.declaration().read_only
    }
    fn creatable_relationships(&self) -> &'static [&'static str] {
        self.declaration().creatable_relationships
    }

    async fn list(&self, cx: &Cx<'_>, params: &ListParams) -> Result<Listing, Error>;
    async fn show(&self, cx: &Cx<'_>, id: i64) -> Result<ResourceObject, Error>;
    /// Creates a resource; `links` holds the creatable relationships that were sent (or implied by
    /// the URL, as in `POST /organizations/4/groups`).
    async fn create(&self, cx: &Cx<'_>, attributes: Attributes, links: LinkedIds) -> Result<ResourceObject, Error>;
    async fn update(&self, cx: &Cx<'_>, id: i64, attributes: Attributes) -> Result<ResourceObject, Error>;
    async fn delete(&self, cx: &Cx<'_>, id: i64) -> Result<(), Error>;
    /// The related resources the caller may see (the resource itself must be visible).
    async fn related(&self, cx: &Cx<'_>, id: i64, rel: &RelDef) -> Result<Vec<ResourceObject>, Error>;
    /// Changes a relationship; read-only relationships answer 403 (the default).
    async fn change_relationship(
        &self,
        _cx: &Cx<'_>,
        _id: i64,
        rel: &RelDef,
        _op: RelOp,
        _ids: Vec<i64>,
    ) -> Result<(), Error> {
        Err(Error::forbidden(format!("The {} relationship cannot be changed here", rel.name)))
    }
}
