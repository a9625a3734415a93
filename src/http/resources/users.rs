//! `users`: anyone signed in may list and read users (email and verified only for themselves and
//! admins); admins create them; a user edits their own name and handle, admins everything; admins
//! and the user themselves delete.

use async_trait::async_trait;

use super::attributes::rfc3339;
use super::kind::{
    AttrDef, AttrType, Attributes, Cx, FilterDef, FilterType, LinkedIds, Listing, RelDef, ResourceKind, SortDef,
};
use super::{apikeys, groups, identities, organizations};
use crate::error::Error;
use crate::http::jsonapi::document::ResourceObject;
use crate::service::auth::access::Caller;
use crate::service::directory::users as user_service;
use crate::store::listing::ListParams;
use crate::store::users::User;

pub struct Users;

const RELATIONSHIPS: &[RelDef] = &[
    RelDef { name: "organizations", target: "organizations", to_many: true },
    RelDef { name: "groups", target: "groups", to_many: true },
    RelDef { name: "apikeys", target: "apikeys", to_many: true },
    RelDef { name: "identities", target: "identities", to_many: true },
];
const RELATIONSHIP_NAMES: &[&str] = &["organizations", "groups", "apikeys", "identities"];

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

/// A user as `caller` may see them.
pub fn render(caller: &Caller, user: &User) -> ResourceObject {
    let private = caller.is_self_or_admin(user.id);
    ResourceObject::new("users", user.id, RELATIONSHIP_NAMES)
        .attr_if(private, "email", user.email.clone())
        .attr("full-name", user.full_name.clone())
        .attr("handle", user.handle.clone())
        .attr("admin", user.admin)
        .attr_if(private, "verified", user.verified)
        .attr("disabled", user.disabled)
        .attr("created-at", rfc3339(user.created_at))
}

async fn load(cx: &Cx<'_>, id: i64) -> Result<User, Error> {
    cx.state.store.user_by_id(id).await?.ok_or(Error::NotFound)
}

#[async_trait]
impl ResourceKind for Users {
    fn name(&self) -> &'static str {
        "users"
    }
    fn description(&self) -> &'static str {
        "People who can log in."
    }
    fn attributes(&self) -> &'static [AttrDef] {
        ATTRIBUTES
    }
    fn relationships(&self) -> &'static [RelDef] {
        RELATIONSHIPS
    }
    fn filters(&self) -> &'static [FilterDef] {
        &[
            FilterDef { name: "handle", column: "handle", ty: FilterType::Text },
            FilterDef { name: "full-name", column: "full_name", ty: FilterType::Text },
            FilterDef { name: "admin", column: "admin", ty: FilterType::Boolean },
            FilterDef { name: "disabled", column: "disabled", ty: FilterType::Boolean },
        ]
    }
    fn sorts(&self) -> &'static [SortDef] {
        &[
            SortDef { name: "id", column: "id" },
            SortDef { name: "created-at", column: "created_at" },
            SortDef { name: "handle", column: "handle" },
            SortDef { name: "full-name", column: "full_name" },
        ]
    }

    async fn list(&self, cx: &Cx<'_>, params: &ListParams) -> Result<Listing, Error> {
        let page = cx.state.store.list_users(params).await?;
        Ok(Listing { items: page.rows.iter().map(|u| render(cx.caller, u)).collect(), total: page.total })
    }

    async fn show(&self, cx: &Cx<'_>, id: i64) -> Result<ResourceObject, Error> {
        Ok(render(cx.caller, &load(cx, id).await?))
    }

    async fn create(&self, cx: &Cx<'_>, attributes: Attributes, _links: LinkedIds) -> Result<ResourceObject, Error> {
        if !cx.caller.is_admin() {
            return Err(Error::forbidden("Only admins create users"));
        }
        let new = user_service::NewUserRequest {
            email: attributes.text("email").flatten().unwrap_or_default(),
            password: attributes.text("password").flatten(),
            handle: attributes.text("handle").flatten(),
            full_name: attributes.text("full-name").flatten(),
            admin: attributes.flag("admin").unwrap_or(false),
            verified: attributes.flag("verified").unwrap_or(false),
        };
        let user = user_service::create_user(&cx.state.directory, &cx.state.auth.hasher, new).await?;
        Ok(render(cx.caller, &user))
    }

    async fn update(&self, cx: &Cx<'_>, id: i64, attributes: Attributes) -> Result<ResourceObject, Error> {
        let update = user_service::UserUpdate {
            email: attributes.text("email"),
            handle: attributes.text("handle"),
            full_name: attributes.text("full-name"),
            admin: attributes.flag("admin"),
            verified: attributes.flag("verified"),
            disabled: attributes.flag("disabled"),
        };
        let saved = user_service::update_user(&cx.state.account, cx.caller, id, update, cx.request).await?;
        Ok(render(cx.caller, &saved))
    }

    async fn delete(&self, cx: &Cx<'_>, id: i64) -> Result<(), Error> {
        load(cx, id).await?;
        user_service::delete_user(&cx.state.directory, cx.state.sessions(), cx.caller, id).await
    }

    async fn related(&self, cx: &Cx<'_>, id: i64, rel: &RelDef) -> Result<Vec<ResourceObject>, Error> {
        let user = load(cx, id).await?;
        let store = &cx.state.store;
        match rel.name {
            "organizations" => organizations::render_all(cx, &store.organizations_of_user(user.id).await?).await,
            "groups" => {
                let mut out = Vec::new();
                for group in store.groups_of_user(user.id).await? {
                    if groups::visible(cx, &group).await? {
                        out.push(groups::render(&group));
                    }
                }
                Ok(out)
            }
            "apikeys" => {
                if !cx.caller.is_self_or_admin(user.id) {
                    return Err(Error::forbidden("Only the user and admins see a user's API keys"));
                }
                apikeys::of_user(cx, user.id).await
            }
            "identities" => {
                if !cx.caller.is_self_or_admin(user.id) && !cx.caller.is_delegate() {
                    return Err(Error::forbidden("Only the user, admins and delegates see a user's identities"));
                }
                Ok(store.identities_of_user(user.id).await?.iter().map(identities::render).collect())
            }
            _ => Err(Error::NotFound),
        }
    }
}
