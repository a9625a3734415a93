//! `trusted-delegates`: admin users only (a delegate cannot mint other delegates). The secret is in
//! the create response only, as with `authify delegate add`.

use async_trait::async_trait;

use super::attributes::rfc3339;
use super::kind::{AttrDef, AttrType, Attributes, Cx, FilterDef, FilterType, LinkedIds, Listing, RelDef, ResourceKind};
use crate::error::Error;
use crate::http::jsonapi::document::ResourceObject;
use crate::service::directory::delegates as delegate_service;
use crate::store::delegates::Delegate;
use crate::store::listing::ListParams;

pub struct TrustedDelegates;

const ATTRIBUTES: &[AttrDef] = &[
    AttrDef::on_create("name", AttrType::String, "Unique name ([A-Za-z0-9._-], at most 64).").required(),
    AttrDef::on_create("description", AttrType::String, "What the delegate is."),
    AttrDef::read_only("access-key", AttrType::String, "Sent as X-Authify-Access; not secret."),
    AttrDef::read_only("secret-key", AttrType::String, "Sent as X-Authify-Secret; only in the create response."),
    AttrDef::on_create("scopes", AttrType::StringList, "Scopes the delegate may use."),
    AttrDef::read_only("created-at", AttrType::DateTime, "When the delegate was registered."),
];

fn render(delegate: &Delegate) -> ResourceObject {
    ResourceObject::new("trusted-delegates", delegate.id, &[])
        .attr("name", delegate.name.clone())
        .attr("description", delegate.description.clone())
        .attr("access-key", delegate.access_key.clone())
        .attr("scopes", delegate.scopes.split_whitespace().collect::<Vec<_>>())
        .attr("created-at", rfc3339(delegate.created_at))
}

fn require_admin_user(cx: &Cx<'_>) -> Result<(), Error> {
    if cx.caller.is_admin_user() { Ok(()) } else { Err(Error::forbidden("Only admins manage trusted delegates")) }
}

async fn load(cx: &Cx<'_>, id: i64) -> Result<Delegate, Error> {
    require_admin_user(cx)?;
    cx.state.store.delegate_by_id(id).await?.ok_or(Error::NotFound)
}

#[async_trait]
impl ResourceKind for TrustedDelegates {
    fn name(&self) -> &'static str {
        "trusted-delegates"
    }
    fn description(&self) -> &'static str {
        "Applications trusted to act for users (X-Authify-Access / X-Authify-Secret)."
    }
    fn attributes(&self) -> &'static [AttrDef] {
        ATTRIBUTES
    }
    fn relationships(&self) -> &'static [RelDef] {
        &[]
    }
    fn filters(&self) -> &'static [FilterDef] {
        &[FilterDef { name: "name", column: "name", ty: FilterType::Text }]
    }

    async fn list(&self, cx: &Cx<'_>, params: &ListParams) -> Result<Listing, Error> {
        require_admin_user(cx)?;
        let page = cx.state.store.list_delegates_page(params).await?;
        Ok(Listing { items: page.rows.iter().map(render).collect(), total: page.total })
    }

    async fn show(&self, cx: &Cx<'_>, id: i64) -> Result<ResourceObject, Error> {
        Ok(render(&load(cx, id).await?))
    }

    async fn create(&self, cx: &Cx<'_>, attributes: Attributes, _links: LinkedIds) -> Result<ResourceObject, Error> {
        require_admin_user(cx)?;
        let created = delegate_service::create_delegate(
            &cx.state.directory,
            &attributes.text("name").flatten().unwrap_or_default(),
            attributes.text("description").flatten(),
            attributes.list("scopes"),
        )
        .await?;
        Ok(render(&created.delegate).attr("secret-key", created.secret))
    }

    async fn update(&self, cx: &Cx<'_>, id: i64, _attributes: Attributes) -> Result<ResourceObject, Error> {
        load(cx, id).await?;
        Err(Error::forbidden("Trusted delegates cannot be changed; remove and add again"))
    }

    async fn delete(&self, cx: &Cx<'_>, id: i64) -> Result<(), Error> {
        let delegate = load(cx, id).await?;
        delegate_service::remove(&cx.state.directory, cx.state.sessions(), delegate).await.map(drop)
    }

    async fn related(&self, _cx: &Cx<'_>, _id: i64, _rel: &RelDef) -> Result<Vec<ResourceObject>, Error> {
        Err(Error::NotFound)
    }
}
