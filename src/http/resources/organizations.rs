//! `organizations`: anyone signed in may list and read them (billing and gravatar emails only for
//! the organization's admins and global admins); anyone may create one and becomes its admin; its
//! admins and global admins edit and delete it and manage its `users` and `admins`. The rules are
//! `service::directory::organizations`.

use async_trait::async_trait;

use super::kind::{
    AttrDef, AttrType, Attributes, Cx, Declaration, FilterDef, FilterType, LinkedIds, Listing, RelDef, RelOp,
    ResourceKind, SortDef,
};
use super::render;
use crate::error::Error;
use crate::http::jsonapi::document::ResourceObject;
use crate::service::directory::organizations::{self, OrganizationEdit, Related, Relation};
use crate::store::listing::ListParams;

pub struct Organizations;

const RELATIONSHIPS: &[RelDef] = &[
    RelDef { name: "users", target: "users", to_many: true },
    RelDef { name: "admins", target: "users", to_many: true },
    RelDef { name: "groups", target: "groups", to_many: true },
];

const ATTRIBUTES: &[AttrDef] = &[
    AttrDef::writable("name", AttrType::String, "Unique name.").required(),
    AttrDef::writable("public-email", AttrType::String, "Contact address shown to everyone."),
    AttrDef::writable("gravatar-email", AttrType::String, "Shown only to the organization's admins and admins."),
    AttrDef::writable("billing-email", AttrType::String, "Shown only to the organization's admins and admins."),
    AttrDef::writable("description", AttrType::String, "Free text."),
    AttrDef::writable("url", AttrType::String, "Web site."),
    AttrDef::writable("location", AttrType::String, "Free text."),
    AttrDef::read_only("created-at", AttrType::DateTime, "When the organization was created."),
];

/// The organization's fields as the request sent them.
fn edit_from(attributes: &Attributes) -> OrganizationEdit {
    OrganizationEdit {
        name: attributes.text("name"),
        public_email: attributes.text("public-email"),
        gravatar_email: attributes.text("gravatar-email"),
        billing_email: attributes.text("billing-email"),
        description: attributes.text("description"),
        url: attributes.text("url"),
        location: attributes.text("location"),
    }
}

fn relation(rel: &RelDef) -> Result<Relation, Error> {
    match rel.name {
        "users" => Ok(Relation::Users),
        "admins" => Ok(Relation::Admins),
        "groups" => Ok(Relation::Groups),
        _ => Err(Error::NotFound),
    }
}

/// Organizations the caller belongs to (`GET /organizations/mine`).
pub async fn mine(cx: &Cx<'_>) -> Result<Listing, Error> {
    let items = render::organizations(&organizations::mine(&cx.state.directory, cx.caller).await?);
    Ok(Listing { total: items.len() as u64, items })
}

static DECLARATION: Declaration = Declaration {
    name: "organizations",
    description: "Groupings of users and groups; members and admins are relationships.",
    attributes: ATTRIBUTES,
    relationships: RELATIONSHIPS,
    filters: &[
        FilterDef { name: "name", column: "name", ty: FilterType::Text },
        FilterDef { name: "location", column: "location", ty: FilterType::Text },
    ],
    sorts: &[
        SortDef { name: "id", column: "id" },
        SortDef { name: "created-at", column: "created_at" },
        SortDef { name: "name", column: "name" },
    ],
    ..Declaration::DEFAULTS
};

#[async_trait]
impl ResourceKind for Organizations {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn list(&self, cx: &Cx<'_>, params: &ListParams) -> Result<Listing, Error> {
        let page = organizations::list(&cx.state.directory, cx.caller, params).await?;
        Ok(Listing::of(&page, render::organization))
    }

    async fn show(&self, cx: &Cx<'_>, id: i64) -> Result<ResourceObject, Error> {
        Ok(render::organization(&organizations::show(&cx.state.directory, cx.caller, id).await?))
    }

    async fn create(&self, cx: &Cx<'_>, attributes: Attributes, _links: LinkedIds) -> Result<ResourceObject, Error> {
        let created = organizations::create(&cx.state.directory, cx.caller, edit_from(&attributes)).await?;
        Ok(render::organization(&created))
    }

    async fn update(&self, cx: &Cx<'_>, id: i64, attributes: Attributes) -> Result<ResourceObject, Error> {
        let updated = organizations::update(&cx.state.directory, cx.caller, id, edit_from(&attributes)).await?;
        Ok(render::organization(&updated))
    }

    async fn delete(&self, cx: &Cx<'_>, id: i64) -> Result<(), Error> {
        organizations::delete(&cx.state.directory, cx.caller, id).await
    }

    async fn related(&self, cx: &Cx<'_>, id: i64, rel: &RelDef) -> Result<Vec<ResourceObject>, Error> {
        Ok(match organizations::related(&cx.state.directory, cx.caller, id, relation(rel)?).await? {
            Related::Users(users) => render::users(cx.caller, &users),
            Related::Groups(groups) => render::groups(&groups),
        })
    }

    async fn change_relationship(
        &self,
        cx: &Cx<'_>,
        id: i64,
        rel: &RelDef,
        op: RelOp,
        ids: Vec<i64>,
    ) -> Result<(), Error> {
        organizations::change_members(&cx.state.directory, cx.caller, id, relation(rel)?, op.into(), ids).await
    }
}
