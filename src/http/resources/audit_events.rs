//! `audit-events`: the audit trail, read-only (writes answer 405), for global admins only.
//! Newest first unless `sort` says otherwise; `filter[since]` / `filter[until]` bound the time.

use async_trait::async_trait;

use super::kind::{
    AttrDef, AttrType, Attributes, Cx, Declaration, FilterDef, FilterType, LinkedIds, Listing, RelDef, ResourceKind,
    SortDef,
};
use super::render;
use crate::error::Error;
use crate::http::jsonapi::document::ResourceObject;
use crate::service::directory::audit_trail;
use crate::store::listing::ListParams;

pub struct AuditEvents;

const ATTRIBUTES: &[AttrDef] = &[
    AttrDef::read_only(
        "actor",
        AttrType::String,
        "Who acted: user:<id>, delegate:<name>, apikey:<access key>, cli[:<os user>], system or anonymous.",
    ),
    AttrDef::read_only("action", AttrType::String, "What happened, for example login.password or user.disable."),
    AttrDef::read_only("target", AttrType::String, "What it happened to, for example user:17 (may be null).")
        .optional(),
    AttrDef::read_only("ip", AttrType::String, "The client's address, for events caused by a request.").optional(),
    AttrDef::read_only("at", AttrType::DateTime, "When it happened."),
    AttrDef::read_only("details", AttrType::Object, "A small JSON object with the particulars (never secrets).")
        .optional(),
    AttrDef::read_only(
        "request-id",
        AttrType::String,
        "The X-Request-Id of the request that caused it (the first one, when occurrences is above 1).",
    )
    .optional(),
    AttrDef::read_only(
        "occurrences",
        AttrType::Count,
        "How many identical events this row stands for: 1, or more when a client, API key or delegate did the same thing from the same address several times in one second and the events were written together.",
    ),
];

const FILTERS: &[FilterDef] = &[
    FilterDef { name: "actor", column: "actor", ty: FilterType::Text },
    FilterDef { name: "action", column: "action", ty: FilterType::Text },
    FilterDef { name: "target", column: "target", ty: FilterType::Text },
    FilterDef { name: "request-id", column: "request_id", ty: FilterType::Text },
    FilterDef { name: "since", column: "occurred_at", ty: FilterType::Since },
    FilterDef { name: "until", column: "occurred_at", ty: FilterType::Until },
];

/// Writes are refused: the trail is a record.
fn read_only() -> Error {
    Error::forbidden("The audit trail is read-only")
}

static DECLARATION: Declaration = Declaration {
    name: "audit-events",
    description: "The append-only audit trail (admins only; read-only).",
    attributes: ATTRIBUTES,
    relationships: &[],
    filters: FILTERS,
    sorts: &[SortDef { name: "at", column: "occurred_at" }, SortDef { name: "id", column: "id" }],
    read_only: true,
    ..Declaration::DEFAULTS
};

#[async_trait]
impl ResourceKind for AuditEvents {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn list(&self, cx: &Cx<'_>, params: &ListParams) -> Result<Listing, Error> {
        Ok(Listing::of(&audit_trail::list(&cx.state.directory, cx.caller, params).await?, render::audit_event))
    }

    async fn show(&self, cx: &Cx<'_>, id: i64) -> Result<ResourceObject, Error> {
        Ok(render::audit_event(&audit_trail::show(&cx.state.directory, cx.caller, id).await?))
    }

    async fn create(&self, _cx: &Cx<'_>, _attributes: Attributes, _links: LinkedIds) -> Result<ResourceObject, Error> {
        Err(read_only())
    }

    async fn update(&self, _cx: &Cx<'_>, _id: i64, _attributes: Attributes) -> Result<ResourceObject, Error> {
        Err(read_only())
    }

    async fn delete(&self, _cx: &Cx<'_>, _id: i64) -> Result<(), Error> {
        Err(read_only())
    }

    async fn related(&self, _cx: &Cx<'_>, _id: i64, _rel: &RelDef) -> Result<Vec<ResourceObject>, Error> {
        Err(Error::NotFound)
    }
}
