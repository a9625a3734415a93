//! `passkeys`: a user's passkeys. Registered through the ceremony at
//! `POST /me/passkeys/register/start|finish`, never created here; the owner and admins read,
//! rename and delete them. The rules are `service::directory::passkeys`.

use async_trait::async_trait;

use super::kind::{
    AttrDef, AttrType, Attributes, Cx, Declaration, FilterDef, FilterType, LinkedIds, Listing, RelDef, ResourceKind,
};
use super::render;
use crate::error::Error;
use crate::http::jsonapi::document::ResourceObject;
use crate::service::directory::passkeys;
use crate::store::listing::ListParams;

pub struct Passkeys;

const RELATIONSHIPS: &[RelDef] = &[RelDef { name: "user", target: "users", to_many: false }];

const ATTRIBUTES: &[AttrDef] = &[
    AttrDef::writable("name", AttrType::String, "The owner's label for the passkey."),
    AttrDef::read_only("backup-eligible", AttrType::Boolean, "Whether the passkey may be synced between devices."),
    AttrDef::read_only("backed-up", AttrType::Boolean, "Whether it was synced when last used."),
    AttrDef::read_only("last-used-at", AttrType::DateTime, "Its last sign-in.").optional(),
    AttrDef::read_only("created-at", AttrType::DateTime, "When it was registered."),
];

static DECLARATION: Declaration = Declaration {
    name: "passkeys",
    description: "A user's passkeys (WebAuthn credentials); registered at POST /me/passkeys/register/start.",
    attributes: ATTRIBUTES,
    relationships: RELATIONSHIPS,
    filters: &[
        FilterDef { name: "name", column: "name", ty: FilterType::Text },
        FilterDef { name: "user", column: "user_id", ty: FilterType::Integer },
    ],
    ..Declaration::DEFAULTS
};

#[async_trait]
impl ResourceKind for Passkeys {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn list(&self, cx: &Cx<'_>, params: &ListParams) -> Result<Listing, Error> {
        Ok(Listing::of(&passkeys::list(&cx.state.directory, cx.caller, params).await?, render::passkey))
    }

    async fn show(&self, cx: &Cx<'_>, id: i64) -> Result<ResourceObject, Error> {
        Ok(render::passkey(&passkeys::show(&cx.state.directory, cx.caller, id).await?))
    }

    async fn create(&self, _cx: &Cx<'_>, _attributes: Attributes, _links: LinkedIds) -> Result<ResourceObject, Error> {
        Err(Error::forbidden("Passkeys are registered with POST /me/passkeys/register/start and /finish"))
    }

    async fn update(&self, cx: &Cx<'_>, id: i64, attributes: Attributes) -> Result<ResourceObject, Error> {
        Ok(render::passkey(&passkeys::rename(&cx.state.directory, cx.caller, id, attributes.text("name")).await?))
    }

    async fn delete(&self, cx: &Cx<'_>, id: i64) -> Result<(), Error> {
        passkeys::delete(&cx.state.directory, cx.caller, id).await
    }

    async fn related(&self, cx: &Cx<'_>, id: i64, rel: &RelDef) -> Result<Vec<ResourceObject>, Error> {
        if rel.name != "user" {
            return Err(Error::NotFound);
        }
        Ok(vec![render::user(cx.caller, &passkeys::owner(&cx.state.directory, cx.caller, id).await?)])
    }
}
