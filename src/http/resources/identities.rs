//! `identities`: a user's logins at other services. Only trusted delegates (and, later, the
//! external-login flow) attach them, so an ordinary user can never claim someone else's external
//! account; delegates and admins list them; the owner and admins read and delete them. The rules
//! are `service::directory::identities`.

use async_trait::async_trait;

use super::kind::{
    AttrDef, AttrType, Attributes, Cx, Declaration, FilterDef, FilterType, LinkedIds, Listing, RelDef, ResourceKind,
};
use super::render;
use crate::error::Error;
use crate::http::jsonapi::document::ResourceObject;
use crate::service::directory::identities;
use crate::store::listing::ListParams;

pub struct Identities;

const RELATIONSHIPS: &[RelDef] = &[RelDef { name: "user", target: "users", to_many: false }];

const ATTRIBUTES: &[AttrDef] = &[
    AttrDef::on_create("provider", AttrType::String, "The other service, for example `github`.").required(),
    AttrDef::on_create("uid", AttrType::String, "The user's id at that service.").required(),
    AttrDef::read_only("created-at", AttrType::DateTime, "When the identity was linked."),
];

static DECLARATION: Declaration = Declaration {
    name: "identities",
    description: "A user's logins at other services; attached only by trusted delegates.",
    attributes: ATTRIBUTES,
    relationships: RELATIONSHIPS,
    filters: &[
        FilterDef { name: "provider", column: "provider", ty: FilterType::Text },
        FilterDef { name: "uid", column: "uid", ty: FilterType::Text },
        FilterDef { name: "user", column: "user_id", ty: FilterType::Integer },
    ],
    creatable_relationships: &["user"],
    ..Declaration::DEFAULTS
};

#[async_trait]
impl ResourceKind for Identities {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn list(&self, cx: &Cx<'_>, params: &ListParams) -> Result<Listing, Error> {
        Ok(Listing::of(&identities::list(&cx.state.directory, cx.caller, params).await?, render::identity))
    }

    async fn show(&self, cx: &Cx<'_>, id: i64) -> Result<ResourceObject, Error> {
        Ok(render::identity(&identities::show(&cx.state.directory, cx.caller, id).await?))
    }

    async fn create(&self, cx: &Cx<'_>, attributes: Attributes, links: LinkedIds) -> Result<ResourceObject, Error> {
        let (provider, uid) = (attributes.text("provider"), attributes.text("uid"));
        let identity = identities::link(&cx.state.directory, cx.caller, links.get("user"), provider, uid).await?;
        Ok(render::identity(&identity))
    }

    async fn update(&self, cx: &Cx<'_>, id: i64, _attributes: Attributes) -> Result<ResourceObject, Error> {
        match identities::update(&cx.state.directory, cx.caller, id).await? {}
    }

    async fn delete(&self, cx: &Cx<'_>, id: i64) -> Result<(), Error> {
        identities::delete(&cx.state.directory, cx.caller, id).await
    }

    async fn related(&self, cx: &Cx<'_>, id: i64, rel: &RelDef) -> Result<Vec<ResourceObject>, Error> {
        if rel.name != "user" {
            return Err(Error::NotFound);
        }
        Ok(vec![render::user(cx.caller, &identities::owner(&cx.state.directory, cx.caller, id).await?)])
    }
}
