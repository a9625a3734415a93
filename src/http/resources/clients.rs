//! `clients`: the OpenID Provider's relying parties, for admin users only, as `authify client`
//! manages them. The secret is in the create response only. The rules are
//! `service::directory::clients`.

use async_trait::async_trait;

use super::kind::{
    AttrDef, AttrType, Attributes, Cx, Declaration, FilterDef, FilterType, LinkedIds, Listing, RelDef, ResourceKind,
};
use super::render;
use crate::error::Error;
use crate::http::jsonapi::document::ResourceObject;
use crate::service::directory::clients::{self, ClientSpec};
use crate::store::listing::ListParams;

pub struct Clients;

const ATTRIBUTES: &[AttrDef] = &[
    AttrDef::on_create("name", AttrType::String, "Unique name shown on the sign-in and consent pages (at most 64).")
        .required(),
    AttrDef::on_create("redirect-uris", AttrType::StringList, "Where codes are sent; matched exactly.").required(),
    AttrDef::on_create("post-logout-redirect-uris", AttrType::StringList, "Where logout may send the browser."),
    AttrDef::on_create("scopes", AttrType::StringList, "Scopes a confidential client may ask for itself."),
    AttrDef::on_create("public", AttrType::Boolean, "No secret (a browser or native app); PKCE is required."),
    AttrDef::on_create("first-party", AttrType::Boolean, "Users are not asked to consent."),
    AttrDef::read_only("client-id", AttrType::String, "The OAuth client_id."),
    AttrDef::read_only("client-secret", AttrType::String, "Confidential clients: only in the create response."),
    AttrDef::read_only("created-at", AttrType::DateTime, "When the client was registered."),
];

static DECLARATION: Declaration = Declaration {
    name: "clients",
    description: "OAuth 2.0 / OpenID Connect relying parties of Authify's OpenID Provider.",
    attributes: ATTRIBUTES,
    relationships: &[],
    filters: &[FilterDef { name: "name", column: "name", ty: FilterType::Text }],
    ..Declaration::DEFAULTS
};

#[async_trait]
impl ResourceKind for Clients {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn list(&self, cx: &Cx<'_>, params: &ListParams) -> Result<Listing, Error> {
        Ok(Listing::of(&clients::list(&cx.state.directory, cx.caller, params).await?, render::client))
    }

    async fn show(&self, cx: &Cx<'_>, id: i64) -> Result<ResourceObject, Error> {
        Ok(render::client(&clients::show(&cx.state.directory, cx.caller, id).await?))
    }

    async fn create(&self, cx: &Cx<'_>, attributes: Attributes, _links: LinkedIds) -> Result<ResourceObject, Error> {
        let spec = ClientSpec {
            name: attributes.text("name").flatten().unwrap_or_default(),
            redirect_uris: attributes.list("redirect-uris").unwrap_or_default(),
            post_logout_redirect_uris: attributes.list("post-logout-redirect-uris").unwrap_or_default(),
            scopes: attributes.list("scopes").unwrap_or_default(),
            public: attributes.flag("public").unwrap_or(false),
            first_party: attributes.flag("first-party").unwrap_or(false),
        };
        let registered = clients::create(&cx.state.directory, cx.caller, spec).await?;
        Ok(render::client(&registered.client).attr("client-secret", registered.secret))
    }

    async fn update(&self, cx: &Cx<'_>, id: i64, _attributes: Attributes) -> Result<ResourceObject, Error> {
        clients::show(&cx.state.directory, cx.caller, id).await?;
        Err(Error::forbidden(
            "Clients cannot be changed; remove and add again, or rotate the secret with authify client rotate-secret",
        ))
    }

    async fn delete(&self, cx: &Cx<'_>, id: i64) -> Result<(), Error> {
        clients::delete(&cx.state.directory, cx.state.sessions(), cx.caller, id).await
    }

    async fn related(&self, _cx: &Cx<'_>, _id: i64, _rel: &RelDef) -> Result<Vec<ResourceObject>, Error> {
        Err(Error::NotFound)
    }
}
