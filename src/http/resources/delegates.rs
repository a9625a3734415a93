//! `trusted-delegates`: admin users only (a delegate cannot mint other delegates). The secret is in
//! the create response only, as with `authify delegate add`. The rules are
//! `service::directory::delegates`.

use async_trait::async_trait;

use super::kind::{
    AttrDef, AttrType, Attributes, Cx, Declaration, FilterDef, FilterType, LinkedIds, Listing, RelDef, ResourceKind,
};
use super::render;
use crate::error::Error;
use crate::http::jsonapi::document::ResourceObject;
use crate::service::directory::delegates;
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

static DECLARATION: Declaration = Declaration {
    name: "trusted-delegates",
    description: "Applications trusted to act for users (X-Authify-Access / X-Authify-Secret).",
    attributes: ATTRIBUTES,
    relationships: &[],
    filters: &[FilterDef { name: "name", column: "name", ty: FilterType::Text }],
    ..Declaration::DEFAULTS
};

#[async_trait]
impl ResourceKind for TrustedDelegates {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn list(&self, cx: &Cx<'_>, params: &ListParams) -> Result<Listing, Error> {
        Ok(Listing::of(&delegates::list(&cx.state.directory, cx.caller, params).await?, render::delegate))
    }

    async fn show(&self, cx: &Cx<'_>, id: i64) -> Result<ResourceObject, Error> {
        Ok(render::delegate(&delegates::show(&cx.state.directory, cx.caller, id).await?))
    }

    async fn create(&self, cx: &Cx<'_>, attributes: Attributes, _links: LinkedIds) -> Result<ResourceObject, Error> {
        let created = delegates::create(
            &cx.state.directory,
            cx.caller,
            &attributes.text("name").flatten().unwrap_or_default(),
            attributes.text("description").flatten(),
            attributes.list("scopes"),
        )
        .await?;
        Ok(render::delegate(&created.delegate).attr("secret-key", created.secret))
    }

    async fn update(&self, cx: &Cx<'_>, id: i64, _attributes: Attributes) -> Result<ResourceObject, Error> {
        match delegates::update(&cx.state.directory, cx.caller, id).await? {}
    }

    async fn delete(&self, cx: &Cx<'_>, id: i64) -> Result<(), Error> {
        delegates::delete(&cx.state.directory, cx.state.sessions(), cx.caller, id).await
    }

    async fn related(&self, _cx: &Cx<'_>, _id: i64, _rel: &RelDef) -> Result<Vec<ResourceObject>, Error> {
        Err(Error::NotFound)
    }
}
