//! `groups`: belong to one organization. Its admins and global admins create, edit and delete
//! them and manage their `users` (who must be members of the organization); its members read them;
//! only global admins list every group (`/groups`). The rules are `service::directory::groups`.

use async_trait::async_trait;

use super::kind::{
    AttrDef, AttrType, Attributes, Cx, Declaration, FilterDef, FilterType, LinkedIds, Listing, RelDef, RelOp,
    ResourceKind, SortDef,
};
use super::render;
use crate::error::Error;
use crate::http::jsonapi::document::ResourceObject;
use crate::service::directory::groups::{self, Relation};
use crate::store::listing::ListParams;

pub struct Groups;

const RELATIONSHIPS: &[RelDef] = &[
    RelDef { name: "organization", target: "organizations", to_many: false },
    RelDef { name: "users", target: "users", to_many: true },
];

const ATTRIBUTES: &[AttrDef] = &[
    AttrDef::writable("name", AttrType::String, "Unique within the organization.").required(),
    AttrDef::writable("description", AttrType::String, "Free text."),
    AttrDef::read_only("created-at", AttrType::DateTime, "When the group was created."),
];

fn relation(rel: &RelDef) -> Result<Relation, Error> {
    match rel.name {
        "organization" => Ok(Relation::Organization),
        "users" => Ok(Relation::Users),
        _ => Err(Error::NotFound),
    }
}

static DECLARATION: Declaration = Declaration {
    name: "groups",
    description: "Sets of an organization's members.",
    attributes: ATTRIBUTES,
    relationships: RELATIONSHIPS,
    filters: &[
        FilterDef { name: "name", column: "name", ty: FilterType::Text },
        FilterDef { name: "organization", column: "organization_id", ty: FilterType::Integer },
    ],
    sorts: &[
        SortDef { name: "id", column: "id" },
        SortDef { name: "created-at", column: "created_at" },
        SortDef { name: "name", column: "name" },
    ],
    creatable_relationships: &["organization"],
    ..Declaration::DEFAULTS
};

#[async_trait]
impl ResourceKind for Groups {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn list(&self, cx: &Cx<'_>, params: &ListParams) -> Result<Listing, Error> {
        Ok(Listing::of(&groups::list(&cx.state.directory, cx.caller, params).await?, render::group))
    }

    async fn show(&self, cx: &Cx<'_>, id: i64) -> Result<ResourceObject, Error> {
        Ok(render::group(&groups::show(&cx.state.directory, cx.caller, id).await?))
    }

    async fn create(&self, cx: &Cx<'_>, attributes: Attributes, links: LinkedIds) -> Result<ResourceObject, Error> {
        let org_id = match links.get("organization") {
            Some([id]) => *id,
            _ => {
                return Err(Error::bad_document(
                    "/data/relationships/organization",
                    "is required: the organization the group belongs to",
                ));
            }
        };
        let (name, description) = (attributes.text("name"), attributes.text("description"));
        let group = groups::create(&cx.state.directory, cx.caller, org_id, name, description).await?;
        Ok(render::group(&group))
    }

    async fn update(&self, cx: &Cx<'_>, id: i64, attributes: Attributes) -> Result<ResourceObject, Error> {
        let (name, description) = (attributes.text("name"), attributes.text("description"));
        let group = groups::update(&cx.state.directory, cx.caller, id, name, description).await?;
        Ok(render::group(&group))
    }

    async fn delete(&self, cx: &Cx<'_>, id: i64) -> Result<(), Error> {
        groups::delete(&cx.state.directory, cx.caller, id).await
    }

    async fn related(&self, cx: &Cx<'_>, id: i64, rel: &RelDef) -> Result<Vec<ResourceObject>, Error> {
        let directory = &cx.state.directory;
        Ok(match relation(rel)? {
            Relation::Organization => {
                vec![render::organization(&groups::organization(directory, cx.caller, id).await?)]
            }
            Relation::Users => render::users(cx.caller, &groups::members(directory, cx.caller, id).await?),
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
        groups::change_members(&cx.state.directory, cx.caller, id, relation(rel)?, op.into(), ids).await
    }
}
