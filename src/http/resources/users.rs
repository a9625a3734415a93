//! `users`: anyone signed in may list and read users (email and verified only for themselves and
//! admins); admins create them; a user edits their own name and handle, admins everything; admins
//! and the user themselves delete. The rules are `service::directory::users`.

use async_trait::async_trait;

use super::kind::{
    AttrDef, AttrType, Attributes, Cx, Declaration, FilterDef, FilterType, LinkedIds, Listing, RelDef, ResourceKind,
    SortDef,
};
use super::render;
use crate::domain::{Email, Handle, Password, Submitted};
use crate::error::Error;
use crate::http::jsonapi::document::ResourceObject;
use crate::service::directory::{api_keys, groups, identities, organizations, users};
use crate::store::listing::ListParams;

pub struct Users;

const RELATIONSHIPS: &[RelDef] = &[
    RelDef { name: "organizations", target: "organizations", to_many: true },
    RelDef { name: "groups", target: "groups", to_many: true },
    RelDef { name: "apikeys", target: "apikeys", to_many: true },
    RelDef { name: "identities", target: "identities", to_many: true },
];

const ATTRIBUTES: &[AttrDef] = &[
    AttrDef::writable("email", AttrType::String, "Shown only to the user and to admins.").required(),
    AttrDef::writable("full-name", AttrType::String, "The user's name."),
    AttrDef::writable("handle", AttrType::String, "Unique short name (derived from the email when not given)."),
    AttrDef::writable("admin", AttrType::Boolean, "Global admin; only admins change it.").required(),
    AttrDef::writable("verified", AttrType::Boolean, "Email verified; shown to the user and admins, set by admins.")
        .required(),
    AttrDef::writable("disabled", AttrType::Boolean, "A disabled user cannot log in; set by admins.").required(),
    AttrDef::on_create("password", AttrType::String, "Initial password (admins creating a user); never shown.")
        .secret(),
    AttrDef::read_only("created-at", AttrType::DateTime, "When the user was created."),
];

static DECLARATION: Declaration = Declaration {
    name: "users",
    description: "People who can log in.",
    attributes: ATTRIBUTES,
    relationships: RELATIONSHIPS,
    filters: &[
        FilterDef { name: "handle", column: "handle", ty: FilterType::Text },
        FilterDef { name: "full-name", column: "full_name", ty: FilterType::Text },
        FilterDef { name: "admin", column: "admin", ty: FilterType::Boolean },
        FilterDef { name: "disabled", column: "disabled", ty: FilterType::Boolean },
    ],
    sorts: &[
        SortDef { name: "id", column: "id" },
        SortDef { name: "created-at", column: "created_at" },
        SortDef { name: "handle", column: "handle" },
        SortDef { name: "full-name", column: "full_name" },
    ],
    ..Declaration::DEFAULTS
};

#[async_trait]
impl ResourceKind for Users {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn list(&self, cx: &Cx<'_>, params: &ListParams) -> Result<Listing, Error> {
        Ok(Listing::of(&users::list(&cx.state.directory, params).await?, |u| render::user(cx.caller, u)))
    }

    async fn show(&self, cx: &Cx<'_>, id: i64) -> Result<ResourceObject, Error> {
        Ok(render::user(cx.caller, &users::load(&cx.state.directory, id).await?))
    }

    async fn create(&self, cx: &Cx<'_>, attributes: Attributes, _links: LinkedIds) -> Result<ResourceObject, Error> {
        let new = users::NewUserRequest {
            email: Submitted::parse(attributes.text("email").flatten().unwrap_or_default(), Email::parse),
            password: attributes.parsed("password", Password::parse).flatten(),
            handle: attributes.parsed("handle", Handle::parse).flatten(),
            full_name: attributes.text("full-name").flatten(),
            admin: attributes.flag("admin").unwrap_or(false),
            verified: attributes.flag("verified").unwrap_or(false),
        };
        let user = users::create(&cx.state.directory, &cx.state.auth.hasher, cx.caller, new).await?;
        Ok(render::user(cx.caller, &user))
    }

    async fn update(&self, cx: &Cx<'_>, id: i64, attributes: Attributes) -> Result<ResourceObject, Error> {
        let update = users::UserUpdate {
            email: attributes.parsed("email", Email::parse),
            handle: attributes.parsed("handle", Handle::parse),
            full_name: attributes.text("full-name"),
            admin: attributes.flag("admin"),
            verified: attributes.flag("verified"),
            disabled: attributes.flag("disabled"),
        };
        let saved = users::update_user(&cx.state.account, cx.caller, id, update, cx.request).await?;
        Ok(render::user(cx.caller, &saved))
    }

    async fn delete(&self, cx: &Cx<'_>, id: i64) -> Result<(), Error> {
        users::delete_user(&cx.state.directory, cx.state.sessions(), cx.caller, id).await
    }

    async fn related(&self, cx: &Cx<'_>, id: i64, rel: &RelDef) -> Result<Vec<ResourceObject>, Error> {
        let (directory, caller) = (&cx.state.directory, cx.caller);
        match rel.name {
            "organizations" => Ok(render::organizations(&organizations::of_user(directory, caller, id).await?)),
            "groups" => Ok(render::groups(&groups::of_user(directory, caller, id).await?)),
            "apikeys" => Ok(render::api_keys(&api_keys::of_user(directory, caller, id).await?)),
            "identities" => Ok(render::identities(&identities::of_user(directory, caller, id).await?)),
            _ => Err(Error::NotFound),
        }
    }
}
