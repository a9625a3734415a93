//! `audit-events`: the audit trail, read-only (writes answer 405), for global admins only.
//! Newest first unless `sort` says otherwise; `filter[since]` / `filter[until]` bound the time.

use async_trait::async_trait;

use super::attributes::rfc3339;
use super::kind::{
    AttrDef, AttrType, Attributes, Cx, FilterDef, FilterType, LinkedIds, Listing, RelDef, ResourceKind, SortDef,
};
use crate::error::Error;
use crate::http::jsonapi::document::ResourceObject;
use crate::store::audit_events::StoredAuditEvent;
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
    AttrDef::read_only("request-id", AttrType::String, "The X-Request-Id of the request that caused it.").optional(),
];

const FILTERS: &[FilterDef] = &[
    FilterDef { name: "actor", column: "actor", ty: FilterType::Text },
    FilterDef { name: "action", column: "action", ty: FilterType::Text },
    FilterDef { name: "target", column: "target", ty: FilterType::Text },
    FilterDef { name: "request-id", column: "request_id", ty: FilterType::Text },
    FilterDef { name: "since", column: "occurred_at", ty: FilterType::Since },
    FilterDef { name: "until", column: "occurred_at", ty: FilterType::Until },
];

fn render(event: &StoredAuditEvent) -> ResourceObject {
    // Stored as JSON text; anything else (never written by this service) is shown as a string.
    let details =
        event.detail.as_deref().map(|d| serde_json::from_str::<serde_json::Value>(d).unwrap_or_else(|_| d.into()));
    ResourceObject::new("audit-events", event.id, &[])
        .attr("actor", event.actor.clone())
        .attr("action", event.action.clone())
        .attr("target", event.target.clone())
        .attr("ip", event.client_ip.clone())
        .attr("at", rfc3339(event.occurred_at))
        .attr("details", details)
        .attr("request-id", event.request_id.clone())
}

fn require_admin(cx: &Cx<'_>) -> Result<(), Error> {
    if cx.caller.is_admin() { Ok(()) } else { Err(Error::forbidden("Only admins read the audit trail")) }
}

fn read_only() -> Error {
    Error::forbidden("The audit trail is read-only")
}

#[async_trait]
impl ResourceKind for AuditEvents {
    fn name(&self) -> &'static str {
        "audit-events"
    }
    fn description(&self) -> &'static str {
        "The append-only audit trail (admins only; read-only)."
    }
    fn attributes(&self) -> &'static [AttrDef] {
        ATTRIBUTES
    }
    fn relationships(&self) -> &'static [RelDef] {
        &[]
    }
    fn filters(&self) -> &'static [FilterDef] {
        FILTERS
    }
    fn sorts(&self) -> &'static [SortDef] {
        &[SortDef { name: "at", column: "occurred_at" }, SortDef { name: "id", column: "id" }]
    }
    fn read_only(&self) -> bool {
        true
    }

    async fn list(&self, cx: &Cx<'_>, params: &ListParams) -> Result<Listing, Error> {
        require_admin(cx)?;
        let page = cx.state.store.list_audit_events_page(params).await?;
        Ok(Listing { items: page.rows.iter().map(render).collect(), total: page.total })
    }

    async fn show(&self, cx: &Cx<'_>, id: i64) -> Result<ResourceObject, Error> {
        require_admin(cx)?;
        Ok(render(&cx.state.store.audit_event_by_id(id).await?.ok_or(Error::NotFound)?))
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
